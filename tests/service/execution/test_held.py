"""Writes a run holds back (``execution/_held.py``), on both backends.

The task's boundary and a model answer that calls no tool go with the run's next write;
what a crash could lose never waits: an answer that calls tools is stored before the
tool runs, a held answer is stored before the next model call, and anything held is
stored on its own when the next write does not come within ``HOLD_SECONDS``.
"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from model_server import ModelServer, agent_of
from service_kit import new_run, wait_until
from team_specs import LookingTool, charging_agent, duo, pipeline

from muster.service.execution import RunRunner
from muster.service.execution._held import HeldWrites
from muster.service.models import RunStatus
from muster.service.settings import AgentsSettings
from muster.service.store import SqlStore, TurnWrite
from muster.service.store.tables import checkpoints, model_responses

AGENTS = AgentsSettings(timeout=60)


async def _stored(store: SqlStore, run_id: str) -> tuple[list[int], int]:
    """The run's checkpointed turns and how many model answers it has recorded."""
    async with store.engine.connect() as conn:
        turns = (
            await conn.execute(
                sa.select(checkpoints.c.turn)
                .where(checkpoints.c.run_id == run_id)
                .order_by(checkpoints.c.turn)
            )
        ).scalars()
        answers = await conn.scalar(
            sa.select(sa.func.count()).select_from(model_responses).where(model_responses.c.run_id == run_id)
        )
    return list(turns), int(answers or 0)


async def test_a_one_agent_run_writes_the_task_and_its_answer_with_its_end(
    store: SqlStore, model_server: ModelServer
) -> None:
    run = await new_run(store, "solo", duo(model_server.url, max_turns=1))
    ended = await RunRunner(store, run.id, worker="w1", agents=AGENTS).execute()
    assert ended is not None and ended.status is RunStatus.SUCCEEDED
    assert ended.turns == 2  # the task's boundary and alice's
    # One write: turn 0's checkpoint was superseded by the last one's full state.
    assert await _stored(store, run.id) == ([1], 1)
    events = await store.read_events(run.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    names = [e.event for e in events]
    assert names[0] == "message" and events[0].data["source"] == "user"
    assert names[-2:] == ["status", "end"]
    # Each boundary's events in order: the task's message and timing, then alice's.
    sources = [e.data.get("source") for e in events if e.event == "message"]
    assert sources == ["user", "alice"]
    assert names.index("timing") == 1
    messages = await store.list_messages(run.thread_id, limit=10)
    assert [m.message["source"] for m in messages] == ["user", "alice"]


async def test_a_slow_model_does_not_delay_the_task_s_boundary(
    store: SqlStore, model_server: ModelServer
) -> None:
    run = await new_run(store, "solo", duo(model_server.url, max_turns=1))
    gate = model_server.gate(lambda body: agent_of(body) == "alice")
    execution = asyncio.create_task(RunRunner(store, run.id, worker="w1", agents=AGENTS).execute())
    assert await asyncio.to_thread(gate.arrived.wait, 30), "the gated model request never came"

    async def task_stored() -> bool:
        return (await _stored(store, run.id))[0] == [0]

    await wait_until(
        task_stored, what="the task's boundary"
    )  # written alone, HOLD_SECONDS after its boundary
    events = await store.read_events(run.id)
    assert [e.event for e in events] == ["message", "timing"]
    gate.open()
    ended = await execution
    assert ended is not None and ended.status is RunStatus.SUCCEEDED
    assert await _stored(store, run.id) == ([0, 1], 1)


async def test_a_held_answer_is_stored_before_the_model_is_asked_again(
    store: SqlStore, model_server: ModelServer
) -> None:
    # The pipeline's first turn asks alice, then bob (a nested team): alice's answer,
    # held, must be stored before bob's request goes out.
    run = await new_run(store, "pipeline", pipeline(model_server.url))
    gate = model_server.gate(lambda body: agent_of(body) == "bob")
    runner = RunRunner(store, run.id, worker="w1", agents=AGENTS)
    execution = asyncio.create_task(runner.execute())
    assert await asyncio.to_thread(gate.arrived.wait, 30), "the gated model request never came"
    turns, answers = await _stored(store, run.id)
    assert answers == 1 and turns == [0]  # alice's answer, with the task's boundary
    gate.open()
    ended = await execution
    assert ended is not None and ended.status is RunStatus.SUCCEEDED


async def test_an_answer_that_calls_tools_is_stored_before_they_run(store: SqlStore) -> None:
    async def answers_stored(run_id: str) -> int:
        return (await _stored(store, run_id))[1]

    LookingTool.look, LookingTool.seen = answers_stored, []
    run = await new_run(store, "cashier", charging_agent(LookingTool()))
    ended = await RunRunner(store, run.id, worker="w1", agents=AGENTS).execute()
    assert ended is not None and ended.status is RunStatus.SUCCEEDED, ended.error
    assert LookingTool.seen == [1]  # the call's answer was stored when the tool ran
    assert (await _stored(store, run.id))[1] == 2  # and the reflection's, with the end


async def test_a_timed_write_that_fails_fails_the_next_write(store: SqlStore) -> None:
    run = await new_run(store, "solo", duo("http://127.0.0.1:9", max_turns=1))
    seen: list[str | None] = []

    async def written(requested: str | None) -> None:
        seen.append(requested)

    held = HeldWrites(store, run.id, written, hold_seconds=0.01)
    # The run is pending, not running: the store refuses its boundary.
    held.hold_turn(TurnWrite(run_id=run.id, turn=0, messages=[], state={}))

    async def timer_fired() -> bool:
        return held.written_alone == 1

    await wait_until(timer_fired, what="the timer")
    with pytest.raises(Exception, match="not running"):
        await held.take()
    assert not held.holding and held.written_alone == 1 and seen == []
    await held.close()
