"""A run's last turn written with its end (``finish_run(turn=...)``) and the start read (``run_start``).

On PostgreSQL both go through psycopg directly (``_pgpaths.py``, ``_pgturns.py``); the
same assertions on SQLite hold the portable path to the same behaviour.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from store_helpers import text, turn

from muster.service.exceptions import ConflictError, NotFoundError
from muster.service.models import RunError, RunStatus, SpecRecord, Strategy, Thread
from muster.service.store import SqlStore
from muster.teams import state_delta

TASK = [text("go", "user")]


async def _running(store: SqlStore, thread: Thread, spec: SpecRecord, worker: str = "w1") -> str:
    run = await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE)
    assert await store.claim_run(run.id, worker) is not None
    return run.id


async def test_the_last_turn_and_the_end_are_written_together(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.record_turn(turn(run_id, 0, "a", worker="w1"))
    last = turn(
        run_id, 1, "b", finished=True, stop_reason="done talking", worker="w1", events=[("timing", {"k": 1})]
    )
    ended = await store.finish_run(run_id, RunStatus.SUCCEEDED, worker="w1", turn=last)
    assert ended.status == RunStatus.SUCCEEDED and ended.turns == 2
    assert ended.stop_reason == "done talking"  # the turn's reason, the end naming none
    assert ended.finished_at is not None and ended.finished_at.utcoffset() is not None
    events = await store.read_events(run_id)
    assert [(e.seq, e.event) for e in events] == [
        (1, "message"),
        (2, "message"),
        (3, "timing"),
        (4, "status"),
        (5, "end"),
    ]
    assert events[3].data == {"status": "succeeded", "stop_reason": "done talking", "error": None}
    assert [m.message["content"] for m in await store.list_messages(thread.id)] == ["a", "b"]
    checkpoint = await store.latest_checkpoint(run_id)
    assert checkpoint is not None and checkpoint.turn == 1 and checkpoint.finished
    assert await store.thread_state(thread.id) == {"turn": 1, "said": ["t0", "t1"]}
    assert (await store.get_thread(thread.id)).status == "idle"


async def test_an_end_with_an_error_and_its_own_reason(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    error = RunError(type="Boom", message="it broke", agent="alice")
    last = turn(run_id, 0, "a", finished=True, stop_reason="from the turn")
    ended = await store.finish_run(run_id, RunStatus.FAILED, stop_reason="mine", error=error, turn=last)
    assert ended.status == RunStatus.FAILED and ended.error == error and ended.stop_reason == "mine"
    status = [e for e in await store.read_events(run_id) if e.event == "status"]
    assert status[0].data["error"] == error.model_dump(mode="json")
    assert status[0].data["stop_reason"] == "mine"


async def test_an_interrupted_end_leaves_the_thread_interrupted(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.finish_run(run_id, RunStatus.INTERRUPTED, turn=turn(run_id, 0, "a", finished=True))
    assert (await store.get_thread(thread.id)).status == "interrupted"


@pytest.mark.parametrize("why", ["not running", "other worker", "turn written"])
async def test_a_refused_last_turn_writes_nothing_and_ends_nothing(
    store: SqlStore, thread: Thread, spec: SpecRecord, why: str
) -> None:
    if why == "not running":
        run_id = (await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE)).id
        match = "is pending, not running"
    else:
        run_id = await _running(store, thread, spec)
        await store.record_turn(turn(run_id, 0, "a"))
        match = "held by 'w1', not 'w2'" if why == "other worker" else "turn 0 is already written"
    before = await store.read_events(run_id) if why != "not running" else []
    worker = "w2" if why == "other worker" else None
    with pytest.raises(ConflictError, match=match):
        await store.finish_run(
            run_id, RunStatus.SUCCEEDED, worker=worker, turn=turn(run_id, 0, "x", finished=True)
        )
    run = await store.get_run(run_id)
    assert run.status in (RunStatus.PENDING, RunStatus.RUNNING)
    assert run.finished_at is None
    assert [e.seq for e in await store.read_events(run_id)] == [e.seq for e in before]
    assert "x" not in [m.message["content"] for m in await store.list_messages(thread.id)]
    # The thread's message numbers did not move: the next message is numbered on.
    if why != "not running":
        await store.record_turn(turn(run_id, 1, "c"))
        assert [m.seq for m in await store.list_messages(thread.id)] == [1, 2]


async def test_a_last_turn_of_another_run_is_refused(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    with pytest.raises(ValueError, match="the turn is run"):
        await store.finish_run(run_id, RunStatus.SUCCEEDED, turn=turn("other", 0, "a", finished=True))


async def test_a_last_turn_bringing_only_a_delta_rebuilds_the_thread_state(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    before, after = {"said": ["a"], "n": 0}, {"said": ["a"], "n": 1}
    await store.record_turn(turn(run_id, 0, "a", state=before))
    delta_only = replace(turn(run_id, 1, "b", finished=True), state=None, delta=state_delta(before, after))
    await store.finish_run(run_id, RunStatus.SUCCEEDED, turn=delta_only)
    assert await store.thread_state(thread.id) == after


async def test_run_start_reads_the_task_the_previous_run_and_the_thread_state(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    first_id = await _running(store, thread, spec)
    start = await store.run_start(first_id)
    assert start.task == TASK and start.previous is None and start.thread_state is None
    await store.finish_run(
        first_id, RunStatus.INTERRUPTED, stop_reason="asked", turn=turn(first_id, 0, "a", finished=True)
    )
    second = await store.create_run(thread.id, spec, [text("next", "user")], Strategy.ENQUEUE)
    start = await store.run_start(second.id)
    assert start.task == [text("next", "user")]
    assert start.previous is not None and start.previous.id == first_id
    assert start.previous.status == RunStatus.INTERRUPTED and start.previous.stop_reason == "asked"
    assert start.thread_state == {"turn": 0, "said": ["t0"]}


async def test_claim_run_start_claims_once_and_reads_the_start(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    first_id = await _running(store, thread, spec)
    await store.finish_run(first_id, RunStatus.SUCCEEDED, turn=turn(first_id, 0, "a", finished=True))
    second = await store.create_run(thread.id, spec, [text("next", "user")], Strategy.ENQUEUE)
    claimed = await store.claim_run_start(second.id, "w9")
    assert claimed is not None
    run, start = claimed
    assert run.id == second.id and run.status == RunStatus.RUNNING and run.worker == "w9"
    assert run.started_at is not None and run.attempt == 1
    assert start.task == [text("next", "user")]
    assert start.previous is not None and start.previous.id == first_id
    assert start.previous.status == RunStatus.SUCCEEDED
    assert start.previous.created_at <= run.created_at
    assert start.thread_state == {"turn": 0, "said": ["t0"]}
    assert await store.claim_run_start(second.id, "w8") is None  # someone has it
    with pytest.raises(NotFoundError):
        await store.claim_run_start("missing", "w9")


async def test_an_end_with_a_turn_that_is_not_the_last_still_adopts_it_as_the_threads_state(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    ended = await store.finish_run(run_id, RunStatus.CANCELLED, turn=turn(run_id, 0, "a"))
    assert ended.status == RunStatus.CANCELLED and ended.turns == 1
    assert await store.thread_state(thread.id) == {"turn": 0, "said": ["t0"]}


async def test_run_result_is_the_ended_run_and_its_messages_in_order(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    assert await store.run_result(run_id) is None  # running: no result yet
    await store.record_turn(turn(run_id, 0, "a", "b", worker="w1"))
    assert await store.run_result(run_id) is None  # a turn is not the end
    last = turn(run_id, 1, "c", finished=True, worker="w1", events=[("timing", {"k": 1})])
    await store.finish_run(run_id, RunStatus.SUCCEEDED, worker="w1", turn=last)
    result = await store.run_result(run_id)
    assert result is not None
    run, messages = result
    assert run == await store.get_run(run_id)
    assert [m["content"] for m in messages] == ["a", "b", "c"]  # messages only, in order (no timing event)
    with pytest.raises(NotFoundError):
        await store.run_result("no-such-run")


async def test_run_result_of_a_run_cancelled_before_it_started_has_no_messages(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run = await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE)
    await store.request_stop(run.id, "cancel")
    result = await store.run_result(run.id)
    assert result is not None and result[0].status == RunStatus.CANCELLED and result[1] == []
