"""RunRunner against the real store (SQLite and PostgreSQL): release and resume, takeover, limits."""

from __future__ import annotations

import asyncio
from typing import Any

from model_server import ModelServer, agent_of, prompt_key
from service_kit import new_run
from team_specs import duo, pipeline

from muster.service.execution import RunRunner
from muster.service.models import RunStatus
from muster.service.settings import AgentsSettings
from muster.service.store import SqlStore, TurnWrite

AGENTS = AgentsSettings(timeout=60)


async def _transcript(store: SqlStore, thread_id: str) -> list[tuple[str, str]]:
    return [
        (m.message["source"], str(m.message.get("content")))
        for m in await store.list_messages(thread_id, limit=1000)
        if m.message["type"] == "TextMessage"
    ]


async def held(gate: Any) -> None:
    assert await asyncio.to_thread(gate.arrived.wait, 30), "the gated model request never came"


async def test_a_released_run_resumes_from_its_checkpoint_replaying_recorded_calls(
    store: SqlStore, model_server: ModelServer
) -> None:
    run = await new_run(store, "pipeline", pipeline(model_server.url))
    gate = model_server.gate(lambda body: agent_of(body) == "bob")
    first = RunRunner(store, run.id, worker="w1", agents=AGENTS)
    execution = asyncio.create_task(first.execute())
    await held(gate)  # alice answered (and was recorded); bob is mid-call
    first.request_stop("release")
    assert await execution is None
    assert (await store.get_run(run.id)).status is RunStatus.PENDING
    gate.open()
    second = RunRunner(store, run.id, worker="w2", agents=AGENTS)
    ended = await second.execute()
    assert ended is not None and ended.status is RunStatus.SUCCEEDED
    assert ended.attempt == 2
    assert second.replayed_calls == 1  # alice's answer in the redone turn
    # Every prompt reached the model once, except bob's, which was in flight at the release.
    repeated = {key: n for key, n in model_server.prompts.items() if n > 1}
    bob_first = next(prompt_key(r) for r in model_server.requests if agent_of(r) == "bob")
    assert repeated == {bob_first: 2}
    assert await _transcript(store, run.thread_id) == [
        ("user", "go"),
        ("alice", "alice #2"),
        ("bob", "bob #3"),
        ("carol", "carol #4"),
        ("alice", "alice #5"),
        ("bob", "bob #6"),
    ]


async def test_a_runner_whose_run_was_taken_over_writes_nothing_more(
    store: SqlStore, model_server: ModelServer
) -> None:
    run = await new_run(store, "duo", duo(model_server.url))
    gate = model_server.gate(lambda body: agent_of(body) == "bob")
    stale = RunRunner(store, run.id, worker="w1", agents=AGENTS)
    execution = asyncio.create_task(stale.execute())
    await held(gate)
    # w1 looks dead: the run is given back for it, and w2 takes over (before w1 wakes up).
    assert await store.release_run(run.id, "w1")
    fresh = RunRunner(store, run.id, worker="w2", agents=AGENTS)
    taken = asyncio.create_task(fresh.execute())
    await asyncio.to_thread(lambda: _wait_for(model_server, "bob", 2))
    gate.open()
    assert await execution is None  # w1's write was refused: it stopped without a trace
    ended = await taken
    assert ended is not None and ended.status is RunStatus.SUCCEEDED and ended.worker == "w2"
    assert await _transcript(store, run.thread_id) == [
        ("user", "go"),
        ("alice", "alice #2"),
        ("bob", "bob #3"),
    ]


def _wait_for(server: ModelServer, agent: str, count: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while server.asked(agent) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{agent} was not asked {count} times")
        time.sleep(0.01)


async def test_a_run_past_its_timeout_fails_with_run_timeout(
    store: SqlStore, model_server: ModelServer
) -> None:
    run = await new_run(store, "duo", duo(model_server.url))
    model_server.gate(lambda body: agent_of(body) == "bob")
    runner = RunRunner(store, run.id, worker="w1", agents=AgentsSettings(timeout=0.5))
    ended = await runner.execute()
    assert ended is not None and ended.status is RunStatus.FAILED
    assert ended.error is not None and ended.error.type == "RunTimeout"
    assert await _transcript(store, run.thread_id) == [("user", "go"), ("alice", "alice #2")]


async def test_a_run_that_crashed_after_its_last_turn_only_gets_its_status(
    store: SqlStore, model_server: ModelServer
) -> None:
    run = await new_run(store, "duo", duo(model_server.url, max_turns=1))
    # What a worker that died between its last turn and its status left behind.
    assert await store.claim_run(run.id, "dead") is not None
    state = {"type": "TeamState", "version": "1.0.0", "agent_states": {}}
    await store.record_turn(
        TurnWrite(
            run_id=run.id,
            turn=0,
            messages=[{"type": "TextMessage", "source": "user", "content": "go", "id": "m1"}],
            state=state,
            finished=True,
            stop_reason="Maximum number of turns 1 reached.",
            worker="dead",
        )
    )
    assert await store.release_run(run.id, "dead")
    ended = await RunRunner(store, run.id, worker="w2", agents=AGENTS).execute()
    assert ended is not None and ended.status is RunStatus.SUCCEEDED
    assert ended.stop_reason == "Maximum number of turns 1 reached."
    assert model_server.requests == []  # nothing was redone


async def test_tools_see_the_documented_idempotency_key(store: SqlStore) -> None:
    from team_specs import ChargeTool, charging_agent

    ChargeTool.keys.clear()
    run = await new_run(store, "cashier", charging_agent())
    ended = await RunRunner(store, run.id, worker="w1", agents=AGENTS).execute()
    assert ended is not None and ended.status is RunStatus.SUCCEEDED
    assert ChargeTool.keys == [f"{run.id}:call_7"]
