"""Tie a CancellationToken to the awaits of one model call, so cancelling aborts the request.

Each await that may block on the network (the request, each stream read, a backoff
sleep) runs as a task the token can cancel; cancelling that task makes the HTTP client
drop the connection. The guard holds a callback on the token only while one of its
awaits is pending: a token shared by a whole run (thousands of calls) keeps nothing from
the calls that have finished, however they finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from muster.core import CancellationToken
from muster.core.internal import scoped_link

__all__ = ["CancelGuard"]

_T = TypeVar("_T")


class CancelGuard:
    """Runs awaitables so that cancelling ``token`` cancels whichever one is pending.

    With no token, :meth:`run` is a plain ``await``: the common path pays nothing.
    Cancellation surfaces to the caller as :class:`asyncio.CancelledError`. The token
    runs the cancelling callback on this loop even when ``cancel()`` comes from another
    thread, so the pending task is only ever touched from its own loop.
    """

    __slots__ = ("_token",)

    def __init__(self, token: CancellationToken | None) -> None:
        self._token = token

    @property
    def cancelled(self) -> bool:
        """Whether the token was cancelled."""
        return self._token is not None and self._token.is_cancelled()

    async def run(self, awaitable: Awaitable[_T]) -> _T:
        """Await ``awaitable``, cancelling it if the token is cancelled meanwhile."""
        token = self._token
        if token is None:
            return await awaitable
        if token.is_cancelled():
            if asyncio.iscoroutine(awaitable):
                awaitable.close()  # never started: close it so no "never awaited" warning
            raise asyncio.CancelledError("cancelled by its CancellationToken")
        future: asyncio.Future[_T] = asyncio.ensure_future(awaitable)
        # Registered per await rather than once per call: the guard has no "call finished"
        # hook (an abandoned stream is simply never resumed), and an add/remove pair costs
        # about a microsecond, nothing beside a network read.
        unlink = scoped_link(token, future)
        try:
            return await future
        finally:
            unlink()
