"""Worker heartbeats (``autogen_agents_count``) and the order a thread's runs are claimed in, on both backends."""

from __future__ import annotations

from datetime import timedelta

from muster.service.models import RunStatus, SpecRecord, Strategy, Thread
from muster.service.store import SqlStore
from muster.service.store._rows import now

TASK = [{"type": "TextMessage", "source": "user", "content": "go"}]


async def test_workers_are_online_busy_offline_and_forgotten(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    assert await store.worker_counts(now() - timedelta(seconds=30)) == (0, 0, 0)
    await store.worker_heartbeat("a")
    await store.worker_heartbeat("b")
    await store.worker_heartbeat("a")  # a second beat is the same worker
    assert await store.worker_counts(now() - timedelta(seconds=30)) == (2, 0, 0)
    run = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    assert await store.claim_run(run.id, "b") is not None
    assert await store.worker_counts(now() - timedelta(seconds=30)) == (2, 0, 1)
    # Seen from later on, both heartbeats have lapsed: offline, and not busy.
    assert await store.worker_counts(now() + timedelta(seconds=1)) == (0, 2, 0)
    await store.worker_stopped("a")
    assert await store.worker_counts(now() - timedelta(seconds=30)) == (1, 0, 1)
    # A worker starting forgets the ones whose heartbeat lapsed before it.
    await store.worker_heartbeat("c", forget_before=now() + timedelta(seconds=1))
    assert await store.worker_counts(now() - timedelta(seconds=30)) == (1, 0, 0)


async def test_a_threads_runs_are_claimed_in_order(store: SqlStore, thread: Thread, spec: SpecRecord) -> None:
    first = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    second = await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE)
    assert await store.claim_run(second.id, "w") is None  # pending behind the first
    assert await store.claim_run_start(second.id, "w") is None
    assert await store.claim_run(first.id, "w") is not None
    assert await store.claim_run(second.id, "w") is None  # running behind the first
    await store.finish_run(first.id, RunStatus.SUCCEEDED, worker="w")
    claimed = await store.claim_run_start(second.id, "w")
    assert claimed is not None and claimed[1].previous is not None and claimed[1].previous.id == first.id


async def test_a_stale_running_run_is_taken_over_only_with_stale_before(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    run = await store.create_run(thread.id, spec, TASK, Strategy.REJECT)
    assert await store.claim_run(run.id, "dead") is not None
    assert await store.claim_run_start(run.id, "live") is None
    assert await store.claim_run_start(run.id, "live", stale_before=now() - timedelta(seconds=30)) is None
    taken = await store.claim_run_start(run.id, "live", stale_before=now() + timedelta(seconds=1))
    assert taken is not None and taken[0].worker == "live" and taken[0].attempt == 2
