"""The memory monitor in the service: levels on /metrics, caches emptied at warning, 429 at critical.

The monitor reads memory through a probe; here the probe returns a value the test sets
(a deterministic input, like a replay model), and everything else is the real service:
the app on loopback with its store, executor and shared response cache, or a real
``muster worker`` loop on PostgreSQL. A check is triggered with ``acheck_memory`` (the
same callbacks the periodic loop runs), except in the test of the loop itself.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

# The guard's gc.collect() finalizes whatever garbage earlier tests left in this process (an
# unclosed socket's ResourceWarning, raised there as an "unraisable" exception): that is
# another test's leak surfacing here, not this module's, so it must not fail these tests.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "api"))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from api_kit import API_KEY, make_settings, running_api  # noqa: E402
from model_server import ModelServer, openai_agent  # noqa: E402
from service_kit import replay_agent, serve_app, wait_until  # noqa: E402

from muster.ops import MemoryMonitor, MemorySample  # noqa: E402
from muster.service.memory import MemoryGuard, service_probe  # noqa: E402
from muster.service.settings import ServiceSettings  # noqa: E402


@dataclass(frozen=True)
class Database:
    backend: str
    url: str
    schema: str | None = None


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


class Gauge:
    """The memory reading the monitor sees: whatever the test set last."""

    def __init__(self, usage: float = 0.3) -> None:
        self.usage = usage

    def __call__(self) -> MemorySample:
        return MemorySample(self.usage, 100.0, (1 - self.usage) * 1000)


def sqlite(tmp_path: Path) -> Database:
    return Database("sqlite", f"sqlite:///{tmp_path / 'muster.db'}")


async def metric(client: Any, name: str, **labels: str) -> float:
    response = await client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


async def test_critical_refuses_runs_with_429_until_memory_is_back_to_normal(tmp_path: Path) -> None:
    gauge = Gauge()
    monitor = MemoryMonitor(0.8, 0.9, probe=gauge)
    database = sqlite(tmp_path)
    async with running_api(make_settings(database), database, memory_monitor=monitor) as api:
        await api.put_spec("a", replay_agent("a", ["one", "two", "three"]))
        thread = await api.thread()

        gauge.usage = 0.95
        await monitor.acheck_memory()
        refused = await api.client.post(f"/v1/threads/{thread}/runs", json={"spec": "a", "task": "x"})
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert await metric(api.client, "muster_memory_level", level="critical") == 1
        assert await metric(api.client, "muster_memory_level", level="normal") == 0
        assert await metric(api.client, "muster_memory_usage_ratio") == pytest.approx(0.95)

        gauge.usage = 0.85  # warning: still refused (no flapping at the threshold)
        await monitor.acheck_memory()
        again = await api.client.post(f"/v1/threads/{thread}/runs", json={"spec": "a", "task": "x"})
        assert again.status_code == 429
        assert await metric(api.client, "muster_memory_level", level="warning") == 1

        gauge.usage = 0.5
        await monitor.acheck_memory()
        run = await api.start(thread, "a", "x")
        assert (await api.wait_status(run["id"], "succeeded"))["status"] == "succeeded"
        assert await metric(api.client, "muster_memory_level", level="normal") == 1
        assert await metric(api.client, "muster_memory_level", level="critical") == 0


async def test_warning_empties_the_shared_response_cache(tmp_path: Path, model_server: ModelServer) -> None:
    gauge = Gauge()
    monitor = MemoryMonitor(0.8, 0.9, probe=gauge)
    database = sqlite(tmp_path)
    settings = make_settings(database, cache={"type": "memory"})
    async with running_api(settings, database, memory_monitor=monitor) as api:
        await api.put_spec("alice", openai_agent("alice", model_server.url))

        async def ask() -> None:
            thread = await api.thread()
            done = await api.client.post(
                f"/v1/threads/{thread}/runs/wait", json={"spec": "alice", "task": "hi"}
            )
            assert done.status_code == 200 and done.json()["run"]["status"] == "succeeded", done.text

        await ask()
        await ask()
        assert model_server.asked("alice") == 1  # the second run was answered by the cache
        cache = api.app.state.muster.executor.response_cache
        assert len(cache) == 1

        gauge.usage = 0.82
        await monitor.acheck_memory()
        assert len(cache) == 0
        assert await metric(api.client, "muster_memory_level", level="warning") == 1
        await ask()
        assert model_server.asked("alice") == 2  # the cache was emptied: the model is asked again
        # Runs are still accepted at warning.
        assert not monitor.backpressure


async def test_the_service_checks_memory_on_its_own_every_interval(tmp_path: Path) -> None:
    gauge = Gauge(0.93)
    monitor = MemoryMonitor(0.8, 0.9, probe=gauge)
    database = sqlite(tmp_path)
    settings = make_settings(database, memory={"check_seconds": 0.05})
    async with running_api(settings, database, memory_monitor=monitor) as api:
        await api.put_spec("a", replay_agent("a", ["one"]))

        async def level_is(level: str) -> bool:
            return await metric(api.client, "muster_memory_level", level=level) == 1

        await wait_until(lambda: level_is("critical"), timeout=10, what="the critical level on /metrics")
        thread = await api.thread()
        refused = await api.client.post(f"/v1/threads/{thread}/runs", json={"spec": "a", "task": "x"})
        assert refused.status_code == 429
        gauge.usage = 0.2
        await wait_until(lambda: level_is("normal"), timeout=10, what="the normal level on /metrics")
        run = await api.start(thread, "a", "x")
        await api.wait_status(run["id"], "succeeded")


def test_settings_build_a_monitor_with_the_configured_thresholds() -> None:
    settings = ServiceSettings(memory={"warning": 0.7, "critical": 0.75, "check_seconds": 2})
    guard = MemoryGuard.for_service(settings)
    assert guard is not None
    assert (guard.monitor.warning_threshold, guard.monitor.critical_threshold) == (0.7, 0.75)
    assert guard.interval == 2
    assert MemoryGuard.for_service(ServiceSettings(memory={"enabled": False})) is None
    with pytest.raises(ValueError, match="at least memory.warning"):
        ServiceSettings(memory={"warning": 0.9, "critical": 0.8})


def test_the_service_probe_reads_this_machine() -> None:
    sample = service_probe()
    assert 0 < sample.system_usage_percent < 1
    assert sample.process_memory_mb > 10  # a Python process with the service loaded
    assert sample.available_memory_mb > 0


@pytest.mark.postgres
async def test_a_worker_at_critical_gives_new_jobs_back_until_memory_is_normal(
    pg_schema: str, pg_url: str
) -> None:
    from muster.service.api import create_app
    from muster.service.execution.worker import run_worker
    from muster.service.store import SqlStore, upgrade_database

    database = Database("postgresql", pg_url, pg_schema)
    settings = make_settings(database)
    await upgrade_database(pg_url, pg_schema)
    gauge = Gauge(0.95)
    monitor = MemoryMonitor(0.8, 0.9, probe=gauge)
    await monitor.acheck_memory()  # critical before the worker takes anything
    # The API without a memory monitor of its own: only the worker is short of memory.
    settings_api = make_settings(database, memory={"enabled": False})
    worker_store = SqlStore.from_settings(settings)
    await worker_store.open()
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, worker_store, install_signal_handlers=False, stop=stop, memory_monitor=monitor)
    )
    try:
        async with (
            serve_app(create_app(settings_api)) as url,
            httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}) as client,
        ):
            spec = {"name": "a", "component": replay_agent("a", ["one"])}
            assert (await client.post("/v1/specs", json=spec)).status_code == 201
            thread = (await client.post("/v1/threads", json={})).json()["id"]
            accepted = await client.post(f"/v1/threads/{thread}/runs", json={"spec": "a", "task": "x"})
            assert accepted.status_code == 202
            run_id = accepted.json()["id"]

            async def job_given_back() -> bool:
                # PgQueuer queued the job again (RetryRequested): queued, with an attempt counted.
                async with await psycopg.AsyncConnection.connect(pg_url) as conn:
                    cursor = await conn.execute(
                        f'SELECT status, attempts FROM "{pg_schema}".pgqueuer WHERE dedupe_key = %s',
                        (run_id,),
                    )
                    row = await cursor.fetchone()
                return row is not None and row[0] == "queued" and row[1] >= 1

            await wait_until(job_given_back, timeout=20, what="the worker to give the job back")
            assert (await client.get(f"/v1/runs/{run_id}")).json()["status"] == "pending"

            gauge.usage = 0.3
            await monitor.acheck_memory()

            async def succeeded() -> bool:
                return bool((await client.get(f"/v1/runs/{run_id}")).json()["status"] == "succeeded")

            await wait_until(succeeded, timeout=30, what="the run to succeed once memory is normal")
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        await worker_store.close()
