"""JobExecutor on PostgreSQL: a run's job is committed with the run, in one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from muster.service.execution.jobs import JobExecutor
from muster.service.models import Run, SpecRecord, Strategy
from muster.service.settings import ServiceSettings
from muster.service.store import SqlStore, upgrade_database

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


def _jobs(pg_url: str, schema: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(pg_url, options=f"-c search_path={schema}") as conn:
        rows = conn.execute(
            "SELECT status, lock, queueing_lock FROM procrastinate_jobs ORDER BY id"
        ).fetchall()
    return [(str(s), str(lock), str(q)) for s, lock, q in rows]


async def test_the_runs_job_commits_with_the_run(
    parts: tuple[SqlStore, JobExecutor, SpecRecord], pg_url: str, pg_schema: str
) -> None:
    store, executor, spec = parts
    thread = await store.create_thread()
    enqueue = executor.enqueue_in()
    run = await store.create_run(thread.id, spec, TASK, Strategy.REJECT, on_insert=enqueue)
    assert _jobs(pg_url, pg_schema) == [("todo", thread.id, run.id)]


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
