"""What the drill checks once every run has ended, and the report it prints.

Per accepted run, read back through nginx: the run ``succeeded``; its thread holds that
one run and no other (no run created twice); the thread's messages are exactly what the
model's rule predicts (:func:`~deploy.drill.model_server.expected_transcript`: nothing
lost, nothing duplicated, nothing from another run); the run's stored events are numbered
1..n without a gap, their messages are the transcript, and there is one ``status`` event
and one ``end``, last. Across the workers' logs (the killed one's too), each run has
exactly one terminal transition (``running -> succeeded``). Per SSE client: the events it
saw, across its reconnections, are the stored ones, each once.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .clients import StreamClient, Submission, read_sse
from .model_server import expected_transcript

__all__ = ["Report", "RunCheck", "check_prompts", "check_run", "check_stream", "terminal_transitions"]

TERMINAL = {"succeeded", "failed", "cancelled", "interrupted"}


@dataclass
class RunCheck:
    """What was found for one run (``problems`` empty when it is intact)."""

    run: dict[str, Any]
    events: list[dict[str, Any]]
    messages: int
    problems: list[str] = field(default_factory=list)
    transcript_wrong: bool = False


async def _stored_events(client: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
        response.raise_for_status()
        async for event in read_sse(response):
            events.append({"id": event.id, "event": event.event, "data": event.data})
            if event.event == "end":
                break
    return events


async def check_run(client: httpx.AsyncClient, sub: Submission, agents: list[str]) -> RunCheck:
    """Read ``sub``'s run back and compare it with what it must be (see the module docstring)."""
    assert sub.run_id is not None and sub.thread_id is not None
    run = (await client.get(f"/v1/runs/{sub.run_id}")).raise_for_status().json()
    runs = (await client.get(f"/v1/threads/{sub.thread_id}/runs")).raise_for_status().json()
    page = (
        await client.get(f"/v1/threads/{sub.thread_id}/messages", params={"limit": 1000})
    ).raise_for_status()
    transcript = [(i["message"]["source"], i["message"]["content"]) for i in page.json()["items"]]
    events = await _stored_events(client, sub.run_id)
    check = RunCheck(run, events, len(transcript))
    expected = expected_transcript(sub.task, agents, sub.turns)
    if run["status"] != "succeeded":
        check.problems.append(f"status {run['status']} ({run.get('error')})")
    if [r["id"] for r in runs] != [sub.run_id]:
        check.problems.append(f"the thread holds runs {[r['id'] for r in runs]}, not just {sub.run_id}")
    if transcript != expected:
        check.transcript_wrong = True
        check.problems.append(f"transcript {transcript} != expected {expected}")
    ids = [int(e["id"]) for e in events if e["id"]]
    if ids != list(range(1, len(ids) + 1)):
        check.problems.append(f"stored event ids not contiguous: {ids}")
    said = [(e["data"]["source"], e["data"]["content"]) for e in events if e["event"] == "message"]
    if said != expected:
        check.problems.append(f"message events {said} != expected transcript")
    kinds = Counter(e["event"] for e in events)
    if kinds["status"] != 1 or kinds["end"] != 1 or not events or events[-1]["event"] != "end":
        check.problems.append(
            f"events end badly: {dict(kinds)}, last {events[-1]['event'] if events else None}"
        )
    return check


def check_stream(stream: StreamClient, stored: list[dict[str, Any]]) -> tuple[int, int, list[str]]:
    """``(lost, duplicated, problems)``: the client's events against the run's stored ones."""
    seen = [int(e.id) for e in stream.events if e.id]
    stored_ids = [int(e["id"]) for e in stored if e["id"]]
    counts = Counter(seen)
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    lost = len(set(stored_ids) - set(seen))
    problems = []
    if seen != stored_ids:
        problems.append(f"client saw ids {seen}, stored {stored_ids}")
    by_id = {int(e["id"]): e for e in stored if e["id"]}
    for event in stream.events:
        if event.id and (stored_event := by_id.get(int(event.id))) is not None:
            if (event.event, event.data) != (stored_event["event"], stored_event["data"]):
                problems.append(f"event {event.id} differs from the stored one")
    if not stream.ended:
        problems.append("the client never saw `end`")
    return lost, duplicated, problems


def check_prompts(prompts: list[list[dict[str, Any]]], turns: int) -> list[str]:
    """Problems with the distinct prompts one run asked: exactly one per turn, of 2..turns+1 messages.

    A resumed run that rebuilt its agents' contexts wrongly (a message missing, repeated or
    altered) asks a prompt the uninterrupted run never would: it shows here even when the
    answer's text happens to match.
    """
    sizes = sorted(len(p) for p in prompts)
    if sizes == list(range(2, turns + 2)):
        return []
    shown = [[(m.get("role"), m.get("name"), str(m.get("content"))[:40]) for m in p] for p in prompts]
    return [f"the model was asked {len(prompts)} distinct prompts, not {turns}: {shown}"]


def terminal_transitions(logs: list[Path]) -> Counter[str]:
    """Per run id, how many ``running -> <final>`` transitions the processes logged."""
    counts: Counter[str] = Counter()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if '"muster.service.runs"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("status") in TERMINAL and record.get("previous_status") == "running":
                counts[record["run_id"]] += 1
    return counts


@dataclass
class Report:
    """The drill's findings; :meth:`render` is what it prints."""

    runs: int = 0
    streamed: int = 0
    accepted: int = 0
    finished: int = 0
    resumed: int = 0
    refused: int = 0
    answers_lost: int = 0
    ended_unlogged: int = 0
    messages: int = 0
    transcripts_wrong: int = 0
    events_lost: int = 0
    events_duplicated: int = 0
    streams_cut: int = 0
    reconnects: int = 0
    model_requests: int = 0
    model_repeated: int = 0
    killed: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    prometheus: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    folder: str = ""

    def fail(self, problem: str) -> None:
        self.failures.append(problem)

    def render(self) -> str:
        lines = [
            "muster drill: nginx -> 3 API replicas, 2 workers, PostgreSQL, Redis, Prometheus (127.0.0.1 only)",
            f"runs:        {self.accepted} accepted of {self.runs} ({self.streamed} streamed), "
            f"{self.finished} finished exactly once, {self.resumed} resumed after the kill, "
            f"{self.refused} refused (posted again), {self.answers_lost} answers lost (run found on its thread)"
            + (
                f", {self.ended_unlogged} ended by the killed worker just before the kill (end stored, log line lost)"
                if self.ended_unlogged
                else ""
            ),
            f"transcripts: {self.messages} messages read back, {self.transcripts_wrong} runs' transcripts "
            "differing from the model's rule (a lost, duplicated or foreign message)",
            f"streams:     {self.streamed} SSE clients, {self.streams_cut} cut by the kill, "
            f"{self.reconnects} reconnections with Last-Event-ID; events lost: {self.events_lost}, "
            f"duplicated: {self.events_duplicated}",
            f"model:       {self.model_requests} requests, {self.model_repeated} repeated "
            "(calls in flight on the killed worker; recorded answers were replayed)",
            *(f"killed:      {k}" for k in self.killed),
            *(f"alert:       {a}" for a in self.alerts),
            *(f"prometheus:  {p}" for p in self.prometheus),
            "durations:   " + ", ".join(f"{k} {v:.1f} s" for k, v in self.durations.items()),
            f"cleanup:     every process stopped, {self.folder} removed",
        ]
        if self.failures:
            lines.append(f"FAILED ({len(self.failures)} problems):")
            lines.extend(f"  - {f}" for f in self.failures[:40])
        else:
            lines.append("PASSED")
        return "\n".join(lines)
