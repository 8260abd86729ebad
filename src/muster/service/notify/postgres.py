"""PostgreSQL LISTEN/NOTIFY notifications: workers and replicas without Redis.

Chosen over polling the store: a stream learns of a turn within milliseconds, and the
cost is one listening connection per process instead of one query per open stream every
poll interval. NOTIFY is sent after the turn's transaction committed, as a separate
statement: a notification that is lost (the listener reconnecting) only delays streams
until their periodic re-read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from .base import Notifier, listen_forever, payload

__all__ = ["PostgresNotifier"]


class PostgresNotifier(Notifier):
    """``NOTIFY channel, run_id`` after writes; every process ``LISTEN``s.

    Args:
        conninfo: A libpq connection string (``postgresql://...``, no SQLAlchemy driver).
        channel: The channel (an identifier: one per deployment).
    """

    def __init__(self, conninfo: str, channel: str) -> None:
        super().__init__()
        self._conninfo = conninfo
        self.channel = channel
        self._publisher: Any = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, listen: bool = True) -> None:
        """Start the listener, unless ``listen`` is false (the publishing connection opens on first use)."""
        if not listen:
            return
        listening = asyncio.Event()
        self._task = asyncio.create_task(
            listen_forever("postgres", self._listen_once, listening.set), name="muster pg notifier"
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listening.wait(), 5.0)

    async def _listen_once(self, connected: Callable[[], None]) -> None:
        import psycopg
        from psycopg import sql

        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        try:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            connected()
            self.wake_all()
            async for notify in conn.notifies():
                self.wake_payload(notify.payload)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def publish(self, run_id: str, *, ended: bool = False) -> None:
        """Wake local subscribers now, and every other process through NOTIFY."""
        import psycopg

        self.wake_local(run_id, ended=ended)
        async with self._lock:
            for attempt in (1, 2):
                if self._publisher is None or self._publisher.closed:
                    self._publisher = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                try:
                    await self._publisher.execute(
                        "SELECT pg_notify(%s, %s)", (self.channel, payload(run_id, ended))
                    )
                    return
                except psycopg.OperationalError:
                    # A dropped connection: reconnect once, then let the caller know.
                    await self._publisher.close()
                    self._publisher = None
                    if attempt == 2:
                        raise

    async def close(self) -> None:
        """Stop the listener and close the publishing connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._publisher is not None:
            await self._publisher.close()
