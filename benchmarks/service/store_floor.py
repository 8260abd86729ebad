"""The durable store's floor: a run's store calls alone, with no HTTP, no framework, no queue.

``python -m benchmarks.service --floor`` runs this under muster's venv (it imports the
service's store) and prints one JSON object. Every run the service executes on PostgreSQL
makes these calls, in this order, with these payloads:

1. the API: ``create_thread``, ``create_run`` (``muster_create_run``: the run, the thread's
   busy mark and the queue check in one call; the queue's own job is left out here and
   measured as PgQueuer's floor);
2. a worker: ``claim_run_start``, then one call for everything else: the task's turn and
   the recorded answer, held until then (docs/service.md, "Writes held back"), and the last
   turn with the run's end (``finish_run(turn=...)``, ``muster_turn``, with its NOTIFY,
   which carries the result ``/runs/wait`` answers with: the API reads nothing more).

The payloads are what a one-agent run on a replay model writes (its turn checkpoints are
captured once from a real team run, then reused with each run's own ids). 100 runs are in
flight at a time, all in one process, which is cheaper than the service's three processes
(no wake-ups between them): the result is a lower bound on the store's part of a run. CPU
per run is this process's plus PostgreSQL's (all of its processes), over a window.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from benchmarks.service.floor import _cpu

PG_ADMIN_URL = os.environ.get("MUSTER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
DB = f"muster_store_floor_{os.getpid()}"
WINDOW_S = 8.0
IN_FLIGHT = int(os.environ.get("IN_FLIGHT", "100"))


def _db_url() -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path=f"/{DB}"))


def _psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN_URL, "-qc", sql], check=True, capture_output=True)


async def _turns() -> list[Any]:
    """The turn checkpoints of one real run of the benchmark's agent (a replay model)."""
    from muster.agents import AssistantAgent
    from muster.models.replay import ReplayChatCompletionClient
    from muster.teams import RoundRobinGroupChat, TurnCheckpoint

    agent = AssistantAgent("assistant", ReplayChatCompletionClient(["The answer is 42."]))
    team = RoundRobinGroupChat([agent], max_turns=1)
    seen: list[TurnCheckpoint] = []

    async def hook(checkpoint: TurnCheckpoint) -> None:
        seen.append(checkpoint)

    team.turn_hook = hook
    await team.run(task="What is the answer?")
    return seen


class RunCalls:
    """The store calls of one run, with a one-agent run's payloads (see the module docstring)."""

    def __init__(self, store: Any, spec: Any, checkpoints: list[Any]) -> None:
        self.store, self.spec = store, spec
        self.first, self.last = checkpoints[0], checkpoints[-1]
        self.task = [m.dump() for m in self.first.messages]
        self.answer = {"content": "The answer is 42.", "finish_reason": "stop", "usage": {"prompt_tokens": 1}}

    @classmethod
    async def prepare(cls, store: Any) -> RunCalls:
        return cls(store, await store.put_spec("bench", {"provider": "floor", "config": {}}), await _turns())

    async def run(self, worker: str) -> None:
        """One run's calls, in the service's order; raises if any of them is refused."""
        from muster.service.models import RunStatus, Strategy
        from muster.service.store import TurnWrite

        store, first, last = self.store, self.first, self.last
        thread = await store.create_thread()
        run = await store.create_run(
            thread.id, self.spec, self.task, Strategy.REJECT, max_queue=1000, latest=True
        )
        claimed = await store.claim_run_start(run.id, worker)
        assert claimed is not None
        task_turn = TurnWrite(
            run_id=run.id,
            turn=0,
            messages=self.task,
            state=first.state,
            worker=worker,
            events=[("timing", {"turn": 0})],
        )
        end = TurnWrite(
            run_id=run.id,
            turn=last.turn,
            messages=[m.dump() for m in last.messages],
            state=last.state,
            delta=last.delta,
            finished=True,
            stop_reason=last.stop_reason,
            worker=worker,
            events=[("timing", {"turn": last.turn})],
            earlier=(task_turn,),
            responses=[("call-0", self.answer)],
        )
        ended = await store.finish_run(
            run.id, RunStatus.SUCCEEDED, stop_reason=last.stop_reason, worker=worker, turn=end
        )
        assert ended.status is RunStatus.SUCCEEDED


async def measure() -> dict[str, Any]:
    from muster.service.store import SqlStore, upgrade_database

    await upgrade_database(_db_url())
    store = SqlStore(_db_url(), pool_size=20)
    store.notify_channel = "muster_store_floor"  # as a worker sets it: NOTIFY inside the writes
    await store.open()
    calls = await RunCalls.prepare(store)
    done = 0

    async def one_run(worker: str) -> None:
        nonlocal done
        await calls.run(worker)
        done += 1

    stop = asyncio.Event()

    async def lane(i: int) -> None:
        while not stop.is_set():
            await one_run(f"floor:{i}")

    me = [psutil.Process()]
    lanes = [asyncio.create_task(lane(i)) for i in range(IN_FLIGHT)]
    await asyncio.sleep(2.0)  # warm-up: pools filled, statements prepared
    postgres = [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]
    start_runs, start_wall = done, time.perf_counter()
    start_me, start_pg = _cpu(me), _cpu(postgres)
    await asyncio.sleep(WINDOW_S)  # the measurement window
    runs = done - start_runs
    wall = time.perf_counter() - start_wall
    client, server = _cpu(me) - start_me, _cpu(postgres) - start_pg
    stop.set()
    await asyncio.gather(*lanes)
    await store.close()
    return {
        "floor": "store",
        "runs_per_s": round(runs / wall, 1),
        "client_cpu_ms_per_run": round(client / runs * 1000, 2),
        "postgres_cpu_ms_per_run": round(server / runs * 1000, 2),
        "cpu_ms_per_run": round((client + server) / runs * 1000, 2),
        "calls_per_run": 4,
        "in_flight": IN_FLIGHT,
    }


def main() -> int:
    _psql(f"DROP DATABASE IF EXISTS {DB}")
    _psql(f"CREATE DATABASE {DB}")
    try:
        print(json.dumps(asyncio.run(measure())), flush=True)
    finally:
        _psql(f"DROP DATABASE IF EXISTS {DB}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main())
