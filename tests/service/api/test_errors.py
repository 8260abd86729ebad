"""Refusals: auth, malformed/oversized/wrongly typed bodies, unknown things, limits. All problem+json."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from api_kit import API_KEY, Api, make_settings, running_api
from model_server import ModelServer, openai_agent
from service_kit import replay_agent

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-key-at-all-000"}, {"Authorization": f"Basic {API_KEY}"}],
    ids=["missing", "unknown", "wrong-scheme"],
)
async def test_every_v1_route_needs_a_valid_key(api: Api, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=api.url, headers=headers) as anonymous:
        for method, path in [
            ("GET", "/v1/specs"),
            ("POST", "/v1/threads"),
            ("GET", "/v1/runs/x"),
            ("GET", "/v1/runs/x/events"),
            ("POST", "/v1/chat/completions"),
        ]:
            response = await anonymous.request(method, path, json={})
            assert_problem(response, 401, "Authorization")
            assert response.headers["www-authenticate"] == "Bearer"
        assert (await anonymous.get("/health")).status_code == 200


async def test_malformed_json_names_the_body(api: Api) -> None:
    thread = await api.thread()
    response = await api.client.post(
        f"/v1/threads/{thread}/runs", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "body")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"task": "x"}, "spec"),
        ({"spec": "a", "strategy": "sometimes"}, "strategy"),
        ({"spec": 5}, "spec"),
        ({"spec": "a", "metadata": []}, "metadata"),
        ({"spec": "a", "surprise": 1}, "surprise"),
        ({"spec": "a", "task": [{"type": "NoSuchMessage"}]}, "task.0"),
        ({"spec": "a", "task": [{"type": "ToolCallRequestEvent", "source": "x", "content": []}]}, "task.0"),
        ({"spec": "nosuchspec", "task": "x"}, "spec"),
        ({"spec": "a@zero", "task": "x"}, "spec"),
    ],
)
async def test_wrongly_typed_run_bodies_name_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    await api.put_spec("a", replay_agent("a", ["x"]))
    thread = await api.thread()
    assert_problem(await api.client.post(f"/v1/threads/{thread}/runs", json=body), 422, field)


async def test_oversized_bodies_get_413_declared_or_chunked(api: Api) -> None:
    big = b'{"metadata": {"x": "' + b"y" * 20_000 + b'"}}'
    assert_problem(await api.client.post("/v1/threads", content=big), 413, "body")

    async def chunks() -> Any:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    assert_problem(await api.client.post("/v1/threads", content=chunks()), 413, "body")
    small = await api.client.post("/v1/threads", json={"metadata": {"a": 1}})
    assert small.status_code == 201


async def test_unknown_things_are_404_problems(api: Api) -> None:
    assert_problem(await api.client.get("/v1/threads/nope"), 404)
    assert_problem(await api.client.get("/v1/runs/nope"), 404)
    assert_problem(await api.client.post("/v1/threads/nope/runs", json={"spec": "a"}), 404)
    assert_problem(await api.client.get("/v1/nothing-here"), 404)
    assert_problem(await api.client.get("/v1/specs/none"), 404)


async def test_bad_last_event_id_names_the_header(api: Api) -> None:
    await api.put_spec("a", replay_agent("a", ["x"]))
    run = await api.start(await api.thread(), "a", "hi")
    response = await api.client.get(f"/v1/runs/{run['id']}/events", headers={"Last-Event-ID": "abc"})
    assert_problem(response, 422, "Last-Event-ID")


async def test_sse_connections_past_the_limit_get_429(database: Any, model_server: ModelServer) -> None:
    settings = make_settings(database, security={"max_sse_connections": 1})
    async with running_api(settings, database) as api:
        await api.put_spec("alice", openai_agent("alice", model_server.url))
        gate = model_server.gate(lambda body: True)
        run = await api.start(await api.thread(), "alice", "hi")
        async with api.client.stream("GET", f"/v1/runs/{run['id']}/events") as first:
            assert first.status_code == 200
            second = await api.client.get(f"/v1/runs/{run['id']}/events")
            assert_problem(second, 429)
            assert int(second.headers["retry-after"]) >= 1
            gate.open()
        await api.wait_status(run["id"], "succeeded")


async def test_a_full_queue_refuses_with_429_and_never_drops_an_accepted_run(
    database: Any, model_server: ModelServer
) -> None:
    settings = make_settings(database, agents={"max_concurrent": 1, "max_queue": 1})
    async with running_api(settings, database) as api:
        await api.put_spec("alice", openai_agent("alice", model_server.url))
        gate = model_server.gate(lambda body: True)
        running = await api.start(await api.thread(), "alice", "one")
        await asyncio.to_thread(gate.arrived.wait, 30)
        queued = await api.start(await api.thread(), "alice", "two")
        refused = await api.client.post(f"/v1/threads/{await api.thread()}/runs", json={"spec": "alice"})
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) >= 1
        gate.open()
        await api.wait_status(running["id"], "succeeded")
        await api.wait_status(queued["id"], "succeeded")


async def test_memory_backpressure_refuses_new_runs(database: Any) -> None:
    class Critical:
        backpressure = True

    async with running_api(make_settings(database), database, memory_monitor=Critical()) as api:
        await api.put_spec("a", replay_agent("a", ["x"]))
        thread = await api.thread()
        assert_problem(await api.client.post(f"/v1/threads/{thread}/runs", json={"spec": "a"}), 429)


async def test_a_refused_stream_starts_no_run(database: Any, model_server: ModelServer) -> None:
    settings = make_settings(database, security={"max_sse_connections": 1})
    async with running_api(settings, database) as api:
        await api.put_spec("alice", openai_agent("alice", model_server.url))
        gate = model_server.gate(lambda body: True)
        thread = await api.thread()
        run = await api.start(thread, "alice", "hi")
        async with api.client.stream("GET", f"/v1/runs/{run['id']}/events") as first:
            assert first.status_code == 200
            other = await api.thread()
            refused = await api.client.post(
                f"/v1/threads/{other}/runs/stream", json={"spec": "alice", "task": "x"}
            )
            assert_problem(refused, 429)
            assert (await api.client.get(f"/v1/threads/{other}/runs")).json() == []
            gate.open()
