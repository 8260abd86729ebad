"""JobExecutor on PostgreSQL: a run's job is committed with the run, in one transaction;
only a thread's first current run is queued, and the next when it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from muster.service.execution.jobs import JobExecutor
from muster.service.models import Run, RunStatus, SpecRecord, Strategy
from muster.service.settings import ServiceSettings
from muster.service.store import SqlStore, upgrade_database
from muster.service.store.base import TurnWrite

pytestmark = pytest.mark.postgres

COMPONENT: dict[str, Any] = {
    "provider": "muster.teams.RoundRobinGroupChat",
    "component_type": "team",
    "config": {"participants": [], "max_turns": 1},
}
TASK = [{"type": "TextMessage", "source": "user", "content": "go"}]


@pytest.fixture
async def parts(pg_url: str, pg_schema: str) -> AsyncIterator[tuple[SqlStore, JobExecutor, SpecRecord]]:
    await upgrade_database(pg_url, pg_schema)
    settings = ServiceSettings(database={"url": pg_url, "schema": pg_schema})
    store = SqlStore(pg_url, schema=pg_schema)
    await store.open()
    executor = JobExecutor(store, settings)
    await executor.start()
    spec = await store.put_spec("team", COMPONENT)
    yield store, executor, spec
    await executor.stop(0)
    await store.close()


def _jobs(pg_url: str, schema: str, columns: str = "status, entrypoint, dedupe_key") -> list[tuple[Any, ...]]:
    with psycopg.connect(pg_url, options=f"-c search_path={schema}") as conn:
        return [tuple(row) for row in conn.execute(f"SELECT {columns} FROM pgqueuer ORDER BY id").fetchall()]


async def test_the_runs_job_commits_with_the_run(
    parts: tuple[SqlStore, JobExecutor, SpecRecord], pg_url: str, pg_schema: str
) -> None:
    store, executor, spec = parts
    thread = await store.create_thread()
    enqueue = executor.enqueue_in()
    run = await store.create_run(thread.id, spec, TASK, Strategy.REJECT, on_insert=enqueue)
    assert _jobs(pg_url, pg_schema) == [("queued", "muster.run:muster", run.id)]
    assert _jobs(pg_url, pg_schema, "payload") == [(run.id.encode(),)]


async def test_a_run_behind_another_is_queued_when_that_one_ends(
    parts: tuple[SqlStore, JobExecutor, SpecRecord], pg_url: str, pg_schema: str
) -> None:
    store, executor, spec = parts
    thread = await store.create_thread()
    enqueue = executor.enqueue_in()
    first = await store.create_run(thread.id, spec, TASK, Strategy.REJECT, on_insert=enqueue)
    second = await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE, on_insert=enqueue)
    await executor.submit(second, enqueued=True)
    assert [key for *_, key in _jobs(pg_url, pg_schema)] == [first.id]  # the second waits its turn
    assert await store.claim_run(second.id, "w") is None  # and cannot jump it
    async with executor.jobs.connection() as conn:
        assert await executor.jobs.kick(conn, thread.id) == [first.id]  # still first: queued already
    assert [key for *_, key in _jobs(pg_url, pg_schema)] == [first.id]
    assert await store.claim_run(first.id, "w") is not None
    async with executor.jobs.connection() as conn:
        assert await executor.jobs.kick(conn, thread.id) == []  # the first runs: nothing is next
    await store.finish_run(first.id, "succeeded", worker="w")
    async with executor.jobs.connection() as conn:
        assert await executor.jobs.kick(conn, thread.id) == [second.id]
    assert [key for *_, key in _jobs(pg_url, pg_schema)] == [first.id, second.id]
    assert await store.claim_run(second.id, "w") is not None


async def test_a_workers_store_queues_the_next_run_in_the_end_write_itself(
    parts: tuple[SqlStore, JobExecutor, SpecRecord], pg_url: str, pg_schema: str
) -> None:
    store, executor, spec = parts
    store.job_entrypoint = executor.jobs.entrypoint  # as ``muster worker`` sets it
    enqueue = executor.enqueue_in()
    for ending in ("the function", "the transaction"):
        thread = await store.create_thread()
        first = await store.create_run(thread.id, spec, TASK, Strategy.REJECT, on_insert=enqueue)
        second = await store.create_run(thread.id, spec, TASK, Strategy.ENQUEUE, on_insert=enqueue)
        assert await store.claim_run(first.id, "w") is not None
        assert second.id not in [key for *_, key in _jobs(pg_url, pg_schema)]
        if ending == "the function":  # a last turn with its state: one muster_turn call
            turn = TurnWrite(run_id=first.id, turn=1, messages=[], state={"s": 1}, finished=True)
            await store.finish_run(first.id, RunStatus.SUCCEEDED, worker="w", turn=turn)
        else:  # no turn: the portable path, in a transaction
            await store.finish_run(first.id, RunStatus.FAILED, worker="w")
        assert [key for *_, key in _jobs(pg_url, pg_schema)][-1] == second.id  # no kick needed
        assert await store.claim_run(second.id, "w") is not None


async def test_the_reconcile_pass_queues_every_threads_next_run_once(
    parts: tuple[SqlStore, JobExecutor, SpecRecord], pg_url: str, pg_schema: str
) -> None:
    store, executor, spec = parts
    runs = []
    for _ in range(3):
        thread = await store.create_thread()
        runs.append(await store.create_run(thread.id, spec, TASK, Strategy.REJECT))  # no job: lost
    async with executor.jobs.connection() as conn:
        assert sorted(await executor.jobs.kick(conn)) == sorted(run.id for run in runs)
        await executor.jobs.kick(conn)  # again: nothing more is queued
    assert sorted(key for *_, key in _jobs(pg_url, pg_schema)) == sorted(run.id for run in runs)


async def test_a_failure_after_the_job_leaves_neither_run_nor_job(
    parts: tuple[SqlStore, JobExecutor, SpecRecord], pg_url: str, pg_schema: str
) -> None:
    store, executor, spec = parts
    thread = await store.create_thread()
    enqueue = executor.enqueue_in()
    created: list[Run] = []

    async def enqueue_then_fail(conn: Any, run: Run) -> None:
        await enqueue(conn, run)
        created.append(run)
        raise RuntimeError("the process died between the job and the commit")

    with pytest.raises(RuntimeError):
        await store.create_run(thread.id, spec, TASK, Strategy.REJECT, on_insert=enqueue_then_fail)
    assert created  # the job was written in the transaction, then rolled back with the run
    assert _jobs(pg_url, pg_schema) == []
    assert await store.list_runs(thread.id) == []
    assert (await store.get_thread(thread.id)).status == "idle"


async def test_sqlite_refuses_a_transactional_enqueue(tmp_path: Any) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'm.db'}")
    await store.open()
    try:
        spec = await store.put_spec("team", COMPONENT)
        thread = await store.create_thread()

        async def enqueue(conn: Any, run: Run) -> None:  # pragma: no cover - never called
            raise AssertionError

        with pytest.raises(ValueError, match="needs PostgreSQL"):
            await store.create_run(thread.id, spec, TASK, Strategy.REJECT, on_insert=enqueue)
    finally:
        await store.close()
