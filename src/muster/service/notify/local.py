"""In-process notifications: the runs execute in the process that serves their streams."""

from __future__ import annotations

from .base import Notifier

__all__ = ["LocalNotifier"]


class LocalNotifier(Notifier):
    """Wakes this process's subscribers directly (SQLite: one serving process runs everything)."""

    async def publish(self, run_id: str, *, ended: bool = False) -> None:
        """Wake the local subscribers to ``run_id``."""
        self.wake_local(run_id, ended=ended)
