"""What operators see: request and run log lines, request ids, and the Prometheus metrics."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest
from api_kit import Api, make_settings, running_api
from model_server import ModelServer, openai_agent
from service_kit import replay_agent, wait_until


def _metric(text: str, name: str, **labels: str) -> float:
    """The sample of ``name`` with exactly ``labels`` (in any order) in a Prometheus text page."""
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        metric, _, label_text = sample.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', label_text))
        if metric == name and found == labels:
            return float(value)
    raise AssertionError(f"no sample {name}{labels} in /metrics")


async def test_metrics_count_requests_runs_turns_and_model_calls(api: Api, model_server: ModelServer) -> None:
    await api.put_spec("alice", openai_agent("alice", model_server.url))
    thread = await api.thread()
    done = await api.client.post(f"/v1/threads/{thread}/runs/wait", json={"spec": "alice", "task": "hi"})
    assert done.json()["run"]["status"] == "succeeded"
    await api.client.get("/v1/runs/nope")
    text = (await api.client.get("/metrics")).text
    route = "/v1/threads/{thread_id}/runs/wait"
    assert _metric(text, "autogen_requests_total", method="POST", route=route, status="200") == 1
    assert _metric(text, "autogen_requests_total", method="GET", route="/v1/runs/{run_id}", status="404") == 1
    assert _metric(text, "muster_runs", status="succeeded") == 1
    assert _metric(text, "autogen_agents_count", status="online") >= 1
    if api.settings.database.is_postgres:
        return  # the run executed in the worker, whose metrics are its own (monitoring.metrics_port)
    assert _metric(text, "muster_turns_total") == 2  # the task's boundary and the reply's
    assert _metric(text, "muster_model_calls_total", provider="openai", model="gpt-4o") == 1
    assert _metric(text, "muster_tokens_total", kind="prompt") == 10


async def test_metrics_can_be_turned_off(database: Any) -> None:
    async with running_api(make_settings(database, monitoring={"enabled": False}), database) as api:
        assert (await api.client.get("/metrics")).status_code == 404


async def test_every_request_is_logged_with_its_route_and_id(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="muster.service.access")
    response = await api.client.get("/v1/runs/nope", headers={"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    generated = await api.client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    lines = [r for r in caplog.records if r.name == "muster.service.access"]
    mine = [r for r in lines if getattr(r, "request_id", None) == "req-42"]
    assert len(mine) == 1
    assert (mine[0].method, mine[0].path, mine[0].status_code) == ("GET", "/v1/runs/{run_id}", 404)  # type: ignore[attr-defined]


async def test_run_transitions_are_logged_with_the_runs_fields(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # On PostgreSQL the worker runs in this test's process too, so its records are caught as well.
    caplog.set_level(logging.INFO, logger="muster.service.runs")
    await api.put_spec("short", replay_agent("short", []))
    thread = await api.thread()
    run = (
        await api.client.post(f"/v1/threads/{thread}/runs/wait", json={"spec": "short", "task": "x"})
    ).json()

    def logged() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "muster.service.runs" and getattr(r, "run_id", None)]

    async def ended() -> bool:
        return len(logged()) >= 2

    # The executor logs a transition once its write committed; the wait may answer first
    # (on PostgreSQL the notification of the end carries the result).
    await wait_until(ended, timeout=10, what="the run's end to be logged")
    lines = logged()
    transitions = [(r.previous_status, r.status) for r in lines]  # type: ignore[attr-defined]
    assert transitions == [("pending", "running"), ("running", "failed")]
    failed = lines[-1]
    assert failed.levelno == logging.ERROR
    assert failed.error_type == "ReplayExhaustedError" and failed.agent == "short"  # type: ignore[attr-defined]
    assert failed.run_id == run["run"]["id"] and failed.spec == "short"  # type: ignore[attr-defined]
    assert failed.duration_ms >= 0  # type: ignore[attr-defined]


async def test_worker_refuses_sqlite_and_serve_refuses_many_processes_on_it(tmp_path: Any) -> None:
    from muster.cli import main

    env = {"MUSTER_DATABASE__URL": f"sqlite:///{tmp_path / 'x.db'}"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert main(["worker"]) == 2
        patch.setenv("MUSTER_SERVER__WORKERS", "2")
        assert main(["serve"]) == 2


async def test_health_needs_no_key(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.url) as anonymous:
        assert (await anonymous.get("/metrics")).status_code == 200
