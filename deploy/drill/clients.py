"""The drill's clients: runs posted through nginx, and SSE readers that reconnect with Last-Event-ID.

A client that posts a run and gets no answer (the replica that took the request was
killed before it answered: nginx says 502) cannot know whether the run was stored. It
does what a careful client does: it asks the thread (``GET /v1/threads/{id}/runs``); a
run there is its run (accepted, answer lost), none means refused, and it posts again.
Each submission has a thread of its own, so a thread's runs are exactly that
submission's, and a duplicated run would show as a second run on the thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["SseEvent", "StreamClient", "Submission", "follow", "read_sse", "submit"]

_ATTEMPTS = 20


@dataclass
class SseEvent:
    """One server-sent event."""

    id: str | None
    event: str
    data: Any


async def read_sse(response: httpx.Response) -> AsyncIterator[SseEvent]:
    """The events of an SSE response as they arrive (comments and pings skipped)."""
    event_id: str | None = None
    name = "message"
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                text = "\n".join(data)
                try:
                    value: Any = json.loads(text)
                except ValueError:
                    value = text
                yield SseEvent(event_id, name, value)
            event_id, name, data = None, "message", []
            continue
        if line.startswith(":"):
            continue
        key, _, value_text = line.partition(":")
        value_text = value_text.removeprefix(" ")
        if key == "id":
            event_id = value_text
        elif key == "event":
            name = value_text
        elif key == "data":
            data.append(value_text)


@dataclass
class StreamClient:
    """What one SSE client saw: every event, and which replica served each connection."""

    events: list[SseEvent] = field(default_factory=list)
    upstreams: list[str] = field(default_factory=list)
    reconnects: int = 0
    first_stored: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def last_id(self) -> int:
        ids = [int(e.id) for e in self.events if e.id]
        return ids[-1] if ids else 0

    @property
    def ended(self) -> bool:
        return bool(self.events) and self.events[-1].event == "end"

    def take(self, event: SseEvent) -> None:
        self.events.append(event)
        if event.id:
            self.first_stored.set()


@dataclass
class Submission:
    """One run the drill asks for, on a thread of its own."""

    index: int
    task: str
    spec: str
    turns: int
    """Model calls the run makes (the spec's turns): what its transcript must hold."""
    streamed: bool = False
    thread_id: str | None = None
    run_id: str | None = None
    refused: int = 0
    """Attempts answered with an error, the run not stored (the client posted again)."""
    answer_lost: int = 0
    """Attempts whose answer was lost but whose run was stored (found on the thread)."""
    stream: StreamClient | None = None
    error: str | None = None


async def _runs_on(client: httpx.AsyncClient, thread_id: str) -> list[dict[str, Any]] | None:
    try:
        response = await client.get(f"/v1/threads/{thread_id}/runs")
    except httpx.TransportError:
        return None
    return list(response.json()) if response.status_code == 200 else None


async def _backoff(response: httpx.Response | None) -> None:
    # The client's retry pause: what Retry-After asks for, else a short one.
    retry_after = response.headers.get("retry-after") if response is not None else None
    await asyncio.sleep(min(float(retry_after), 2.0) if retry_after else 0.2)


async def submit(client: httpx.AsyncClient, sub: Submission) -> None:
    """Get ``sub``'s run accepted (see the module docstring); streamed ones are read to their end."""
    body = {"spec": sub.spec, "task": sub.task}
    for _ in range(_ATTEMPTS):
        response: httpx.Response | None = None
        if sub.thread_id is None:
            try:
                response = await client.post("/v1/threads", json={"metadata": {"drill": sub.index}})
            except httpx.TransportError:
                response = None
            if response is None or response.status_code != 201:
                sub.refused += 1
                await _backoff(response)
                continue
            sub.thread_id = response.json()["id"]
        if sub.streamed:
            await _post_stream(client, sub, body)
            if sub.run_id is not None:
                return
        else:
            try:
                response = await client.post(f"/v1/threads/{sub.thread_id}/runs", json=body)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 202:
                sub.run_id = response.json()["id"]
                return
        runs = await _runs_on(client, sub.thread_id)
        if runs:
            sub.run_id = runs[0]["id"]
            sub.answer_lost += 1
            if sub.streamed:
                assert sub.stream is not None
                await follow(client, sub.run_id, sub.stream)
            return
        sub.refused += 1
        await _backoff(response)
    sub.error = f"not accepted after {_ATTEMPTS} attempts"


async def _post_stream(client: httpx.AsyncClient, sub: Submission, body: dict[str, Any]) -> None:
    stream = sub.stream = sub.stream or StreamClient()
    try:
        async with client.stream("POST", f"/v1/threads/{sub.thread_id}/runs/stream", json=body) as response:
            if response.status_code != 200:
                return
            stream.upstreams.append(response.headers.get("x-upstream", "?"))
            async for event in read_sse(response):
                if event.event == "metadata":
                    sub.run_id = event.data["run_id"]
                    continue
                stream.take(event)
                if event.event == "end":
                    return
    except (httpx.TransportError, httpx.StreamError):
        pass
    if sub.run_id is not None and not stream.ended:
        await follow(client, sub.run_id, stream)


async def follow(client: httpx.AsyncClient, run_id: str, stream: StreamClient, attempts: int = 60) -> None:
    """Read the run's events to ``end``, reconnecting (through nginx) with Last-Event-ID when cut."""
    for _ in range(attempts):
        if stream.ended:
            return
        stream.reconnects += 1
        response: httpx.Response | None = None
        try:
            headers = {"Last-Event-ID": str(stream.last_id)}
            async with client.stream("GET", f"/v1/runs/{run_id}/events", headers=headers) as response:
                if response.status_code == 200:
                    stream.upstreams.append(response.headers.get("x-upstream", "?"))
                    async for event in read_sse(response):
                        stream.take(event)
                        if event.event == "end":
                            return
        except (httpx.TransportError, httpx.StreamError):
            pass
        await _backoff(response)
