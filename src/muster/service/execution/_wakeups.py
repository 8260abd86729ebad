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

Between waits, the manager asks the table how long it may sleep: whether eligible work
arrived after its last dequeue (a notification it may have consumed already), when the
next deferred job is due, and whether any queued work is there at all: up to three
statements, each a round trip, after every batch it takes. :class:`OneProbeQueueManager`
asks the same three questions in one statement (PgQueuer's own three queries as scalar
subqueries) and answers them by the same rules.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from pgqueuer import QueueManager
from pgqueuer.core import listeners

if TYPE_CHECKING:
    from pgqueuer import Queries

__all__ = ["OneProbeQueueManager", "OneWakeUp", "bound_wake_ups"]


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


class OneProbeQueueManager(QueueManager):
    """PgQueuer's ``QueueManager``, probing the table once between waits instead of up to three times."""

    @functools.cached_property
    def _probe(self) -> str:
        """PgQueuer's three probe queries as the scalar subqueries of one statement (built once)."""
        builder = cast("Queries", self.queries).qbq
        return (
            f"SELECT ({builder.build_has_eligible_queued_work().strip()}) AS eligible, "
            f"({builder.build_next_deferred_eta_query().strip()}) AS eta, "
            f"({builder.build_has_queued_work().strip()}) AS queued"
        )

    async def _effective_dequeue_timeout(self, dequeue_timeout: timedelta) -> timedelta:
        """PgQueuer's rule for the next wait, from one statement (see the module docstring)."""
        queries = cast("Queries", self.queries)  # the manager's port is PgQueuer's Queries here
        rows = await queries.driver.fetch(self._probe, list(self.entrypoint_registry.keys()))
        row = rows[0]
        if row["eligible"]:
            return self.min_dequeue_poll_interval
        eta = row["eta"] if isinstance(row["eta"], timedelta) else None
        if eta is not None and eta < dequeue_timeout:
            return max(eta, self.min_dequeue_poll_interval)
        if eta is None and row["queued"]:
            return self.min_dequeue_poll_interval
        return dequeue_timeout
