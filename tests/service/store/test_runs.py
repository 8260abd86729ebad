"""Runs: creation under each double-texting strategy, claims, heartbeats, stops and ends."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from store_helpers import COMPONENT, turn

from muster.service.exceptions import ConflictError, NotFoundError, OverloadedError
from muster.service.models import RunError, RunStatus, SpecRecord, Strategy, Thread, ThreadStatus
from muster.service.store import STOP_CANCEL, STOP_INTERRUPT, STOP_ROLLBACK, SqlStore
from muster.service.store._rows import now

TASK = [{"type": "TextMessage", "source": "user", "content": "go"}]


async def _running(store: SqlStore, thread: Thread, spec: SpecRecord, worker: str = "w1") -> str:
    run = await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE)
    claimed = await store.claim_run(run.id, worker)
    assert claimed is not None
    return run.id


async def test_create_run_stores_a_pending_run_and_its_task(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run = await store.create_run(thread.id, spec, TASK, Strategy.REJECT, metadata={"k": "v"})
    assert run.status == RunStatus.PENDING and run.attempt == 1 and run.turns == 0
    assert (run.spec, run.spec_version, run.thread_id, run.metadata) == ("team", 1, thread.id, {"k": "v"})
    assert await store.get_run(run.id) == run
    assert await store.run_task(run.id) == TASK
    assert (await store.get_thread(thread.id)).status == ThreadStatus.BUSY
    assert await store.list_runs(thread.id) == [run]


async def test_create_run_on_an_unknown_thread_or_spec_is_not_found(
    store: SqlStore, spec: SpecRecord, thread: Thread
) -> None:
    with pytest.raises(NotFoundError, match="thread"):
        await store.create_run("missing", spec, None, Strategy.REJECT)
    ghost = spec.model_copy(update={"version": 9})
    with pytest.raises(NotFoundError, match="team@9"):
        await store.create_run(thread.id, ghost, None, Strategy.REJECT)
    assert await store.list_runs(thread.id) == []


async def test_reject_refuses_a_second_run_and_stores_nothing(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    first = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    with pytest.raises(ConflictError, match=f"busy: run '{first.id}' is pending") as info:
        await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    assert info.value.field == "strategy"
    assert [r.id for r in await store.list_runs(thread.id)] == [first.id]
    assert await store.get_run(first.id) == first


async def test_concurrent_rejects_let_exactly_one_run_in(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    results = await asyncio.gather(
        *(store.create_run(thread.id, spec, TASK, Strategy.REJECT) for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, ConflictError) for r in results if isinstance(r, BaseException))
    assert len(await store.list_runs(thread.id)) == 1


async def test_an_interrupted_run_does_not_block_the_next_one(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.finish_run(run_id, RunStatus.INTERRUPTED, stop_reason="handoff to user")
    assert (await store.get_thread(thread.id)).status == ThreadStatus.INTERRUPTED
    answer = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    assert answer.status == RunStatus.PENDING
    assert (await store.get_thread(thread.id)).status == ThreadStatus.BUSY


async def test_enqueue_queues_behind_the_current_run(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    running = await _running(store, thread, spec)
    queued = await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE)
    assert (await store.get_run(running)).status == RunStatus.RUNNING
    assert await store.stop_requested(running) is None
    assert [r.id for r in await store.pending_runs()] == [queued.id]


async def test_interrupt_asks_the_running_run_to_stop_and_keeps_its_work(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    running = await _running(store, thread, spec)
    await store.record_turn(turn(running, 0, "kept"))
    new = await store.create_run(thread.id, spec, TASK, Strategy.INTERRUPT)
    assert await store.stop_requested(running) == STOP_INTERRUPT
    assert (await store.get_run(running)).status == RunStatus.RUNNING  # it stops at its boundary
    done = await store.finish_run(running, RunStatus.INTERRUPTED, stop_reason=STOP_INTERRUPT)
    assert done.status == RunStatus.INTERRUPTED
    assert [m.message["content"] for m in await store.list_messages(thread.id)] == ["kept"]
    assert await store.thread_state(thread.id) == {"turn": 0, "said": ["t0"]}
    assert [r.id for r in await store.pending_runs()] == [new.id]


async def test_interrupt_stops_pending_runs_at_once(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    waiting = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    new = await store.create_run(thread.id, spec, TASK, Strategy.INTERRUPT)
    stopped = await store.get_run(waiting.id)
    assert stopped.status == RunStatus.CANCELLED and stopped.finished_at is not None  # it never started
    assert [e.event for e in await store.read_events(waiting.id)] == ["status", "end"]
    assert await store.claim_run(waiting.id, "w1") is None
    assert [r.id for r in await store.pending_runs()] == [new.id]


async def test_rollback_drops_the_current_run_and_restores_the_state(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    first = await _running(store, thread, spec)
    await store.record_turn(turn(first, 0, "one", finished=True, stop_reason="done", state={"v": 1}))
    await store.finish_run(first, RunStatus.SUCCEEDED)
    second = await _running(store, thread, spec, worker="w2")
    await store.record_turn(turn(second, 0, "two", state={"v": 2}))
    await store.record_turn(turn(second, 1, "three", state={"v": 3}))
    new = await store.create_run(thread.id, spec, TASK, Strategy.ROLLBACK)

    dropped = await store.get_run(second)
    assert (
        dropped.status == RunStatus.CANCELLED and dropped.stop_reason == STOP_ROLLBACK and dropped.turns == 0
    )
    assert await store.stop_requested(second) == STOP_ROLLBACK
    assert [m.message["content"] for m in await store.list_messages(thread.id)] == ["one"]
    assert await store.thread_state(thread.id) == {"v": 1}
    assert await store.latest_checkpoint(second) is None
    assert [(e.seq, e.event) for e in await store.read_events(second)] == [(3, "status"), (4, "end")]
    # The rolled-back run's worker can no longer write, heartbeat or finish.
    with pytest.raises(ConflictError, match="is cancelled, not running"):
        await store.record_turn(turn(second, 2, "late"))
    assert await store.heartbeat(second, "w2") is False
    with pytest.raises(ConflictError):
        await store.finish_run(second, RunStatus.SUCCEEDED)
    assert [r.id for r in await store.pending_runs()] == [new.id]


async def test_max_queue_refuses_with_retry_after_and_stores_nothing(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    other = await store.create_thread()
    await store.create_run(thread.id, spec, TASK, Strategy.REJECT, max_queue=2)
    await store.create_run(other.id, spec, TASK, Strategy.REJECT, max_queue=2)
    third = await store.create_thread()
    with pytest.raises(OverloadedError) as info:
        await store.create_run(third.id, spec, TASK, Strategy.REJECT, max_queue=2)
    assert info.value.retry_after > 0 and info.value.status == 429
    assert await store.queue_depth() == 2
    assert await store.list_runs(third.id) == []
    assert (await store.get_thread(third.id)).status == ThreadStatus.IDLE


async def test_claim_is_a_compare_and_set(store: SqlStore, thread: Thread, spec: SpecRecord) -> None:
    run = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    claims = await asyncio.gather(*(store.claim_run(run.id, f"w{i}") for i in range(6)))
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1
    held = winners[0]
    assert held.status == RunStatus.RUNNING and held.attempt == 1 and held.started_at is not None
    assert (await store.get_run(run.id)).worker == held.worker
    assert await store.queue_depth() == 0
    with pytest.raises(NotFoundError):
        await store.claim_run("missing", "w1")


async def test_a_stale_run_is_taken_over_with_the_next_attempt(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec, worker="dead")
    assert await store.claim_run(run_id, "live") is None  # running, and not stale by default
    assert await store.claim_run(run_id, "live", stale_before=now() - timedelta(minutes=1)) is None
    later = now() + timedelta(seconds=1)
    assert [r.id for r in await store.stale_runs(later)] == [run_id]
    taken = await store.claim_run(run_id, "live", stale_before=later)
    assert taken is not None and taken.worker == "live" and taken.attempt == 2
    assert await store.heartbeat(run_id, "dead") is False
    assert await store.heartbeat(run_id, "live") is True
    with pytest.raises(ConflictError, match="held by 'live', not 'dead'"):
        await store.record_turn(turn(run_id, 0, "zombie", worker="dead"))
    await store.record_turn(turn(run_id, 0, "alive", worker="live"))
    with pytest.raises(ConflictError, match="held by 'live'"):
        await store.finish_run(run_id, RunStatus.SUCCEEDED, worker="dead")


async def test_release_gives_the_run_back_for_another_attempt(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    assert await store.release_run(run_id, "other") is False
    assert await store.release_run(run_id, "w1") is True
    released = await store.get_run(run_id)
    assert released.status == RunStatus.PENDING and released.worker == "w1"
    assert await store.release_run(run_id, "w1") is False
    again = await store.claim_run(run_id, "w2")
    assert again is not None and again.attempt == 2


async def test_request_stop_on_a_running_run_is_read_at_the_boundary(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    asked = await store.request_stop(run_id, STOP_CANCEL)
    assert asked.status == RunStatus.RUNNING
    assert await store.stop_requested(run_id) == STOP_CANCEL
    done = await store.finish_run(run_id, RunStatus.CANCELLED, stop_reason="cancelled")
    assert done.status == RunStatus.CANCELLED
    with pytest.raises(ConflictError, match="already cancelled"):
        await store.request_stop(run_id, STOP_CANCEL)


async def test_request_stop_refuses_rollback_as_a_reason(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    with pytest.raises(ValueError, match="call rollback_run"):
        await store.request_stop(run_id, STOP_ROLLBACK)
    assert await store.stop_requested(run_id) is None


async def test_request_stop_on_a_pending_run_cancels_it_now(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    stopped = await store.request_stop(run.id, STOP_CANCEL)
    assert stopped.status == RunStatus.CANCELLED and stopped.stop_reason == STOP_CANCEL
    assert await store.claim_run(run.id, "w1") is None
    assert (await store.get_thread(thread.id)).status == ThreadStatus.IDLE
    events = await store.read_events(run.id)
    assert [(e.event, e.data.get("status")) for e in events] == [
        ("status", "cancelled"),
        ("end", "cancelled"),
    ]


async def test_finish_run_appends_status_and_end_after_the_turns(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run_id = await _running(store, thread, spec)
    await store.record_turn(turn(run_id, 0, "a", "b"))
    error = RunError(type="ValueError", message="bad", agent="writer")
    done = await store.finish_run(run_id, RunStatus.FAILED, stop_reason="error", error=error)
    assert done.status == RunStatus.FAILED and done.error == error and done.finished_at is not None
    events = await store.read_events(run_id)
    assert [(e.seq, e.event) for e in events] == [(1, "message"), (2, "message"), (3, "status"), (4, "end")]
    assert events[2].data == {"status": "failed", "stop_reason": "error", "error": error.model_dump()}
    assert [e.seq for e in await store.read_events(run_id, after=2, limit=1)] == [3]
    # A failed run's last checkpoint becomes the thread's state: it matches the thread's messages.
    assert await store.thread_state(thread.id) == {"turn": 0, "said": ["t0"]}
    assert (await store.get_thread(thread.id)).status == ThreadStatus.IDLE
    with pytest.raises(ConflictError, match="already failed"):
        await store.finish_run(run_id, RunStatus.SUCCEEDED)
    with pytest.raises(ValueError, match="not a final status"):
        await store.finish_run(run_id, RunStatus.RUNNING)


async def test_run_counts_and_queue_depth(store: SqlStore, thread: Thread, spec: SpecRecord) -> None:
    other = await store.create_thread()
    await _running(store, thread, spec)
    await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE)
    await store.create_run(other.id, spec, TASK, Strategy.ENQUEUE)
    counts = await store.run_counts()
    assert counts[RunStatus.RUNNING] == 1 and counts[RunStatus.PENDING] == 2
    assert set(counts) == set(RunStatus) and counts[RunStatus.FAILED] == 0
    assert await store.queue_depth() == 2


async def test_pending_runs_come_oldest_first(store: SqlStore, spec: SpecRecord) -> None:
    ids = []
    for _ in range(3):
        t = await store.create_thread()
        ids.append((await store.create_run(t.id, spec, None, Strategy.REJECT)).id)
    assert [r.id for r in await store.pending_runs()] == ids


@pytest.mark.parametrize(
    "call",
    ["get_run", "run_task", "stop_requested", "latest_checkpoint", "read_events", "rollback_run"],
)
async def test_unknown_run_is_not_found(store: SqlStore, call: str) -> None:
    with pytest.raises(NotFoundError, match="run 'missing' does not exist"):
        await getattr(store, call)("missing")


@pytest.mark.parametrize("call", ["heartbeat", "release_run", "request_stop"])
async def test_unknown_run_is_not_found_for_worker_calls(store: SqlStore, call: str) -> None:
    with pytest.raises(NotFoundError, match="run 'missing'"):
        await getattr(store, call)("missing", "w1")


@pytest.mark.postgres
async def test_a_new_runs_timestamps_are_utc_whatever_the_servers_zone(pg_url: str, pg_schema: str) -> None:
    import psycopg

    from muster.service.store import _pgpaths, upgrade_database

    await upgrade_database(pg_url, pg_schema)
    store = SqlStore(pg_url, schema=pg_schema)
    await store.open()
    try:
        spec = await store.put_spec("team", COMPONENT)
        thread = await store.create_thread()
    finally:
        await store.close()
    options = f"-c search_path={pg_schema} -c timezone=Asia/Tokyo"  # a server in another zone
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True, options=options) as pg:
        row = await _pgpaths.create_run_call(
            pg, thread.id, spec, None, Strategy.REJECT, now(), max_queue=None, metadata=None, entrypoint=None
        )
    assert row is not None
    for key in ("created_at", "updated_at"):
        assert row[key].utcoffset() == timedelta(0)
        assert abs((row[key] - now()).total_seconds()) < 60
