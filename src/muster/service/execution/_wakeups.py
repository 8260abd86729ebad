"""PgQueuer's wake-up queue, bounded: without it a busy worker's memory grows with every run.

PgQueuer 1.6's queue manager puts every table-change notification it hears into an
unbounded ``asyncio.Queue`` (``pgqueuer.core.listeners.PGNoticeEventListener``) and takes
one out per job it dequeues and one per wait. Under load each job makes more
notifications than that (its insert, its pick and its deletion, each heard by every
worker), so the queue grew by a few parsed events per run: +1 MB of worker memory per
1,000 runs in the 100,000-run soak (docs/benchmarks.md), found by comparing two
``tracemalloc`` snapshots of a worker under load. The manager reads the queue only to
stop waiting, and after each dequeue it probes the table for work it may have missed, so
dropping a notification while one is already waiting loses nothing: one is as good as
many. PgQueuer builds the queue from the module attribute when it starts listening, which
is where :func:`bound_wake_ups` puts :class:`OneWakeUp`.
"""

from __future__ import annotations

from typing import Any

from pgqueuer.core import listeners

__all__ = ["OneWakeUp", "bound_wake_ups"]


class OneWakeUp(listeners.PGNoticeEventListener):
    """PgQueuer's queue of table-change notifications, holding at most one (a wake-up)."""

    def put_nowait(self, item: Any) -> None:
        """Queue ``item`` unless a wake-up is waiting already."""
        if self.empty():
            super().put_nowait(item)


def bound_wake_ups() -> None:
    """Make the queue managers started from now on in this process use :class:`OneWakeUp` (idempotent)."""
    if not issubclass(listeners.PGNoticeEventListener, OneWakeUp):
        listeners.PGNoticeEventListener = OneWakeUp  # type: ignore[misc]
