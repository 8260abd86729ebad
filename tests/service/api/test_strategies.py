"""Double texting: a run posted to a busy thread follows its strategy; cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

from api_kit import Api
from model_server import ModelServer, agent_of, openai_agent
from team_specs import duo


async def held(gate: Any) -> None:
    """Wait (off the event loop) until the gated request reached the model."""
    assert await asyncio.to_thread(gate.arrived.wait, 30), "the gated model request never came"


async def test_reject_refuses_a_second_run_while_one_runs(api: Api, model_server: ModelServer) -> None:
    await api.put_spec("alice", openai_agent("alice", model_server.url))
    thread = await api.thread()
    gate = model_server.gate(lambda body: True)
    first = await api.start(thread, "alice", "one")
    await held(gate)
    refused = await api.client.post(f"/v1/threads/{thread}/runs", json={"spec": "alice", "task": "two"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    gate.open()
    await api.wait_status(first["id"], "succeeded")


async def test_enqueue_runs_after_the_current_run(api: Api, model_server: ModelServer) -> None:
    await api.put_spec("alice", openai_agent("alice", model_server.url))
    thread = await api.thread()
    gate = model_server.gate(lambda body: True)
    first = await api.start(thread, "alice", "one")
    await held(gate)
    second = await api.start(thread, "alice", "two", strategy="enqueue")
    assert second["status"] == "pending"
    gate.open()
    a = await api.wait_status(first["id"], "succeeded")
    b = await api.wait_status(second["id"], "succeeded")
    assert b["started_at"] >= a["finished_at"]
    assert [m["content"] for m in await api.messages(thread)] == ["one", "alice #2", "two", "alice #4"]


async def test_interrupt_stops_the_current_run_at_its_boundary_keeping_its_turns(
    api: Api, model_server: ModelServer
) -> None:
    await api.put_spec("duo", duo(model_server.url, max_turns=4))
    thread = await api.thread()
    gate = model_server.gate(lambda body: agent_of(body) == "bob")
    first = await api.start(thread, "duo", "one")
    await held(gate)  # alice's turn is written; bob is mid-turn
    second = await api.start(thread, "duo", "two", strategy="interrupt")
    gate.open()
    a = await api.wait_status(first["id"], "interrupted")
    assert a["stop_reason"] == "Interrupted by a newer run on the thread."
    await api.wait_status(second["id"], "succeeded")
    contents = [m["content"] for m in await api.messages(thread)]
    # The first run kept both finished turns (bob's too: the stop waits for the boundary).
    assert contents[:3] == ["one", "alice #2", "bob #3"]
    assert contents[3] == "two"


async def test_rollback_drops_the_current_run_and_starts_from_before_it(
    api: Api, model_server: ModelServer
) -> None:
    await api.put_spec("duo", duo(model_server.url))
    thread = await api.thread()
    gate = model_server.gate(lambda body: agent_of(body) == "bob")
    first = await api.start(thread, "duo", "one")
    await held(gate)
    second = await api.start(thread, "duo", "two", strategy="rollback")
    a = await api.wait_status(first["id"], "cancelled")
    assert a["stop_reason"] == "rollback"
    gate.open()
    await api.wait_status(second["id"], "succeeded")
    # Nothing of the first run is left: the second starts from the empty thread.
    assert [m["content"] for m in await api.messages(thread)] == ["two", "alice #2", "bob #3"]
    assert [e.event for e in await api.events(first["id"])][-2:] == ["status", "end"]


async def test_cancel_stops_a_running_run_and_keeps_its_finished_turns(
    api: Api, model_server: ModelServer
) -> None:
    await api.put_spec("duo", duo(model_server.url))
    thread = await api.thread()
    gate = model_server.gate(lambda body: agent_of(body) == "bob")
    run = await api.start(thread, "duo", "one")
    await held(gate)
    response = await api.client.post(f"/v1/runs/{run['id']}/cancel")
    assert response.status_code == 202
    ended = await api.wait_status(run["id"], "cancelled")
    gate.open()
    assert ended["stop_reason"] == "Cancelled."
    assert [m["content"] for m in await api.messages(thread)] == ["one", "alice #2"]
    again = await api.client.post(f"/v1/runs/{run['id']}/cancel")
    assert again.status_code == 409
    # The thread goes on from where the cancelled run stopped.
    nxt = await api.start(thread, "duo", "two")
    await api.wait_status(nxt["id"], "succeeded")


async def test_cancel_a_queued_run_before_it_starts(api: Api, model_server: ModelServer) -> None:
    await api.put_spec("alice", openai_agent("alice", model_server.url))
    thread = await api.thread()
    gate = model_server.gate(lambda body: True)
    first = await api.start(thread, "alice", "one")
    await held(gate)
    queued = await api.start(thread, "alice", "two", strategy="enqueue")
    cancelled = (await api.client.post(f"/v1/runs/{queued['id']}/cancel")).json()
    assert cancelled["status"] == "cancelled"
    gate.open()
    await api.wait_status(first["id"], "succeeded")
    assert [m["content"] for m in await api.messages(thread)] == ["one", "alice #2"]
    assert model_server.asked("alice") == 1
