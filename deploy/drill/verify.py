"""The checks after the load, against the live topology (``checks.py`` has the per-run ones).

Every accepted run read back through nginx, the SSE clients' events against the stored
ones, the processes' logs, the model's prompts, and Prometheus: the alerts the drill watched
fire and clear, its ``ALERTS`` series, its targets and a scraped metric.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx

from .checks import Report, check_prompts, check_run, check_stream, terminal_transitions
from .clients import Submission
from .prometheus import AlertWatch, PrometheusApi
from .topology import Topology

__all__ = ["AGENTS", "ALERTS", "Kill", "pid_of", "verify"]

AGENTS = ["alice", "bob"]
"""The spec's agents, in turn order."""
ALERTS = ("MusterInstanceDown", "MusterAgentsOffline")
"""The alerts the kill must fire and the restart must clear."""


@dataclass(frozen=True)
class Kill:
    """The kill: the worker's pid, and when (drill seconds) it was killed and restarted."""

    worker_pid: int
    at: float
    restarted_at: float
    alerts: list[tuple[str, str]]
    """The (alert, instance) pairs that had to fire and clear."""


def pid_of(worker: str | None) -> int | None:
    """The pid in a run's ``worker`` (``role@host:pid``)."""
    found = re.search(r":(\d+)$", worker or "")
    return int(found.group(1)) if found else None


async def verify(
    topology: Topology,
    report: Report,
    client: httpx.AsyncClient,
    subs: list[Submission],
    watch: AlertWatch,
    kill: Kill,
) -> None:
    """Check every run, every stream, the model's prompts and Prometheus; failures go to ``report``."""
    accepted = [s for s in subs if s.run_id is not None]
    report.accepted = len(accepted)
    report.refused = sum(s.refused for s in subs)
    report.answers_lost = sum(s.answer_lost for s in subs)
    for sub in subs:
        if sub.run_id is None:
            report.fail(f"{sub.task}: {sub.error or 'never accepted'}")
    gate = asyncio.Semaphore(8)

    async def one(sub: Submission) -> Any:
        async with gate:
            return await check_run(client, sub, AGENTS)

    checks = await asyncio.gather(*(one(s) for s in accepted))
    transitions = terminal_transitions(topology.worker_logs())
    _verify_prompts(report, topology.model_prompts(), accepted)
    for sub, check in zip(accepted, checks, strict=True):
        report.messages += check.messages
        report.transcripts_wrong += check.transcript_wrong
        for problem in check.problems:
            report.fail(f"{sub.task} (run {sub.run_id}): {problem}")
        logged = transitions[sub.run_id or ""]
        if logged == 0 and pid_of(check.run["worker"]) == kill.worker_pid:
            # The killed worker committed the run's end and died before its log line: the
            # store has the one end (one `status` event, checked above), the log has none.
            report.ended_unlogged += 1
        elif logged != 1:
            report.fail(f"{sub.task} (run {sub.run_id}): {logged} terminal transitions logged")
        if check.run["attempt"] > 1:
            report.resumed += 1
        if sub.stream is not None:
            lost, duplicated, problems = check_stream(sub.stream, check.events)
            report.events_lost += lost
            report.events_duplicated += duplicated
            report.reconnects += sub.stream.reconnects
            report.streams_cut += 1 if len(sub.stream.upstreams) > 1 else 0
            for problem in problems:
                report.fail(f"{sub.task} SSE: {problem}")
    report.finished = sum(1 for c in checks if not c.problems)
    if report.resumed == 0:
        report.fail("no run was resumed: the killed worker was running none")
    if report.streams_cut == 0:
        report.fail("no SSE client was cut by the replica kill")
    stats = topology.model_stats()
    report.model_requests, report.model_repeated = stats["requests"], stats["repeated"]
    if report.model_repeated > report.resumed:
        report.fail(f"{report.model_repeated} model requests repeated for {report.resumed} resumed runs")
    await _verify_prometheus(topology, report, client, watch, kill)


def _verify_prompts(
    report: Report, prompts: dict[str, list[list[dict[str, Any]]]], accepted: list[Submission]
) -> None:
    """Each run asked one distinct prompt per turn, and no prompt belongs to no run."""
    for task in sorted(set(prompts) - {s.task for s in accepted}):
        shown = [
            [(m.get("role"), m.get("name"), str(m.get("content"))[:60]) for m in p] for p in prompts[task]
        ]
        report.fail(f"the model was asked prompts no run should ask (task {task!r}): {shown}")
    for sub in accepted:
        for problem in check_prompts(prompts.get(sub.task, []), sub.turns):
            report.fail(f"{sub.task} (run {sub.run_id}): {problem}")


def _process_at(topology: Topology, instance: str) -> str:
    port = int(instance.rsplit(":", 1)[-1])
    for name in topology.replicas:
        if topology.replica_port(name) == port:
            return f"{name} {instance}"
    for name in topology.workers:
        if topology.worker_port(name) == port:
            return f"{name} {instance}"
    return instance


async def _verify_prometheus(
    topology: Topology,
    report: Report,
    client: httpx.AsyncClient,
    watch: AlertWatch,
    kill: Kill,
) -> None:
    prometheus = PrometheusApi(topology.prometheus_url)
    for key in kill.alerts:
        log = watch.seen.get(key)
        shown = f"{key[0]}{{{_process_at(topology, key[1])}}}" if key[1] else key[0]
        if log is None or log.fired_at is None:
            report.fail(f"{shown} never fired")
            continue
        if log.cleared_at is None:
            report.fail(f"{shown} did not clear")
        cleared = (
            f"cleared {log.cleared_at - kill.restarted_at:.1f} s after the restart"
            if log.cleared_at is not None
            else "NOT CLEARED"
        )
        production, drill = topology.rule_changes.get(key[0], ("?", "?"))
        report.alerts.append(
            f"{shown} fired {log.fired_at - kill.at:.1f} s after the kill (for: {production} -> {drill}), {cleared}"
        )
    others = sorted(log.key for key, log in watch.seen.items() if key not in kill.alerts)
    if others:
        report.alerts.append("also fired (not failures: noted): " + ", ".join(others))
    history = await prometheus.query(client, 'max_over_time(ALERTS{alertstate="firing"}[15m])')
    fired = sorted({r["metric"]["alertname"] for r in history})
    for name in ALERTS:
        if name not in fired:
            report.fail(f"Prometheus's ALERTS series has no firing {name}")
    expected = len(topology.api_ports) + len(topology.worker_ports)
    for _ in range(20):  # a scrape that timed out on a busy machine gets a few more seconds
        targets = await prometheus.targets_up(client)
        up = sum(1 for health in targets.values() if health == "up")
        if up == len(targets) == expected:
            break
        await asyncio.sleep(1.0)
    else:
        report.fail(f"targets at the end: {targets}")
    turns = await prometheus.query(client, "sum(muster_turns_total)")
    scraped = float(turns[0]["value"][1]) if turns else 0.0
    if scraped <= 0:
        report.fail("Prometheus scraped no muster_turns_total")
    loaded = await prometheus.rule_names(client)
    report.prometheus.append(
        f"{up}/{len(targets)} targets up at the end, {len(loaded)} alert rules loaded, "
        f"sum(muster_turns_total) = {scraped:.0f} (workers alive now), ALERTS history: {', '.join(fired)}"
    )
