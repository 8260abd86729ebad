"""The drill, phase by phase (see ``docs/drill.md``).

1. Start the topology (``topology.py``) and store the drill's specs: a round robin of two
   agents on the slow loopback model, so every run spends seconds in flight (``drill``,
   4 turns, for the background runs; ``drill-long``, 12 turns, for the streamed ones,
   which must still be streaming when their replica is killed).
2. Post the first half of the background runs through nginx, then open the SSE clients
   (``POST .../runs/stream``) and wait until each has seen a stored event.
3. SIGKILL the replica serving the most open streams and the worker running the most runs.
4. Post the second half while the streams reconnect through nginx; watch Prometheus
   until ``MusterInstanceDown`` (both killed targets) and ``MusterAgentsOffline`` fire;
   start the killed processes again, as an orchestrator would; watch the alerts clear.
5. Wait for every run to end, then check everything (``verify.py``, ``checks.py``).

Everything is bounded: a global deadline, a fixed number of runs, and each wait its own
timeout inside it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from .checks import Report
from .clients import StreamClient, Submission, submit
from .prometheus import AlertWatch, PrometheusApi
from .topology import API_KEY, Topology
from .verify import AGENTS, Kill, pid_of, verify

__all__ = ["DrillOptions", "run_drill"]


@dataclass(frozen=True)
class DrillOptions:
    """How much load, and how long the drill may take at most."""

    runs: int = 200
    streams: int = 20
    turns: int = 4
    """Model calls per background run; a streamed run makes three times as many, so that it
    is still streaming when the replica serving it is killed."""
    concurrency: int = 12
    deadline: float = 300.0


def drill_spec(model_url: str, turns: int) -> dict[str, Any]:
    """Alice and bob taking turns on the drill's model (``turns`` model calls per run)."""
    from muster.agents import AssistantAgent
    from muster.models.openai import OpenAIChatCompletionClient
    from muster.teams import RoundRobinGroupChat

    def agent(name: str) -> AssistantAgent:
        client = OpenAIChatCompletionClient(model="gpt-4o", api_key="drill", base_url=model_url)
        return AssistantAgent(name, model_client=client, system_message=f"You are {name}.")

    team = RoundRobinGroupChat([agent(n) for n in AGENTS], max_turns=turns)
    return team.dump_component().model_dump()


class _Clock:
    def __init__(self, deadline: float) -> None:
        self.start = time.monotonic()
        self.deadline = self.start + deadline

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def now(self) -> float:
        return time.monotonic() - self.start


async def _until(check: Any, *, within: float, what: str, interval: float = 0.25) -> Any:
    """Poll ``check`` (an async probe of something the drill started) until truthy."""
    end = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


async def _ok(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url, timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False


async def run_drill(topology: Topology, options: DrillOptions, report: Report, *, spent: float = 0.0) -> None:
    """Run the phases against a started ``topology``, filling ``report`` (failures included).

    ``spent``: seconds of the deadline the setup already took.
    """
    clock = _Clock(options.deadline - spent)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    limits = httpx.Limits(max_connections=options.concurrency + options.streams + 16)
    async with httpx.AsyncClient(
        base_url=topology.base_url, headers=headers, timeout=30, limits=limits
    ) as client:
        prometheus = PrometheusApi(topology.prometheus_url)
        watch = AlertWatch(prometheus, clock.now)
        watcher = asyncio.create_task(watch.run(client))
        try:
            await asyncio.wait_for(_phases(topology, options, report, client, watch, clock), clock.left())
        except TimeoutError:
            report.fail(f"the drill's deadline ({options.deadline:.0f} s) passed")
        finally:
            watcher.cancel()


async def _phases(
    topology: Topology,
    options: DrillOptions,
    report: Report,
    client: httpx.AsyncClient,
    watch: AlertWatch,
    clock: _Clock,
) -> None:
    tasks: list[asyncio.Future[Any]] = []
    try:
        await _load_kill_restart(topology, options, report, client, watch, clock, tasks)
    finally:
        # A deadline, a failed wait or Ctrl-C: no client is left running against a closing topology.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _load_kill_restart(
    topology: Topology,
    options: DrillOptions,
    report: Report,
    client: httpx.AsyncClient,
    watch: AlertWatch,
    clock: _Clock,
    tasks: list[asyncio.Future[Any]],
) -> None:
    long_turns = 3 * options.turns
    for name, turns in (("drill", options.turns), ("drill-long", long_turns)):
        spec = drill_spec(topology.model_url, turns)
        (await client.post("/v1/specs", json={"name": name, "component": spec})).raise_for_status()
    background = options.runs - options.streams
    subs = [Submission(i, f"task {i}", "drill", options.turns) for i in range(background)]
    subs += [
        Submission(i, f"task {i} (streamed)", "drill-long", long_turns, streamed=True)
        for i in range(background, options.runs)
    ]
    for sub in subs[background:]:
        sub.stream = StreamClient()
    report.runs, report.streamed = len(subs), options.streams
    gate = asyncio.Semaphore(options.concurrency)

    async def post(sub: Submission) -> None:
        if sub.streamed:
            await submit(client, sub)  # holds no slot: a stream lasts as long as its run
            return
        async with gate:
            await submit(client, sub)

    first, second = subs[: background // 2], subs[background // 2 : background]
    load_start = clock.now()
    await asyncio.gather(*(post(s) for s in first))
    streaming = [asyncio.create_task(post(s)) for s in subs[background:]]
    tasks.extend(streaming)
    await _until(
        lambda: _all_streaming(subs[background:]),
        within=min(60.0, clock.left()),
        what="every SSE client's first event",
    )

    # Kill one replica and one worker, mid-load.
    replica = _busiest_replica(topology, subs[background:])
    worker = await _until(
        lambda: _busiest_worker(client, topology, subs), within=30, what="a worker running runs"
    )
    in_flight = await _running_on(client, subs, topology.workers[worker].pid)
    killed_port = f":{topology.replica_port(replica)}"
    open_there = sum(
        1
        for s in subs[background:]
        if s.stream and not s.stream.ended and s.stream.upstreams[-1].endswith(killed_port)
    )
    killed_at, killed_pid = clock.now(), topology.workers[worker].pid
    topology.replicas[replica].kill()
    topology.workers[worker].kill()
    report.killed.append(f"{replica} (SIGKILL at {killed_at:.1f} s, serving {open_there} open SSE streams)")
    report.killed.append(f"{worker} (SIGKILL at {killed_at:.1f} s, running {in_flight} runs)")
    load_rest = asyncio.gather(*(post(s) for s in second))
    tasks.append(load_rest)

    # Prometheus must notice, and the alerts must fire; then restart and watch them clear.
    watched = [
        ("MusterInstanceDown", f"127.0.0.1:{topology.replica_port(replica)}"),
        ("MusterInstanceDown", f"127.0.0.1:{topology.worker_port(worker)}"),
        ("MusterAgentsOffline", ""),
    ]
    try:
        await _until(
            lambda: _true(all(watch.firing(*key) for key in watched)),
            within=min(60.0, clock.left()),
            what="MusterInstanceDown (both killed targets) and MusterAgentsOffline to fire",
        )
    except TimeoutError as exc:
        report.fail(str(exc))
    restarted_at = clock.now()
    topology.restart(replica)
    topology.restart(worker)
    await _until(
        lambda: _ok(client, f"http://127.0.0.1:{topology.replica_port(replica)}/ready"),
        within=90,
        what=f"{replica} ready again",
    )
    await _until(
        lambda: _ok(client, f"http://127.0.0.1:{topology.worker_port(worker)}/metrics"),
        within=90,
        what=f"{worker} serving again",
    )
    try:
        await _until(
            lambda: _true(all(watch.quiet(*key) for key in watched)),
            within=min(60.0, clock.left()),
            what="the alerts to clear after the restart",
        )
    except TimeoutError as exc:
        report.fail(f"{exc} (active: {watch.active})")
    await load_rest
    await asyncio.gather(*streaming)
    report.durations["load"] = clock.now() - load_start
    for sub in subs[background:]:
        # A stream the kill cut (it reconnected) must have gone on through another replica;
        # one whose `end` came through before the kill needed no reconnection.
        assert sub.stream is not None
        ups = sub.stream.upstreams
        if len(ups) > 1 and ups[0].endswith(killed_port) and ups[1].endswith(killed_port):
            report.fail(f"{sub.task}: the cut stream reconnected to the killed replica ({ups})")

    # Every accepted run must end.
    accepted = [s for s in subs if s.run_id is not None]
    await _until(
        lambda: _all_ended(client, accepted),
        within=min(120.0, clock.left()),
        what="every accepted run to end",
        interval=1.0,
    )
    report.durations["load to last run ended"] = clock.now() - load_start
    kill = Kill(killed_pid, killed_at, restarted_at, watched)
    await verify(topology, report, client, subs, watch, kill)


async def _true(value: bool) -> bool:
    return value


async def _all_streaming(streams: list[Submission]) -> bool:
    return all(s.stream is not None and (s.stream.first_stored.is_set() or s.error) for s in streams)


def _busiest_replica(topology: Topology, streams: list[Submission]) -> str:
    open_on: Counter[str] = Counter()
    for sub in streams:
        if sub.stream and sub.stream.upstreams and not sub.stream.ended:
            open_on[sub.stream.upstreams[-1].rsplit(":", 1)[-1]] += 1
    for name in topology.replicas:
        open_on.setdefault(str(topology.replica_port(name)), 0)
    port = max(open_on, key=lambda p: open_on[p])
    return next(n for n in topology.replicas if str(topology.replica_port(n)) == port)


async def _run_states(client: httpx.AsyncClient, subs: list[Submission]) -> list[dict[str, Any]]:
    gate = asyncio.Semaphore(8)

    async def one(sub: Submission) -> dict[str, Any] | None:
        async with gate:
            try:
                response = await client.get(f"/v1/runs/{sub.run_id}")
            except httpx.TransportError:
                return None
            return dict(response.json()) if response.status_code == 200 else None

    found = await asyncio.gather(*(one(s) for s in subs if s.run_id is not None))
    return [f for f in found if f is not None]


async def _busiest_worker(
    client: httpx.AsyncClient, topology: Topology, subs: list[Submission]
) -> str | None:
    pids = Counter(pid_of(r["worker"]) for r in await _run_states(client, subs) if r["status"] == "running")
    for pid, _ in pids.most_common():
        for name, child in topology.workers.items():
            if child.pid == pid:
                return name
    return None


async def _running_on(client: httpx.AsyncClient, subs: list[Submission], pid: int) -> int:
    return sum(
        1 for r in await _run_states(client, subs) if r["status"] == "running" and pid_of(r["worker"]) == pid
    )


async def _all_ended(client: httpx.AsyncClient, accepted: list[Submission]) -> bool:
    states = await _run_states(client, accepted)
    return len(states) == len(accepted) and all(r["status"] not in ("pending", "running") for r in states)
