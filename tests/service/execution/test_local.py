"""LocalExecutor (SQLite): concurrency limit, one run at a time per thread, drain and resume at start."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from model_server import ModelServer, agent_of, openai_agent
from service_kit import wait_until
from team_specs import duo

from muster.service.execution import LocalExecutor
from muster.service.models import RunStatus, Strategy
from muster.service.settings import ServiceSettings
from muster.service.store import SqlStore


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> Any:
    store = SqlStore(f"sqlite:///{tmp_path / 'local.db'}")
    await store.open()
    yield store
    await store.close()


def _settings(tmp_path: Path, **agents: Any) -> ServiceSettings:
    return ServiceSettings(
        database={"url": f"sqlite:///{tmp_path / 'local.db'}"},
        agents={"timeout": 60, **agents},
        worker={"heartbeat_seconds": 0.5},
    )


async def _runs(store: SqlStore, spec: dict[str, Any], threads: int, per_thread: int = 1) -> list[Any]:
    record = await store.put_spec("s", spec)
    runs = []
    for _ in range(threads):
        thread = await store.create_thread()
        for i in range(per_thread):
            task = [{"type": "TextMessage", "source": "user", "content": f"task {i}"}]
            runs.append(await store.create_run(thread.id, record, task, Strategy.ENQUEUE))
    return runs


async def _status(store: SqlStore, run_id: str, *statuses: RunStatus) -> Any:
    async def check() -> Any:
        run = await store.get_run(run_id)
        return run if run.status in statuses else None

    return await wait_until(check, what=f"run {run_id} in {statuses}")


async def test_at_most_max_concurrent_runs_execute(
    sqlite_store: SqlStore, model_server: ModelServer, tmp_path: Path
) -> None:
    gate = model_server.gate(lambda body: True)
    gate.times = 3
    runs = await _runs(sqlite_store, openai_agent("alice", model_server.url), threads=3)
    executor = LocalExecutor(sqlite_store, _settings(tmp_path, max_concurrent=2))
    await executor.start()
    await wait_until(lambda: asyncio.sleep(0, model_server.asked("alice") == 2), what="two runs at the model")
    assert executor.executing == 2
    statuses = [(await sqlite_store.get_run(r.id)).status for r in runs]
    assert sorted(statuses) == [RunStatus.PENDING, RunStatus.RUNNING, RunStatus.RUNNING]
    gate.open()
    for run in runs:
        await _status(sqlite_store, run.id, RunStatus.SUCCEEDED)
    await executor.stop(1)


async def test_a_threads_runs_execute_one_at_a_time_in_order(
    sqlite_store: SqlStore, model_server: ModelServer, tmp_path: Path
) -> None:
    runs = await _runs(sqlite_store, openai_agent("alice", model_server.url), threads=1, per_thread=3)
    executor = LocalExecutor(sqlite_store, _settings(tmp_path, max_concurrent=10))
    await executor.start()
    ended = [await _status(sqlite_store, r.id, RunStatus.SUCCEEDED) for r in runs]
    for before, after in zip(ended, ended[1:], strict=False):
        assert after.started_at >= before.finished_at
    messages = [m.message["content"] for m in await sqlite_store.list_messages(runs[0].thread_id)]
    assert messages == ["task 0", "alice #2", "task 1", "alice #4", "task 2", "alice #6"]
    await executor.stop(1)


async def test_drain_gives_unfinished_runs_back_and_the_next_start_resumes_them(
    sqlite_store: SqlStore, model_server: ModelServer, tmp_path: Path
) -> None:
    gate = model_server.gate(lambda body: agent_of(body) == "bob")
    (run,) = await _runs(sqlite_store, duo(model_server.url), threads=1)
    executor = LocalExecutor(sqlite_store, _settings(tmp_path))
    await executor.start()
    assert await asyncio.to_thread(gate.arrived.wait, 30)
    await executor.stop(0.1)  # bob's turn cannot finish in time: the run is given back
    assert executor.draining
    assert (await sqlite_store.get_run(run.id)).status is RunStatus.PENDING
    gate.open()
    again = LocalExecutor(sqlite_store, _settings(tmp_path))
    await again.start()
    ended = await _status(sqlite_store, run.id, RunStatus.SUCCEEDED)
    assert ended.attempt == 2
    messages = [m.message["content"] for m in await sqlite_store.list_messages(run.thread_id)]
    assert messages == ["task 0", "alice #2", "bob #3"]
    assert model_server.asked("alice") == 1
    await again.stop(1)
