"""How runs get executed: one small interface, two implementations.

- ``LocalExecutor`` (SQLite, the embedded default): runs execute as asyncio tasks in the
  serving process, at most ``agents.max_concurrent`` at a time, one at a time per thread;
  runs left ``running`` or ``pending`` by a crash resume when the process starts again.
- ``JobExecutor`` (PostgreSQL): the API only enqueues a PgQueuer job per run (only a
  thread's first current run: the next is queued when it ends, so a thread's runs are
  serial); ``muster worker`` processes execute them; a dead worker's run is taken over by another once its heartbeat lapses
  and resumes from its last checkpoint.

Both hand the actual work to the ``RunRunner``.
"""

from __future__ import annotations

import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from ..models import Run

__all__ = ["Executor", "worker_name"]


def worker_name(role: str) -> str:
    """This process's name as a run's ``worker``: ``role@host:pid`` (operators find it by it)."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


class Executor(ABC):
    """Accepts runs from the API and gets them executed."""

    @abstractmethod
    async def start(self) -> None:
        """Start executing (and resume what a crash left behind)."""

    @abstractmethod
    async def stop(self, grace: float) -> None:
        """Stop taking runs; finish or checkpoint-and-release running ones within ``grace`` seconds."""

    @abstractmethod
    async def submit(self, run: Run, *, enqueued: bool = False) -> None:
        """Schedule a ``pending`` run (already stored). Never drops it: a run that cannot be
        scheduled stays ``pending`` in the store and is picked up later.

        ``enqueued``: :meth:`enqueue_in` already queued it, in the transaction that stored it.
        """

    def enqueue_in(self) -> Callable[[Any, Run], Awaitable[None]] | None:
        """A function that queues a new run inside the store's transaction, or ``None``.

        The store calls it (``Store.create_run(on_insert=...)``, PostgreSQL) with the
        transaction's driver connection and the inserted run: the run and its job are
        committed together or not at all.
        """
        return None

    @abstractmethod
    async def cancel(self, run_id: str) -> None:
        """Stop a run at its next turn boundary (the store already records the request)."""

    @property
    @abstractmethod
    def draining(self) -> bool:
        """Whether :meth:`stop` was called (``/ready`` answers 503 then)."""

    async def worker_counts(self) -> tuple[int, int, int]:
        """Executing processes ``(online, offline, busy)`` for ``autogen_agents_count``."""
        return 1, 0, 0
