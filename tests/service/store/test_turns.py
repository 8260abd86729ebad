"""record_turn: one transaction per boundary, checkpoints as full states and deltas, rollback."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from store_helpers import text, turn

from muster.service.exceptions import ConflictError, NotFoundError
from muster.service.models import RunStatus, SpecRecord, Strategy, Thread
from muster.service.store import SqlStore, TurnWrite
from muster.teams import state_delta

TASK = [text("go", "user")]


async def _running(store: SqlStore, thread: Thread, spec: SpecRecord, worker: str = "w1") -> str:
    run = await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE)
    assert await store.claim_run(run.id, worker) is not None
    return run.id


async def _contents(store: SqlStore, thread_id: str) -> list[str]:
    return [m.message["content"] for m in await store.list_messages(thread_id, limit=1000)]


async def test_a_turn_appends_messages_events_and_a_checkpoint(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.record_turn(turn(run_id, 0, "a", "b"))
    await store.record_turn(turn(run_id, 1, "c", events=[("status", {"note": "x"})]))
    records = await store.list_messages(thread.id)
    assert [(m.seq, m.run_id, m.message["content"]) for m in records] == [
        (1, run_id, "a"),
        (2, run_id, "b"),
        (3, run_id, "c"),
    ]
    assert [m.seq for m in await store.list_messages(thread.id, after=1, limit=1)] == [2]
    events = await store.read_events(run_id)
    assert [(e.seq, e.event) for e in events] == [
        (1, "message"),
        (2, "message"),
        (3, "message"),
        (4, "status"),
    ]
    assert events[0].data == text("a")
    run = await store.get_run(run_id)
    assert run.turns == 2 and run.status == RunStatus.RUNNING
    checkpoint = await store.latest_checkpoint(run_id)
    assert checkpoint is not None and checkpoint.turn == 1 and not checkpoint.finished
    assert checkpoint.state == {"turn": 1, "said": ["t0", "t1"]}


async def test_the_thread_sequence_continues_across_runs(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    first = await _running(store, thread, spec)
    await store.record_turn(turn(first, 0, "a", "b", finished=True))
    await store.finish_run(first, RunStatus.SUCCEEDED)
    second = await _running(store, thread, spec)
    await store.record_turn(turn(second, 0, "c"))
    assert [(m.seq, m.run_id) for m in await store.list_messages(thread.id)] == [
        (1, first),
        (2, first),
        (3, second),
    ]
    assert [e.seq for e in await store.read_events(second)] == [1]  # a run's events number from 1


async def test_deltas_between_full_states_rebuild_the_state(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    states: list[dict[str, Any]] = [{"history": [], "n": 0}]
    for k in range(7):
        states.append(
            {"history": [*states[-1]["history"], f"m{k}"], "n": k + 1, **({"odd": True} if k % 2 else {})}
        )
        full = k % 3 == 0  # full at 0, 3, 6; deltas between
        delta = state_delta(states[-2], states[-1])
        await store.record_turn(
            TurnWrite(
                run_id=run_id,
                turn=k,
                messages=[text(f"m{k}")],
                state=states[-1] if full else None,
                delta=None if full else delta,
            )
        )
        checkpoint = await store.latest_checkpoint(run_id)
        assert checkpoint is not None and checkpoint.turn == k and checkpoint.state == states[-1]
    kinds = await _kinds(store, run_id)
    assert kinds == ["full", "delta", "delta", "full", "delta", "delta", "full"]


async def _kinds(store: SqlStore, run_id: str) -> list[str]:
    import sqlalchemy as sa

    from muster.service.store.tables import checkpoints

    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(checkpoints.c.kind).where(checkpoints.c.run_id == run_id).order_by(checkpoints.c.turn)
        )
        return [r[0] for r in rows]


async def test_a_delta_without_its_base_falls_back_to_the_state_or_is_refused(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    # The first turn's delta is against the thread state the team loaded, not a checkpoint.
    await store.record_turn(TurnWrite(run_id=run_id, turn=0, messages=[], state={"v": 0}, delta={"~": {}}))
    with pytest.raises(ValueError, match="needs the checkpoint of turn 2"):
        await store.record_turn(TurnWrite(run_id=run_id, turn=3, messages=[text("x")], delta={"=": {"v": 3}}))
    assert await _kinds(store, run_id) == ["full"]
    assert await store.list_messages(thread.id) == []


async def test_a_turn_already_written_is_refused_and_nothing_changes(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.record_turn(turn(run_id, 0, "a"))
    await store.record_turn(turn(run_id, 1, "b"))
    for k in (1, 0):
        with pytest.raises(ConflictError, match=f"turn {k} is already written"):
            await store.record_turn(turn(run_id, k, "again", finished=True))
    assert await _contents(store, thread.id) == ["a", "b"]
    assert len(await store.read_events(run_id)) == 2
    assert (await store.get_run(run_id)).turns == 2
    assert await store.thread_state(thread.id) is None


async def test_two_workers_racing_for_one_turn_write_it_once(
    store: SqlStore, thread: Thread, spec: SpecRecord, database: Any
) -> None:
    # A second store is a second process's connection pool on the same database.
    rival = SqlStore(database.url, schema=database.schema)
    await rival.open()
    try:
        run_id = await _running(store, thread, spec)
        for k in range(10):
            results = await asyncio.gather(
                store.record_turn(turn(run_id, k, f"a{k}")),
                rival.record_turn(turn(run_id, k, f"b{k}")),
                return_exceptions=True,
            )
            assert sum(r is None for r in results) == 1, results
            assert all(isinstance(r, ConflictError) for r in results if r is not None)
    finally:
        await rival.close()
    contents = await _contents(store, thread.id)
    assert len(contents) == 10 and [c[1:] for c in contents] == [str(k) for k in range(10)]
    assert [e.seq for e in await store.read_events(run_id)] == list(range(1, 11))


async def test_a_turn_on_a_run_that_is_not_running_is_refused(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    with pytest.raises(ConflictError, match="is pending, not running"):
        await store.record_turn(turn(run.id, 0, "a"))
    with pytest.raises(NotFoundError):
        await store.record_turn(turn("missing", 0, "a"))
    with pytest.raises(ValueError, match="event 'bogus'"):
        await store.claim_run(run.id, "w1")
        await store.record_turn(turn(run.id, 0, "a", events=[("bogus", {})]))
    assert await store.list_messages(thread.id) == []


async def test_the_last_boundary_sets_the_thread_state_and_stop_reason(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.record_turn(turn(run_id, 0, "a", state={"v": 0}))
    assert await store.thread_state(thread.id) is None
    await store.record_turn(
        TurnWrite(
            run_id=run_id,
            turn=1,
            messages=[text("b")],
            delta={"~": {"v": {"=": 1}}},
            finished=True,
            stop_reason="max turns",
        )
    )
    assert await store.thread_state(thread.id) == {"v": 1}
    checkpoint = await store.latest_checkpoint(run_id)
    assert checkpoint is not None and checkpoint.finished  # a resumed runner only finishes the run
    assert (await store.get_run(run_id)).stop_reason == "max turns"
    done = await store.finish_run(run_id, RunStatus.SUCCEEDED)
    assert done.stop_reason == "max turns"


async def test_rollback_of_an_interrupted_run_puts_the_state_back(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    first = await _running(store, thread, spec)
    await store.record_turn(turn(first, 0, "a", state={"v": "first"}, finished=True))
    await store.finish_run(first, RunStatus.SUCCEEDED)
    asking = await _running(store, thread, spec)
    await store.record_turn(turn(asking, 0, "question?", state={"v": "asking"}, finished=True))
    await store.finish_run(asking, RunStatus.INTERRUPTED, stop_reason="handoff to user")
    assert await store.thread_state(thread.id) == {"v": "asking"}
    dropped = await store.rollback_run(asking)
    assert dropped.status == RunStatus.CANCELLED
    assert await _contents(store, thread.id) == ["a"]
    assert await store.thread_state(thread.id) == {"v": "first"}
    with pytest.raises(ConflictError, match="is succeeded"):
        await store.rollback_run(first)


async def test_rollback_is_refused_when_a_later_run_builds_on_it(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    asking = await _running(store, thread, spec)
    await store.record_turn(turn(asking, 0, "question?"))
    await store.finish_run(asking, RunStatus.INTERRUPTED)
    answer = await _running(store, thread, spec)
    await store.record_turn(turn(answer, 0, "answer"))
    with pytest.raises(ConflictError, match=f"later run '{answer}' builds on it"):
        await store.rollback_run(asking)
    assert await _contents(store, thread.id) == ["question?", "answer"]


async def test_rollback_of_the_first_run_clears_the_state(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.record_turn(turn(run_id, 0, "a", finished=True))
    await store.finish_run(run_id, RunStatus.INTERRUPTED)
    await store.rollback_run(run_id)
    assert await store.thread_state(thread.id) is None
    assert await store.list_messages(thread.id) == []


async def test_a_turn_write_returns_the_stop_request(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    assert await store.record_turn(turn(run_id, 0, "a")) is None
    await store.request_stop(run_id, "interrupt")
    # The runner learns of the request from the write itself, without another read.
    assert await store.record_turn(turn(run_id, 1, "b")) == "interrupt"


async def test_a_spec_version_is_read_once_and_the_latest_always(store: SqlStore, spec: SpecRecord) -> None:
    first = await store.get_spec(spec.name, spec.version)
    assert await store.get_spec(spec.name, spec.version) is first  # kept: a version never changes
    newer = await store.put_spec(spec.name, {**spec.component, "description": "changed"})
    assert newer.version == spec.version + 1
    assert (await store.get_spec(spec.name)).version == newer.version  # "latest" is asked anew
    assert (await store.get_spec(spec.name, spec.version)).component == spec.component


async def test_a_write_can_carry_earlier_boundaries_and_recorded_answers(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    task = turn(run_id, 0, "go", events=[("timing", {"turn": 0})])
    answers = [("k1", {"value": "first"}), ("k2", {"value": "other"})]
    write = turn(run_id, 1, "a", events=[("timing", {"turn": 1})], earlier=(task,), responses=answers)
    await store.finish_run(run_id, RunStatus.SUCCEEDED, turn=replace(write, finished=True))
    # Each boundary's messages, then its events, in order; one checkpoint (the last).
    events = await store.read_events(run_id)
    assert [(e.event, e.data.get("content") or e.data.get("turn")) for e in events[:4]] == [
        ("message", "go"),
        ("timing", 0),
        ("message", "a"),
        ("timing", 1),
    ]
    assert [e.event for e in events[4:]] == ["status", "end"]
    assert await _contents(store, thread.id) == ["go", "a"]
    run = await store.get_run(run_id)
    assert run.turns == 2 and run.status is RunStatus.SUCCEEDED
    checkpoint = await store.latest_checkpoint(run_id)
    assert checkpoint is not None and checkpoint.turn == 1 and checkpoint.finished
    assert await store.get_model_response(run_id, "k1") == {"value": "first"}
    assert await store.get_model_response(run_id, "k2") == {"value": "other"}


async def test_a_carried_answer_never_replaces_a_recorded_one(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.put_model_response(run_id, "k1", {"value": "first"})
    await store.record_turn(turn(run_id, 0, "a", responses=[("k1", {"value": "second"})]))
    assert await store.get_model_response(run_id, "k1") == {"value": "first"}


async def test_a_write_whose_first_boundary_is_stored_is_refused_whole(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.record_turn(turn(run_id, 0, "go"))
    again = turn(run_id, 1, "a", earlier=(turn(run_id, 0, "go"),), responses=[("k1", {"value": "x"})])
    with pytest.raises(ConflictError, match="turn 0 is already written"):
        await store.record_turn(again)
    assert await _contents(store, thread.id) == ["go"]
    assert (await store.get_run(run_id)).turns == 1
    assert await store.get_model_response(run_id, "k1") is None
