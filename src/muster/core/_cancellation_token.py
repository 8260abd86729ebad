"""Cooperative cancellation shared by the runtime, model clients, tools and agents."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from asyncio import Future
from collections.abc import Callable
from typing import Any, TypeVar

from . import ROOT_LOGGER_NAME

__all__ = ["CancellationToken"]

_FutureT = TypeVar("_FutureT", bound=Future[Any])  # not a string: that one is compiled (ForwardRef)

_logger = logging.getLogger(ROOT_LOGGER_NAME)


class _Registration:
    """One callback and the event loop it must run on (``None``: any thread)."""

    __slots__ = ("callback", "loop")

    def __init__(self, callback: Callable[[], None], loop: asyncio.AbstractEventLoop | None) -> None:
        self.callback = callback
        self.loop = loop

    def run(self) -> None:
        # One failing callback must not keep the others from hearing the cancellation.
        try:
            self.callback()
        except Exception:
            _logger.exception("CancellationToken callback %r failed", self.callback)


_NO_CALLBACKS: dict[_Registration, None] = {}
"""The callbacks of every token that has had none: shared, and never written to (see ``_register``)."""

_LOCK = threading.Lock()
"""Guards every token's state against ``cancel`` from another thread.

One lock for all tokens, not one each: what it guards takes a few dict operations (callbacks
run outside it), threads rarely cancel, and a token per publish and per send then costs no
lock of its own to make."""


def _nothing() -> None:
    """The remover handed out when there is nothing left to remove."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class CancellationToken:
    """A one-shot signal that asks pending work to stop.

    Work registers interest either with a callback or by linking an asyncio future;
    cancelling the token runs every callback once and cancels every linked future.
    A callback registered after cancellation runs immediately, so late registrants can
    never miss the signal.

    ``cancel`` may be called from any thread (a signal handler, a UI thread). asyncio
    objects may only be touched on their own loop, so a callback registered while an
    event loop runs (and a linked future) is handed to that loop with
    ``call_soon_threadsafe`` when ``cancel`` comes from another thread; from the loop's
    own thread it runs synchronously, before ``cancel`` returns. Callbacks registered with
    no running loop run synchronously in the cancelling thread.

    A callback that raises is logged (logger ``muster.core``) and the others still run.
    """

    __slots__ = ("_callbacks", "_cancelled")

    def __init__(self) -> None:
        self._cancelled = False
        # A dict used as an ordered set: removing one registration is O(1), so a token
        # shared by thousands of concurrent calls does not pay O(n) per finished call. Until
        # the first registration it is one shared empty dict that nothing writes to: the
        # runtime makes a token per publish and per send, and most never get a callback.
        self._callbacks: dict[_Registration, None] = _NO_CALLBACKS

    def cancel(self) -> None:
        """Cancel all pending work linked to this token; later calls do nothing."""
        with _LOCK:
            if self._cancelled:
                return
            self._cancelled = True
            registrations = list(self._callbacks)
            self._callbacks.clear()
        current = _running_loop()
        for registration in registrations:
            _dispatch(registration, current)

    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` has been called."""
        return self._cancelled

    def add_callback(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` on cancellation (at once if already cancelled).

        Returns:
            A function of no arguments that unregisters ``callback``. Call it when the
            work the callback protects is over, so a long-lived token does not keep one
            callback (and everything it references) per finished call. Calling it twice,
            or after cancellation, does nothing. AutoGen's ``add_callback`` returns
            ``None``; callers that ignore the result behave as there.
        """
        return self._register(_Registration(callback, _running_loop()))

    def link_future(self, future: _FutureT) -> _FutureT:
        """Cancel ``future`` when this token is cancelled; returns the future for chaining.

        The future is cancelled on its own loop (see the class docstring). The link is
        dropped as soon as the future finishes, so a long-lived token shared by many calls
        (a whole run, say) does not accumulate one callback per call.
        """
        remove = self._register(_future_canceller(future))
        if remove is not _nothing:
            future.add_done_callback(lambda _: remove())
        return future

    def _register(self, registration: _Registration) -> Callable[[], None]:
        with _LOCK:
            if not self._cancelled:
                if self._callbacks is _NO_CALLBACKS:
                    self._callbacks = {}
                self._callbacks[registration] = None
                return functools.partial(self._discard, registration)
        _dispatch(registration, _running_loop())
        return _nothing

    def _discard(self, registration: _Registration) -> None:
        with _LOCK:
            self._callbacks.pop(registration, None)


def scoped_link(token: CancellationToken, future: Future[Any]) -> Callable[[], None]:
    """Link ``future`` to ``token`` as :meth:`~CancellationToken.link_future` does; return the unlink.

    ``link_future`` drops the link from the future's done-callback, which runs only once
    the future has finished and a loop iteration later; a call that timed out or was
    abandoned may still be finishing when it returns. Code that knows when it is done with
    the future calls the returned function (in a ``finally``) so nothing of the call stays
    on a long-lived token.
    """
    return token._register(_future_canceller(future))


def _future_canceller(future: Future[Any]) -> _Registration:
    def cancel_future() -> None:
        if not future.done():
            future.cancel()

    # Bound to the future's own loop: futures may only be touched there.
    return _Registration(cancel_future, future.get_loop())


def _dispatch(registration: _Registration, current: asyncio.AbstractEventLoop | None) -> None:
    """Run ``registration`` now if that is safe from this thread, else on its loop."""
    loop = registration.loop
    # A loop that no thread is running (stopped, or closed) cannot race with us.
    if loop is None or loop is current or not loop.is_running():
        registration.run()
        return
    try:
        loop.call_soon_threadsafe(registration.run)
    except RuntimeError:  # the loop closed after the check: nobody can race with us now
        registration.run()
