"""Service load benchmark: muster's API (SQLite, PostgreSQL) beside LangGraph's Agent Server.

Usage (``make bench-service`` installs ``.venv-langgraph`` and runs it)::

    .venv-langgraph/bin/python -m benchmarks.service [--targets ...] [--clients 1 10 100]
        [--modes wait stream] [--runs 2000] [--seconds 60] [--overload] [--quick]

Each target server runs as its own process tree on 127.0.0.1; the load comes from a second
process (``benchmarks/service/load.py``). Single-agent runs on a model that answers at once
(muster: a replay model in the spec; LangGraph: a one-node graph on a fake chat model), so
latency is the server's own overhead per run. CPU per run is the server processes' CPU
time (user + system, children included) over the runs they served. Prints a table; the
figures and the goals are discussed in docs/benchmarks.md ("Service").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MUSTER = ROOT / ".venv" / "bin" / "muster"
LANGGRAPH = Path(sys.executable).parent / "langgraph"
API_KEY = "mk_benchmark_key_only_for_loopback"
DEFAULT_WORKERS = max(1, (os.cpu_count() or 2) - 1)
"""One ``muster worker`` per core the API process leaves: on two cores, two workers beside the
API took 10-20% more CPU per run than one (more processes waking each other per run)."""
PG_ADMIN_URL = os.environ.get("MUSTER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
"""Where the benchmark's databases are made; TCP by default. A co-located server can be
reached over its Unix socket: ``postgresql://postgres@/test?host=/var/run/postgresql``."""


def pg_database_url(database: str) -> str:
    """``PG_ADMIN_URL`` naming another database (its query, such as a socket ``host``, kept)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(PG_ADMIN_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


SPEC = {
    "provider": "muster.agents.AssistantAgent",
    "component_type": "agent",
    "config": {
        "name": "assistant",
        "description": "Answers in one turn.",
        "reflect_on_tool_use": False,
        "tool_call_summary_format": "{result}",
        "model_client": {
            "provider": "muster.models.replay.ReplayChatCompletionClient",
            "component_type": "replay_chat_completion_client",
            "config": {"chat_completions": ["The answer is 42."]},
        },
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)  # polling a process we started; there is no event to wait on
    raise RuntimeError(f"{url} not ready after {deadline_s} s ({last})")


@dataclass
class Server:
    name: str
    base: str
    procs: list[subprocess.Popen[bytes]]
    target: str
    database: str | None = None
    """muster's PostgreSQL database, vacuumed before each cell (see ``vacuum``)."""

    def vacuum(self) -> None:
        """``VACUUM ANALYZE`` muster's database, standing in for autovacuum.

        The PostgreSQL of the machines this runs on has autovacuum off (its CI
        configuration), which no deployment has; without vacuuming, PostgreSQL's CPU per run
        climbs by about a third within 10,000 runs (dead queue and run rows scanned again
        and again), and the cells measured last pay for the ones before.
        """
        if self.database is not None:
            subprocess.run(
                ["psql", pg_database_url(self.database), "-qc", "VACUUM ANALYZE"],
                check=True,
                capture_output=True,
            )

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self.procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                p = psutil.Process(proc.pid)
                for q in [p, *p.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        t = q.cpu_times()
                        total += t.user + t.system
        return total

    def rss_mb(self) -> float:
        total = 0
        for proc in self.procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                p = psutil.Process(proc.pid)
                for q in [p, *p.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += q.memory_info().rss
        return total / 2**20


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _spawn(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


@contextlib.contextmanager
def muster_server(
    backend: str, workdir: Path, workers: int = DEFAULT_WORKERS, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    specs = workdir / "specs"
    specs.mkdir(exist_ok=True)
    (specs / "bench.json").write_text(json.dumps(SPEC))
    port = _free_port()
    env = {**os.environ, "MUSTER_API_KEYS": API_KEY, "MUSTER_LOGGING__LEVEL": "WARNING", **(extra_env or {})}
    procs: list[subprocess.Popen[bytes]] = []
    if backend == "sqlite":
        env["MUSTER_DATABASE__URL"] = f"sqlite:///{workdir / 'bench.db'}"
    else:
        db = f"muster_bench_{os.getpid()}"
        _psql(f"DROP DATABASE IF EXISTS {db}")
        _psql(f"CREATE DATABASE {db}")
        env["MUSTER_DATABASE__URL"] = pg_database_url(db)
        subprocess.run([str(MUSTER), "db", "upgrade"], env=env, check=True, cwd=workdir)
        (workdir / "env.json").write_text(json.dumps(env))
        procs.extend(_start_workers(workdir, workers))
    procs.insert(
        0,
        _spawn(
            [str(MUSTER), "serve", "--specs", str(specs), "--host", "127.0.0.1", "--port", str(port)],
            env,
            workdir,
            workdir / "serve.log",
        ),
    )
    try:
        try:
            _wait_ready(f"http://127.0.0.1:{port}/ready")
        except RuntimeError:
            print((workdir / "serve.log").read_text()[-3000:], file=sys.stderr)
            raise
        database = None if backend == "sqlite" else f"muster_bench_{os.getpid()}"
        yield Server(f"muster ({backend})", f"http://127.0.0.1:{port}", procs, "muster", database)
    finally:
        _stop(procs)
        if backend != "sqlite":
            _psql(f"DROP DATABASE IF EXISTS muster_bench_{os.getpid()}")


def _start_workers(workdir: Path, count: int) -> list[subprocess.Popen[bytes]]:
    """``count`` more ``muster worker`` processes with the server's environment (PostgreSQL)."""
    env = json.loads((workdir / "env.json").read_text())
    first = len(list(workdir.glob("worker*.log")))
    return [
        _spawn([str(MUSTER), "worker"], env, workdir, workdir / f"worker{first + i}.log")
        for i in range(count)
    ]


def _psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN_URL, "-q", "-c", sql], check=True, capture_output=True)


@contextlib.contextmanager
def langgraph_server(workdir: Path, jobs: int) -> Iterator[Server]:
    app = workdir / "langgraph_app"
    shutil.copytree(HERE / "langgraph_app", app)
    port = _free_port()
    env = {**os.environ, "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false"}
    cmd = [str(LANGGRAPH), "dev", "--no-browser", "--no-reload", "--port", str(port)]
    cmd += ["--n-jobs-per-worker", str(jobs)]
    proc = _spawn(cmd, env, app, workdir / "langgraph.log")
    try:
        _wait_ready(f"http://127.0.0.1:{port}/ok")
        yield Server("LangGraph (in-memory)", f"http://127.0.0.1:{port}", [proc], "langgraph")
    finally:
        _stop([proc])


def _load(server: Server, mode: str, clients: int, runs: int, seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.service.load", "--target", server.target, "--base", server.base]
    cmd += ["--mode", mode, "--clients", str(clients), "--runs", str(runs), "--seconds", str(seconds)]
    if server.target == "muster":
        cmd += ["--api-key", API_KEY]
    server.vacuum()
    cpu_before = server.cpu_seconds()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 300, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["load failed"])[-1]}
    result: dict[str, Any] = json.loads(proc.stdout)
    cpu = server.cpu_seconds() - cpu_before
    result["cpu_ms_per_run"] = cpu / result["runs"] * 1000 if result["runs"] else None
    result["rss_mb"] = server.rss_mb()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service")
    parser.add_argument("--targets", nargs="*", default=["muster-sqlite", "muster-postgres", "langgraph"])
    parser.add_argument("--clients", nargs="*", type=int, default=[1, 10, 100])
    parser.add_argument("--modes", nargs="*", default=["wait", "stream"])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--quick", action="store_true", help="200 runs, 20 s per cell")
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"muster workers on PostgreSQL (default: one per core the API leaves, {DEFAULT_WORKERS} here)",
    )
    parser.add_argument(
        "--overload",
        action="store_true",
        help=f"only the overload check: {OVERLOAD_FACTOR}x agents.max_queue runs offered at once",
    )
    parser.add_argument(
        "--soak", type=int, default=0, metavar="RUNS", help="only the soak: RUNS runs, server memory sampled"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="only the floors: procrastinate alone (no-op jobs) and the HTTP stack alone (benchmarks/service/floor.py)",
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.seconds = 200, 20.0
    if args.floor:
        from .floor import main as floors

        return floors(6000)
    if args.overload:
        return _overload([t for t in args.targets if t.startswith("muster-")], max(args.clients))
    if args.soak:
        return _soak([t for t in args.targets if t.startswith("muster-")], args.soak, max(args.clients))
    rows: list[tuple[str, str, int, dict[str, Any]]] = []
    for target in args.targets:
        with tempfile.TemporaryDirectory(prefix="muster-bench-") as tmp:
            workdir = Path(tmp)
            if target == "langgraph":
                ctx = langgraph_server(workdir, jobs=max(args.clients))
            else:
                ctx = muster_server(target.removeprefix("muster-"), workdir, workers=args.workers)
            with ctx as server:
                # Not measured: connections opened, statements prepared, caches filled, tables
                # no longer empty (the first cell on a fresh server ran up to 25% slower).
                _load(server, "wait", 20, WARM_UP_RUNS, 120.0)
                for mode in args.modes:
                    for clients in args.clients:
                        result = _load(server, mode, clients, args.runs, args.seconds)
                        rows.append((server.name, mode, clients, result))
                        print(f"  done: {server.name} {mode} x{clients}", file=sys.stderr, flush=True)
    _print(rows)
    return 0


WARM_UP_RUNS = 300
"""Runs each server gets before its first measured cell."""
OVERLOAD_QUEUE = 100
OVERLOAD_FACTOR = 10


def _overload(targets: list[str], clients: int) -> int:
    """Offer 10x the queue limit at once; every answer a 202 or a 429, no accepted run lost.

    On PostgreSQL the workers start only once the offer is over, so the queue fills (with
    workers running, the API is the bottleneck and the queue never reaches its limit); on
    SQLite the serving process executes as it accepts, and the check is that nothing
    accepted is lost under the same offer.
    """
    failed = False
    for target in targets:
        backend = target.removeprefix("muster-")
        with tempfile.TemporaryDirectory(prefix="muster-bench-") as tmp:
            env = {"MUSTER_AGENTS__MAX_QUEUE": str(OVERLOAD_QUEUE)}
            workers = 0 if backend == "postgres" else 2
            with muster_server(backend, Path(tmp), workers=workers, extra_env=env) as server:
                ids = Path(tmp) / "accepted.json"
                base = [sys.executable, "-m", "benchmarks.service.load", "--target", "muster"]
                base += ["--base", server.base, "--mode", "overload", "--clients", str(clients)]
                base += ["--runs", str(OVERLOAD_QUEUE * OVERLOAD_FACTOR), "--seconds", "600"]
                base += ["--api-key", API_KEY, "--ids-file", str(ids)]
                offer = _run_json([*base, "--phase", "offer"])
                if backend == "postgres":
                    server.procs.extend(_start_workers(Path(tmp), 2))
                drain = _run_json([*base, "--phase", "drain"])
                if offer is None or drain is None:
                    failed = True
                    continue
                print(
                    f"{server.name:<24} offered {offer['offered']} (queue limit {OVERLOAD_QUEUE}) from {clients} "
                    f"clients: accepted {offer['accepted']}, refused with 429 {offer['refused_429']}, "
                    f"other {len(offer['other_answers'])}; succeeded {drain['succeeded']}, lost {drain['lost']} "
                    f"(offered in {offer['offer_seconds']:.1f} s, drained in {drain['drain_seconds']:.1f} s)"
                )
                failed = failed or drain["lost"] > 0 or bool(offer["other_answers"])
    return 1 if failed else 0


def _soak(targets: list[str], runs: int, clients: int) -> int:
    """``runs`` runs in ten chunks; the servers' memory after each: it must stay flat.

    The first chunk warms up (imports, pools, caches filling to their bounds); the growth
    that counts is from its end to the last chunk's, per 1,000 runs.
    """
    chunk = max(1, runs // 10)
    for target in targets:
        with tempfile.TemporaryDirectory(prefix="muster-bench-") as tmp:
            with muster_server(target.removeprefix("muster-"), Path(tmp)) as server:
                samples: list[tuple[int, float, float]] = []
                done = 0
                while done < runs:
                    result = _load(server, "wait", clients, min(chunk, runs - done), 3600.0)
                    if "error" in result:
                        print(f"{server.name}: {result['error']}")
                        return 1
                    done += result["runs"]
                    samples.append((done, result["rss_mb"], result["runs_per_s"]))
                    print(
                        f"  {server.name}: {done} runs, {result['rss_mb']:.1f} MB",
                        file=sys.stderr,
                        flush=True,
                    )
                warm = samples[0]
                last = samples[-1]
                per_k = (last[1] - warm[1]) / max(1, (last[0] - warm[0])) * 1000
                print(
                    f"{server.name:<24} soak of {done} runs at {clients} clients: RSS (all its processes) by runs done:"
                )
                print("  " + ", ".join(f"{n}: {mb:.0f} MB" for n, mb, _ in samples))
                print(
                    f"  growth after the first chunk: {last[1] - warm[1]:+.1f} MB ({per_k:+.3f} MB per 1,000 runs)"
                )
    return 0


def _run_json(cmd: list[str]) -> dict[str, Any] | None:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"load failed: {proc.stderr.strip()[-300:]}")
        return None
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _fmt(value: Any, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _print(rows: list[tuple[str, str, int, dict[str, Any]]]) -> None:
    header = f"{'server':<24} {'mode':<7} {'clients':>7} {'runs/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/run':>10} {'errors':>7} {'rss MB':>7}"
    print(header)
    print("-" * len(header))
    for name, mode, clients, r in rows:
        if "error" in r:
            print(f"{name:<24} {mode:<7} {clients:>7} error: {r['error'][:60]}")
            continue
        print(
            f"{name:<24} {mode:<7} {clients:>7} {_fmt(r['runs_per_s']):>9} {_fmt(r['p50_ms']):>8} "
            f"{_fmt(r['p99_ms']):>8} {_fmt(r['cpu_ms_per_run'], '.2f'):>10} {r['errors'] + r['refused']:>7} "
            f"{_fmt(r['rss_mb'], '.0f'):>7}"
        )


if __name__ == "__main__":
    sys.exit(main())
