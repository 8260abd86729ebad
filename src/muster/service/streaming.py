"""Server-sent events of a run: its stored events, from the start or after ``Last-Event-ID``, then live.

Every event a run emits is written to the store at a turn boundary, in the same
transaction as the turn's checkpoint, and numbered (``seq``, the SSE ``id``). A stream is
therefore nothing but a reader of the store: it sends what is stored after the last id
the client saw, then waits for the run's notifier (in-process, Redis pub/sub or
PostgreSQL LISTEN/NOTIFY, see ``notify/``) and reads again, until the ``end`` event (on
PostgreSQL a notification carries the events its write stored, and a stream that has sent
everything before them sends them without reading). A
client that reconnects, to this replica or to another, with ``Last-Event-ID`` gets every
event exactly once: ids are the store's, not the connection's. A run redone after a crash
never re-emits an event, because a turn in progress was never written.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from .exceptions import InvalidRequestError, OverloadedError
from .models import EventRecord
from .notify import Notifier, Subscription
from .store.base import Store, events_from_notices

__all__ = [
    "StreamLimiter",
    "event_stream",
    "parse_last_event_id",
    "run_event_batches",
    "run_events",
    "to_sse",
]

POLL_SECONDS = 2.0
"""How often a waiting stream re-reads the store anyway (a lost notification's cost)."""


async def run_events(
    store: Store,
    notifier: Notifier,
    run_id: str,
    *,
    after: int = 0,
    poll_seconds: float = POLL_SECONDS,
    subscription: Subscription | None = None,
) -> AsyncIterator[EventRecord]:
    """The run's events with ``seq > after``, then each new one as it is stored, up to ``end``.

    ``subscription``: one taken before a new run was submitted (it has nothing stored
    yet, so the first read waits for its first write); it is closed when the events end.
    """
    async for batch in run_event_batches(
        store, notifier, run_id, after=after, poll_seconds=poll_seconds, subscription=subscription
    ):
        for event in batch:
            yield event


async def run_event_batches(
    store: Store,
    notifier: Notifier,
    run_id: str,
    *,
    after: int = 0,
    poll_seconds: float = POLL_SECONDS,
    subscription: Subscription | None = None,
) -> AsyncIterator[list[EventRecord]]:
    """:func:`run_events`, as the batches it learns them in (one read, or one wake-up's notices).

    A stream sends a batch as one chunk: a write's events reach the client together, as
    they were stored.
    """
    fresh = subscription is not None
    with subscription or notifier.subscribe(run_id) as subscribed:
        while True:
            if fresh:
                fresh = False
                await subscribed.wait(poll_seconds)
            # Cleared before reading: a write landing between the read and the wait
            # sets the flag again, so the wait returns at once and nothing is missed.
            # The events the notifications carried are sent as they are when they follow
            # the last one sent (PostgreSQL's, when they fit); otherwise the store is read.
            events = events_from_notices(subscribed.clear(), after)
            carried = events is not None  # everything announced so far: nothing more to read
            if events is None:
                events = await store.read_events(run_id, after=after)
            for i, event in enumerate(events):
                if event.event == "end":
                    yield events[: i + 1]
                    return
            if events:
                yield events
                after = events[-1].seq
            if carried or not events:
                await subscribed.wait(poll_seconds)


def to_sse(event: EventRecord) -> ServerSentEvent:
    """An event as SSE: ``id`` = seq, ``event`` = the kind, ``data`` = its JSON."""
    return ServerSentEvent(id=str(event.seq), event=event.event, data=json.dumps(event.data))


def event_stream(
    store: Store,
    notifier: Notifier,
    run_id: str,
    *,
    after: int,
    limiter: StreamLimiter,
    poll_seconds: float = POLL_SECONDS,
    first: ServerSentEvent | None = None,
    acquired: bool = False,
    subscription: Subscription | None = None,
) -> EventSourceResponse:
    """The SSE response of :func:`run_events`, holding one of ``limiter``'s slots while open.

    The slot is taken now (429 when none is free) and given back by the response's
    background task, which runs however the stream ends, even if it never started.
    ``first`` is sent before the stored events (without an id, so that a reconnecting
    client's ``Last-Event-ID`` is always a stored event's). ``acquired``: the caller took
    the slot already (before creating the run, so a refused stream creates nothing).
    ``subscription``: see :func:`run_events`.

    Raises:
        OverloadedError: every stream slot is taken.
    """
    if not acquired:
        limiter.acquire()

    async def events() -> AsyncIterator[ServerSentEvent | bytes]:
        if first is not None:
            yield first
        async for batch in run_event_batches(
            store, notifier, run_id, after=after, poll_seconds=poll_seconds, subscription=subscription
        ):
            # One chunk per batch: each send costs the server about what encoding does.
            yield b"".join(to_sse(event).encode() for event in batch)

    async def done() -> None:  # async: Starlette runs a plain function in its thread pool
        limiter.release()
        if subscription is not None:  # closed here too if the stream never started
            subscription.close()

    return EventSourceResponse(events(), ping=15, background=BackgroundTask(done))


def parse_last_event_id(value: str | None) -> int:
    """The ``seq`` a ``Last-Event-ID`` header names (0 when absent).

    Raises:
        InvalidRequestError: the header is not an integer from 0 to 2**53.
    """
    if value is None or value.strip() == "":
        return 0
    try:
        seq = int(value)
    except ValueError:
        raise InvalidRequestError("must be an event id (an integer)", field="Last-Event-ID") from None
    if not 0 <= seq <= 2**53:
        # Beyond any event number, and beyond what SQLite can compare: refuse, never a 500.
        raise InvalidRequestError("must be between 0 and 2**53", field="Last-Event-ID")
    return seq


class StreamLimiter:
    """At most ``limit`` SSE streams open at once (``security.max_sse_connections``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def acquire(self) -> None:
        """Take a slot.

        Raises:
            OverloadedError: every slot is taken (429).
        """
        if self.open >= self.limit:
            raise OverloadedError(f"too many open event streams (limit {self.limit})", retry_after=5)
        self.open += 1

    def release(self) -> None:
        """Give a slot back."""
        self.open = max(0, self.open - 1)
