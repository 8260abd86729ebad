"""The reconnecting listen loop the Redis and PostgreSQL notifiers share."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["listen_forever"]

logger = logging.getLogger("muster.service.notify")


async def listen_forever(
    name: str,
    listen_once: Callable[[Callable[[], None]], Awaitable[None]],
    on_connected: Callable[[], None],
    *,
    max_backoff: float = 5.0,
) -> None:
    """Run ``listen_once`` again whenever it fails, with a capped backoff, until cancelled.

    ``listen_once`` calls the function it is given once it listens; ``on_connected`` then
    runs (the notifiers wake every stream: notifications sent while the listener was
    down are lost, and the streams must read the store to catch up).
    """
    backoff = 0.1
    while True:

        def connected() -> None:
            nonlocal backoff
            backoff = 0.1
            on_connected()

        try:
            await listen_once(connected)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("%s listener lost its connection (%s); reconnecting", name, exc)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, max_backoff)
