"""Tie a CancellationToken to the awaits of one model call, so cancelling aborts the request.

Each await that may block on the network (the request, each stream read, a backoff
sleep) runs as a task the token can cancel; cancelling that task makes the HTTP client
drop the connection. One callback is registered per call, not one per await, so a long
stream does not pile callbacks onto the token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from muster.core._cancellation_token import CancellationToken

__all__ = ["CancelGuard"]

_T = TypeVar("_T")


class CancelGuard:
    """Runs awaitables so that cancelling ``token`` cancels whichever one is pending.

    With no token, :meth:`run` is a plain ``await``: the common path pays nothing.
    Cancellation surfaces to the caller as :class:`asyncio.CancelledError`.
    """

    __slots__ = ("_cancelled", "_loop", "_pending", "_token")

    def __init__(self, token: CancellationToken | None) -> None:
        self._token = token
        self._pending: asyncio.Future[Any] | None = None
        self._cancelled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        if token is not None:
            self._loop = asyncio.get_running_loop()
            token.add_callback(self._on_cancel)

    def _on_cancel(self) -> None:
        self._cancelled = True
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        # The token may be cancelled from another thread (a UI, a signal handler);
        # asyncio futures may only be touched from their loop's thread.
        try:
            loop.call_soon_threadsafe(self._cancel_pending)
        except RuntimeError:  # the loop closed between the check and the call
            pass

    def _cancel_pending(self) -> None:
        pending = self._pending
        if pending is not None and not pending.done():
            pending.cancel()

    @property
    def cancelled(self) -> bool:
        """Whether the token was cancelled."""
        return self._cancelled

    async def run(self, awaitable: Awaitable[_T]) -> _T:
        """Await ``awaitable``, cancelling it if the token is cancelled meanwhile."""
        if self._token is None:
            return await awaitable
        if self._cancelled:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()  # never started: close it so no "never awaited" warning
            raise asyncio.CancelledError("cancelled by its CancellationToken")
        future: asyncio.Future[_T] = asyncio.ensure_future(awaitable)
        self._pending = future
        try:
            return await future
        finally:
            self._pending = None
