"""Retention: the events, checkpoints and recorded responses of old runs are pruned on a schedule.

A finished run keeps its row and its thread's messages (the conversation is the user's
data); what goes after ``database.retention_days`` is what only a live or a resumable run
needs: its event log (the SSE replay), its turn checkpoints and its recorded model
responses. Every API process prunes every ``database.prune_interval_seconds``, starting at
start-up; the deletes are idempotent, so replicas pruning at the same time only repeat
each other's work. ``retention_days: null`` keeps everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from .settings import DatabaseSettings
from .store.base import Store

__all__ = ["RetentionTask", "prune_once"]

logger = logging.getLogger(__name__)


async def prune_once(store: Store, retention_days: float, *, now: datetime | None = None) -> int:
    """Prune what runs finished more than ``retention_days`` ago left; returns the rows deleted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    deleted = await store.prune(cutoff)
    if deleted:
        logger.info("pruned %d rows of runs finished before %s", deleted, cutoff.isoformat())
    return deleted


class RetentionTask:
    """Prunes on a schedule in the background of a process (see the module docstring).

    Args:
        store: The store to prune.
        settings: ``retention_days`` (``None``: the task does nothing) and
            ``prune_interval_seconds``.
    """

    def __init__(self, store: Store, settings: DatabaseSettings) -> None:
        self.store = store
        self.retention_days = settings.retention_days
        self.interval = settings.prune_interval_seconds
        self.passes = 0
        """Prune passes finished (a failed pass counts too: the schedule goes on)."""
        self.passed = asyncio.Event()
        """Set after each pass (tests and start-up checks wait on it)."""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start pruning now and then every interval (no-op without a retention)."""
        if self.retention_days is not None and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="muster retention")

    async def stop(self) -> None:
        """Stop the schedule (a pass in progress is cancelled: its transaction rolls back)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        assert self.retention_days is not None
        while True:
            try:
                await prune_once(self.store, self.retention_days)
            except Exception:  # a database outage: try again at the next interval
                logger.warning("pruning old runs failed; retrying in %g s", self.interval, exc_info=True)
            self.passes += 1
            self.passed.set()
            await asyncio.sleep(self.interval)
