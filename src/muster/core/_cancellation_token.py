"""Cooperative cancellation shared by the runtime, model clients, tools and agents."""

from __future__ import annotations

import threading
from asyncio import Future
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["CancellationToken"]

_FutureT = TypeVar("_FutureT", bound="Future[Any]")


class CancellationToken:
    """A one-shot signal that asks pending work to stop.

    Work registers interest either with a callback or by linking an asyncio future;
    cancelling the token runs every callback once and cancels every linked future.
    A callback registered after cancellation runs immediately, so late registrants can
    never miss the signal. The lock makes ``cancel`` safe to call from another thread
    (for example a signal handler or a UI thread).
    """

    __slots__ = ("_callbacks", "_cancelled", "_lock")

    def __init__(self) -> None:
        self._cancelled = False
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        """Cancel all pending work linked to this token; later calls do nothing."""
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` has been called."""
        return self._cancelled

    def add_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on cancellation (at once if already cancelled)."""
        with self._lock:
            if not self._cancelled:
                self._callbacks.append(callback)
                return
        callback()

    def link_future(self, future: _FutureT) -> _FutureT:
        """Cancel ``future`` when this token is cancelled; returns the future for chaining.

        The link is dropped as soon as the future finishes, so a long-lived token shared by
        many calls (a whole run, say) does not accumulate one callback per call.
        """

        def _cancel_future() -> None:
            if not future.done():
                future.cancel()

        with self._lock:
            if not self._cancelled:
                self._callbacks.append(_cancel_future)
                future.add_done_callback(lambda _: self._discard(_cancel_future))
                return future
        _cancel_future()
        return future

    def _discard(self, callback: Callable[[], None]) -> None:
        with self._lock:
            try:
                self._callbacks.remove(callback)
            except ValueError:  # already run by cancel()
                pass
