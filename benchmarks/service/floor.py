"""What the service's parts cost on their own, on this machine: the floors under its goals.

``python -m benchmarks.service --floor`` runs four measurements, each a fresh set of
processes, and prints one JSON object per line:

- ``procrastinate``: the job engine alone. 2,500 no-op jobs are deferred in batches,
  then two worker processes (procrastinate's own worker, concurrency 10, successful jobs
  deleted: the service's settings) run them; over a window while they run (the queue
  between about 2,300 and 300 deep; PostgreSQL's cost per job grows with it): jobs per
  second, the workers' CPU per job and PostgreSQL's CPU per job (all of its processes).
- ``pgqueuer``: the same measurement on PgQueuer (a benchmark-only dependency, the candidate
  engine: it fetches and acknowledges jobs in batches), for the engine decision in
  docs/benchmarks.md ("Service").
- ``store``: muster's durable store alone (``store_floor.py``): the seven calls a run makes
  to PostgreSQL, with a run's payloads, 100 runs in flight in one process, no HTTP, no
  framework, no queue: runs per second and the CPU per run of that process and PostgreSQL.
- ``http``: the HTTP stack alone. A FastAPI app on uvicorn (httptools, uvloop: the
  service's server) with one route that answers a small JSON body, loaded by the
  benchmark's own client at 100 connections, two requests per iteration as a run costs
  (create the thread, start the run): iterations per second and the server's CPU per one.

Every run of the service pays at least one job of the engine and two such requests, on
the same two cores as PostgreSQL and the load generator: these are the floors its
throughput goals are measured against (docs/benchmarks.md, "Service").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

PG_ADMIN_URL = os.environ.get("MUSTER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
DB = f"muster_floor_{os.getpid()}"
WINDOW_S = 8.0
_ROOT = Path(__file__).resolve().parents[2]
_MUSTER_PYTHON = _ROOT / ".venv" / "bin" / "python"


def _db_url() -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path=f"/{DB}"))


def _app(conninfo: str) -> Any:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))

    @app.task(name="noop", queue="floor")
    async def noop(i: int) -> None:
        return None

    return app


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _postgres() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]


async def _todo(conninfo: str) -> int:
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        row = await (
            await conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")
        ).fetchone()
    return int(row[0]) if row else 0


async def _worker(conninfo: str) -> None:
    app = _app(conninfo)
    async with app.open_async():
        await app.run_worker_async(
            queues=["floor"], concurrency=10, delete_jobs="successful", install_signal_handlers=False
        )


async def procrastinate_floor(jobs: int) -> dict[str, Any]:
    """The engine alone: see the module docstring."""
    with _fresh_database() as conninfo:
        app = _app(conninfo)
        async with app.open_async():
            await app.schema_manager.apply_schema_async()
            task = app.tasks["noop"]
            for start in range(0, jobs, 500):
                await task.batch_defer_async(*({"i": i} for i in range(start, min(jobs, start + 500))))
        return await _drain("procrastinate", "--worker", conninfo, jobs, lambda: _todo(conninfo))


async def _pgqueuer_worker(conninfo: str) -> None:
    import psycopg
    from pgqueuer import PgQueuer, PsycopgDriver

    conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    pgq = PgQueuer(PsycopgDriver(conn))

    @pgq.entrypoint("noop")
    async def noop(job: Any) -> None:
        return None

    await pgq.run(batch_size=10)


async def pgqueuer_floor(jobs: int) -> dict[str, Any]:
    """PgQueuer alone, measured as :func:`procrastinate_floor` measures procrastinate."""
    import psycopg
    from pgqueuer import PsycopgDriver, Queries

    async def queued(conninfo: str) -> int:
        async with await psycopg.AsyncConnection.connect(conninfo) as conn:
            row = await (
                await conn.execute("SELECT count(*) FROM pgqueuer WHERE status = 'queued'")
            ).fetchone()
        return int(row[0]) if row else 0

    with _fresh_database() as conninfo:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            queries = Queries(PsycopgDriver(conn))
            await queries.install()
            for start in range(0, jobs, 500):
                count = min(500, jobs - start)
                await queries.enqueue(["noop"] * count, [None] * count, [0] * count)
        return await _drain("pgqueuer", "--pgqueuer-worker", conninfo, jobs, lambda: queued(conninfo))


@contextlib.contextmanager
def _fresh_database() -> Iterator[str]:
    """A new, empty database for one measurement (its conninfo), dropped afterwards."""
    subprocess.run(
        ["psql", PG_ADMIN_URL, "-qc", f"DROP DATABASE IF EXISTS {DB}"], check=True, capture_output=True
    )
    subprocess.run(["psql", PG_ADMIN_URL, "-qc", f"CREATE DATABASE {DB}"], check=True, capture_output=True)
    try:
        yield _db_url()
    finally:
        subprocess.run(
            ["psql", PG_ADMIN_URL, "-qc", f"DROP DATABASE IF EXISTS {DB}"], check=False, capture_output=True
        )


async def _drain(
    floor: str, worker_flag: str, conninfo: str, jobs: int, waiting: Callable[[], Awaitable[int]]
) -> dict[str, Any]:
    """Two worker processes drain the queue; jobs/s and CPU per job over a window while they run.

    The window opens once both are fetching (no start-up in it) and closes when a few
    hundred jobs are left or ``WINDOW_S`` passed: the queue stays hundreds to a couple of
    thousand deep, as under the service's load, never empty.
    """
    cmd = [sys.executable, "-m", "benchmarks.service.floor", worker_flag, conninfo]
    workers = [subprocess.Popen(cmd, cwd=_ROOT, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        while await waiting() > jobs - 200:
            await asyncio.sleep(0.05)
        procs = [psutil.Process(w.pid) for w in workers]
        postgres = _postgres()
        left, worker_cpu, pg_cpu, began = await waiting(), _cpu(procs), _cpu(postgres), time.perf_counter()
        remaining = left
        while remaining > 300 and time.perf_counter() - began < WINDOW_S:
            await asyncio.sleep(0.02)
            remaining = await waiting()
        postgres += [p for p in _postgres() if p not in postgres]
        done = left - remaining
        elapsed = time.perf_counter() - began
        worker_cpu, pg_cpu = _cpu(procs) - worker_cpu, _cpu(postgres) - pg_cpu
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait()
    if done < 500:
        return {"floor": floor, "error": f"too few jobs for the window ({done} done)"}
    return {
        "floor": floor,
        "jobs_per_s": round(done / elapsed, 1),
        "worker_cpu_ms_per_job": round(worker_cpu / done * 1000, 2),
        "postgres_cpu_ms_per_job": round(pg_cpu / done * 1000, 2),
    }


def _http_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/threads")
    async def thread() -> dict[str, str]:
        return {"id": "0" * 32, "status": "idle"}

    @app.post("/v1/threads/{thread_id}/runs/wait")
    async def run(thread_id: str) -> dict[str, Any]:
        return {
            "run": {"id": thread_id, "status": "succeeded"},
            "messages": [{"content": "The answer is 42."}],
        }

    return app


def http_floor(seconds: float = WINDOW_S) -> dict[str, Any]:
    """The HTTP stack alone: see the module docstring."""
    from .__main__ import _free_port

    port = _free_port()
    code = (
        "import uvicorn, benchmarks.service.floor as f; "
        f"uvicorn.run(f._http_app(), host='127.0.0.1', port={port}, log_level='warning', "
        "loop='uvloop', http='httptools', access_log=False)"
    )
    server = subprocess.Popen([str(_MUSTER_PYTHON), "-c", code], cwd=_ROOT, stderr=subprocess.DEVNULL)
    try:
        _wait_ready_post(port)
        proc = psutil.Process(server.pid)
        load = [sys.executable, "-m", "benchmarks.service.load", "--target", "muster", "--mode", "wait"]
        load += ["--base", f"http://127.0.0.1:{port}", "--clients", "100", "--runs", "1000000"]
        load += ["--seconds", str(seconds), "--api-key", "x" * 16]
        before = _cpu([proc])
        result = json.loads(
            subprocess.run(load, cwd=_ROOT, capture_output=True, text=True, check=True).stdout
        )
        cpu = _cpu([proc]) - before
        return {
            "floor": "http",
            "iterations_per_s": round(result["runs_per_s"], 1),
            "server_cpu_ms_per_iteration": round(cpu / max(1, result["runs"]) * 1000, 3),
            "errors": result["errors"],
        }
    finally:
        server.terminate()
        server.wait()


def _wait_ready_post(port: int) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/v1/threads", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)  # polling a process we started; there is no event to wait on
    raise RuntimeError("the HTTP floor's server did not start")


def main(jobs: int) -> int:
    """Print the floors, one JSON object per line (run from the benchmark's venv, as ``--floor``).

    Both engines' floors and the HTTP load run under this venv (procrastinate, PgQueuer and
    aiohttp are benchmark-only here); the HTTP floor's server runs under muster's (FastAPI,
    uvicorn, uvloop, httptools).
    """
    print(json.dumps(asyncio.run(procrastinate_floor(jobs))), flush=True)
    print(json.dumps(asyncio.run(pgqueuer_floor(jobs * 4))), flush=True)
    print(json.dumps(http_floor()), flush=True)
    store = subprocess.run(  # muster's store: under muster's venv (store_floor.py)
        [str(_MUSTER_PYTHON), "-m", "benchmarks.service.store_floor"],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    print(store.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        asyncio.run(_worker(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--pgqueuer-worker":
        asyncio.run(_pgqueuer_worker(sys.argv[2]))
    else:
        sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2500))
