"""Redis pub/sub notifications: API replicas and workers on different hosts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from .base import Notifier, listen_forever, payload

__all__ = ["RedisNotifier"]


class RedisNotifier(Notifier):
    """Publishes run ids on one Redis channel; every process listens to it.

    Args:
        url: The Redis URL (``redis.url``).
        channel: The channel (one per deployment: the database schema is part of it).
    """

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self._url = url
        self.channel = channel
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, listen: bool = True) -> None:
        """Connect the publishing client and start the listener, unless ``listen`` is false."""
        import redis.asyncio as redis

        self._client = redis.Redis.from_url(self._url)
        if not listen:
            return
        listening = asyncio.Event()
        self._task = asyncio.create_task(
            listen_forever("redis", self._listen_once, listening.set), name="muster redis notifier"
        )
        # Subscribed before start returns: a stream opened right after misses nothing.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listening.wait(), 5.0)

    async def _listen_once(self, connected: Callable[[], None]) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            connected()
            self.wake_all()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    data = message["data"]
                    self.wake_payload(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def publish(self, run_id: str, *, ended: bool = False) -> None:
        """Wake local subscribers now, and every other process through Redis."""
        self.wake_local(run_id, ended=ended)
        await self._client.publish(self.channel, payload(run_id, ended))

    async def ping(self) -> None:
        """Raise unless Redis answers (``/ready``)."""
        await self._client.ping()

    async def close(self) -> None:
        """Stop the listener and close the client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()
