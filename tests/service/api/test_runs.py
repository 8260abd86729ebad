"""Runs through the API: background, streamed and waited-for runs, thread state, events, resume."""

from __future__ import annotations

import asyncio
from typing import Any

from api_kit import Api, make_settings, running_api
from model_server import ModelServer, openai_agent
from service_kit import read_sse, replay_agent


async def test_run_wait_returns_the_finished_run_and_its_messages(api: Api) -> None:
    await api.put_spec("helper", replay_agent("helper", ["Paris."]))
    thread = await api.thread()
    response = await api.client.post(
        f"/v1/threads/{thread}/runs/wait", json={"spec": "helper", "task": "Capital of France?"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["run"]["status"] == "succeeded"
    assert body["run"]["stop_reason"] == "Maximum number of turns 1 reached."
    assert body["run"]["turns"] >= 1
    assert [(m["source"], m["content"]) for m in body["messages"]] == [
        ("user", "Capital of France?"),
        ("helper", "Paris."),
    ]
    assert [m["content"] for m in await api.messages(thread)] == ["Capital of France?", "Paris."]


async def test_a_thread_keeps_its_team_state_between_runs(api: Api, model_server: ModelServer) -> None:
    await api.put_spec("alice", openai_agent("alice", model_server.url))
    thread = await api.thread()
    first = await api.start(thread, "alice", "one")
    await api.wait_status(first["id"], "succeeded")
    second = await api.start(thread, "alice", "two")
    await api.wait_status(second["id"], "succeeded")
    # The second prompt holds the first run: system, "one", the reply, "two".
    assert [m["content"] for m in await api.messages(thread)] == ["one", "alice #2", "two", "alice #4"]


async def test_events_are_numbered_and_end_with_status_and_end(api: Api) -> None:
    await api.put_spec("helper", replay_agent("helper", ["hi"]))
    thread = await api.thread()
    run = await api.start(thread, "helper", "hello")
    events = await api.events(run["id"])
    assert [int(e.id) for e in events if e.id] == list(range(1, len(events) + 1))
    assert [e.event for e in events] == ["message", "timing", "message", "timing", "status", "end"]
    assert events[4].data["status"] == "succeeded"
    assert [e.data["content"] for e in events if e.event == "message"] == ["hello", "hi"]


async def test_last_event_id_resumes_after_that_event_exactly(api: Api) -> None:
    await api.put_spec("helper", replay_agent("helper", ["hi"]))
    thread = await api.thread()
    run = await api.start(thread, "helper", "hello")
    everything = await api.events(run["id"])
    for cut in range(len(everything)):
        rest = await api.events(run["id"], after=cut)
        assert [e.id for e in rest] == [e.id for e in everything[cut:]]
    # The query parameter does the same for clients that cannot set the header.
    async with api.client.stream("GET", f"/v1/runs/{run['id']}/events", params={"after": 2}) as response:
        ids = [e.id async for e in read_sse(response)]
    assert ids == [e.id for e in everything[2:]]


async def test_runs_stream_sends_metadata_then_the_run_live(api: Api, model_server: ModelServer) -> None:
    await api.put_spec("alice", openai_agent("alice", model_server.url))
    thread = await api.thread()
    gate = model_server.gate(lambda body: True)
    seen = []
    async with api.client.stream(
        "POST", f"/v1/threads/{thread}/runs/stream", json={"spec": "alice", "task": "hi"}
    ) as response:
        assert response.status_code == 200
        run_id = response.headers["content-location"].rsplit("/", 1)[1]
        async for event in read_sse(response):
            seen.append(event)
            if event.event == "metadata":
                assert event.id is None and event.data["run_id"] == run_id
            if len(seen) == 2:  # the task message arrived while the model is held
                assert event.data["content"] == "hi"
                await asyncio.to_thread(gate.arrived.wait, 30)
                gate.open()
            if event.event == "end":
                break
    assert [e.event for e in seen] == ["metadata", "message", "timing", "message", "timing", "status", "end"]
    assert seen[3].data["content"] == "alice #2"


async def test_a_failing_run_reports_a_typed_error_without_a_traceback(api: Api) -> None:
    await api.put_spec("short", replay_agent("short", []))  # no reply scripted: the model raises
    thread = await api.thread()
    run = await api.start(thread, "short", "hello")
    ended = await api.wait_status(run["id"], "failed")
    assert ended["error"]["type"] == "ReplayExhaustedError"
    assert ended["error"]["agent"] == "short"
    assert "Traceback" not in str(ended)
    status = [e for e in await api.events(run["id"]) if e.event == "status"][0]
    assert status.data["error"]["type"] == "ReplayExhaustedError"


async def test_spec_versions_are_pinned_per_run(api: Api) -> None:
    await api.put_spec("helper", replay_agent("helper", ["v1"]))
    await api.put_spec("helper", replay_agent("helper", ["v2"]))
    thread = await api.thread()
    old = await api.client.post(f"/v1/threads/{thread}/runs/wait", json={"spec": "helper@1", "task": "x"})
    new = await api.client.post(f"/v1/threads/{thread}/runs/wait", json={"spec": "helper", "task": "y"})
    assert old.json()["run"]["spec_version"] == 1 and old.json()["messages"][-1]["content"] == "v1"
    assert new.json()["run"]["spec_version"] == 2 and new.json()["messages"][-1]["content"] == "v2"


async def test_list_a_threads_runs_and_page_its_messages(api: Api) -> None:
    await api.put_spec("helper", replay_agent("helper", ["a"]))
    thread = await api.thread()
    for task in ("one", "two", "three"):
        await api.client.post(f"/v1/threads/{thread}/runs/wait", json={"spec": "helper", "task": task})
    runs = (await api.client.get(f"/v1/threads/{thread}/runs")).json()
    assert [r["status"] for r in runs] == ["succeeded"] * 3
    page = (await api.client.get(f"/v1/threads/{thread}/messages", params={"limit": 4})).json()
    assert len(page["items"]) == 4 and page["next_cursor"] == str(page["items"][-1]["seq"])
    rest = (
        await api.client.get(
            f"/v1/threads/{thread}/messages", params={"after": page["next_cursor"], "limit": 4}
        )
    ).json()
    assert [i["seq"] for i in rest["items"]] == [5, 6] and rest["next_cursor"] is None


async def test_the_shared_response_cache_answers_a_repeated_request_across_runs(
    database: Any, model_server: ModelServer
) -> None:
    kinds = [("memory", 1), ("none", 2)]
    if database.schema is not None:  # Redis keys carry the schema: a fresh one per test
        kinds.append(("redis", 1))
    for kind, asked in kinds:
        settings = make_settings(database, cache={"type": kind}, redis={"url": "redis://127.0.0.1:6379/0"})
        async with running_api(settings, database) as api:
            await api.put_spec("alice", openai_agent("alice", model_server.url))
            for _ in range(2):
                thread = await api.thread()
                done = await api.client.post(
                    f"/v1/threads/{thread}/runs/wait", json={"spec": "alice", "task": "hi"}
                )
                assert done.json()["messages"][-1]["content"] == "alice #2"
        assert model_server.asked("alice") == asked, kind
        model_server.requests.clear()
