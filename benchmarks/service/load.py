"""The load generator of the service benchmark: N concurrent clients on loopback, a bounded run count.

Run as its own process (``python -m benchmarks.service.load ...``) so its CPU is not the
server's. Each client loops: create a thread, start one single-agent run on it and wait
for the result (``wait``) or read its event stream to the end (``stream``). Latency is the
run request alone (thread creation excluded); throughput counts whole iterations. The
load is bounded by ``--runs`` and ``--seconds``, whichever comes first, and only ever
targets the loopback address it is given.

Prints one JSON object: runs, errors, refused (429), elapsed seconds, runs/s, p50/p99 ms.
``--mode overload`` (muster only) instead offers background runs far past the queue limit
and follows every accepted one to its end: accepted, refused with 429, lost (none, the goal).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import aiohttp
import httpx

QUESTION = "What is the answer?"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    refused: int = 0
    error_samples: list[str] = field(default_factory=list)


class Target:
    """How to talk to one server: muster's API or LangGraph's.

    The load uses aiohttp's client: the generator shares the two cores with the server
    under test, and httpx cost about three times as much CPU per request (measured: 5.7
    ms of client CPU per run against the server's 20), which would have taken that CPU
    from whichever server was being measured.
    """

    def __init__(self, kind: str, api_key: str | None) -> None:
        self.kind = kind
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def new_thread(self, session: aiohttp.ClientSession) -> str:
        path, key = ("/v1/threads", "id") if self.kind == "muster" else ("/threads", "thread_id")
        async with session.post(path, json={}, headers=self.headers) as response:
            response.raise_for_status()
            return str((await response.json())[key])

    def run_request(self, thread_id: str, mode: str) -> tuple[str, dict[str, Any]]:
        if self.kind == "muster":
            return f"/v1/threads/{thread_id}/runs/{mode}", {"spec": "bench", "task": QUESTION}
        body: dict[str, Any] = {
            "assistant_id": "agent",
            "input": {"messages": [{"role": "user", "content": QUESTION}]},
        }
        if mode == "stream":
            body["stream_mode"] = "values"
        return f"/threads/{thread_id}/runs/{mode}", body

    async def run(self, session: aiohttp.ClientSession, thread_id: str, mode: str) -> int:
        path, body = self.run_request(thread_id, mode)
        async with session.post(path, json=body, headers=self.headers) as response:
            # /runs/wait: one body; /runs/stream: the event stream, read to its end.
            text = (await response.read()).decode()
            if response.status == 200 and "42" not in text:
                what = "run did not answer" if mode == "wait" else "stream did not carry the answer"
                raise RuntimeError(f"the {what}: {text[:200]}")
            return response.status


async def _client_loop(
    target: Target, base: str, mode: str, budget: list[int], deadline: float, tally: Tally
) -> None:
    connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection per client, like httpx's
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base_url=base, connector=connector, timeout=timeout) as session:
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            try:
                thread_id = await target.new_thread(session)
                start = time.perf_counter()
                status = await target.run(session, thread_id, mode)
                elapsed = time.perf_counter() - start
            except Exception as exc:  # counted, never fatal: the report says how many
                tally.errors += 1
                if len(tally.error_samples) < 3:
                    tally.error_samples.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            if status == 429:
                tally.refused += 1
            elif status >= 400:
                tally.errors += 1
                if len(tally.error_samples) < 3:
                    tally.error_samples.append(f"HTTP {status}")
            else:
                tally.latencies.append(elapsed)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    host = urlparse(args.base).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit(f"refusing to load {host!r}: the benchmark only targets loopback addresses")
    target = Target(args.target, args.api_key)
    tally = Tally()
    budget = [args.runs]
    deadline = time.monotonic() + args.seconds
    start = time.perf_counter()
    await asyncio.gather(
        *(_client_loop(target, args.base, args.mode, budget, deadline, tally) for _ in range(args.clients))
    )
    elapsed = time.perf_counter() - start
    done = len(tally.latencies)
    ordered = sorted(tally.latencies)

    def pct(p: float) -> float | None:
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return {
        "runs": done,
        "errors": tally.errors,
        "refused": tally.refused,
        "elapsed_s": elapsed,
        "runs_per_s": done / elapsed if elapsed > 0 else 0.0,
        "p50_ms": statistics.median(ordered) * 1000 if ordered else None,
        "p99_ms": pct(99),
        "error_samples": tally.error_samples,
    }


async def overload_async(args: argparse.Namespace) -> dict[str, Any]:
    """Offer ``--runs`` background runs at once from ``--clients`` clients (muster only).

    Every answer must be a 202 (accepted) or a 429 with ``Retry-After`` (refused); then
    every accepted run is followed to its end. ``lost`` counts accepted runs that did not
    succeed within ``--seconds``: the goal is none. ``--phase offer`` stops after offering
    (the accepted ids go to ``--ids-file``), ``--phase drain`` follows the runs named there:
    the benchmark starts the workers in between, so that the queue really fills.
    """
    host = urlparse(args.base).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit(f"refusing to load {host!r}: the benchmark only targets loopback addresses")
    headers = {"Authorization": f"Bearer {args.api_key}"}
    result: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=args.clients)
    async with httpx.AsyncClient(base_url=args.base, timeout=120, limits=limits) as client:
        if args.phase in ("offer", "both"):
            result.update(await _offer(client, headers, args.clients, args.runs))
            if args.ids_file:
                with open(args.ids_file, "w") as out:
                    json.dump(result["accepted_ids"], out)
        if args.phase in ("drain", "both"):
            if "accepted_ids" not in result:
                with open(args.ids_file) as ids:
                    result["accepted_ids"] = json.load(ids)
            result.update(await _drain(client, headers, result["accepted_ids"], args.seconds))
    result["accepted"] = len(result.pop("accepted_ids"))
    return result


async def _offer(
    client: httpx.AsyncClient, headers: dict[str, str], clients: int, runs: int
) -> dict[str, Any]:
    accepted: list[str] = []
    refused = 0
    bad: list[str] = []
    budget = [runs]
    start = time.perf_counter()

    async def offer() -> None:
        nonlocal refused
        while budget[0] > 0:
            budget[0] -= 1
            thread = (await client.post("/v1/threads", json={}, headers=headers)).json()["id"]
            response = await client.post(
                f"/v1/threads/{thread}/runs", json={"spec": "bench", "task": QUESTION}, headers=headers
            )
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            elif response.status_code == 429 and response.headers.get("retry-after"):
                refused += 1
            elif len(bad) < 3:
                bad.append(f"HTTP {response.status_code}: {response.text[:120]}")

    await asyncio.gather(*(offer() for _ in range(clients)))
    return {
        "offered": runs,
        "accepted_ids": accepted,
        "refused_429": refused,
        "other_answers": bad,
        "offer_seconds": time.perf_counter() - start,
    }


async def _drain(
    client: httpx.AsyncClient, headers: dict[str, str], accepted: list[str], seconds: float
) -> dict[str, Any]:
    start = time.perf_counter()
    deadline = time.monotonic() + seconds
    pending = list(accepted)
    succeeded = 0
    while pending and time.monotonic() < deadline:
        still: list[str] = []
        for run_id in pending:
            status = (await client.get(f"/v1/runs/{run_id}", headers=headers)).json()["status"]
            if status == "succeeded":
                succeeded += 1
            elif status in ("pending", "running"):
                still.append(run_id)
        pending = still
        if pending:
            await asyncio.sleep(0.5)  # polling the server's progress; there is no event to wait on
    return {
        "succeeded": succeeded,
        "lost": len(accepted) - succeeded,
        "drain_seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service.load")
    parser.add_argument("--target", choices=["muster", "langgraph"], required=True)
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--mode", choices=["wait", "stream", "overload"], default="wait")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--phase", choices=["offer", "drain", "both"], default="both", help="overload only")
    parser.add_argument("--ids-file", default=None, help="overload only: where the accepted run ids go")
    args = parser.parse_args()
    result = asyncio.run(overload_async(args) if args.mode == "overload" else main_async(args))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
