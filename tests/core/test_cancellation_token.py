"""CancellationToken: callbacks run once, late registrants still hear, links do not pile up."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from muster.core import CancellationToken


def test_cancel_runs_each_callback_once_and_late_callbacks_immediately() -> None:
    token = CancellationToken()
    calls: list[str] = []
    token.add_callback(lambda: calls.append("early"))
    token.cancel()
    token.cancel()
    token.add_callback(lambda: calls.append("late"))
    assert calls == ["early", "late"] and token.is_cancelled()


async def test_linking_a_future_to_a_cancelled_token_cancels_it_at_once() -> None:
    token = CancellationToken()
    token.cancel()
    assert token.link_future(asyncio.get_running_loop().create_future()).cancelled()


async def test_finished_linked_futures_do_not_accumulate_on_a_shared_token() -> None:
    token = CancellationToken()
    for _ in range(100):
        fut = token.link_future(asyncio.get_running_loop().create_future())
        fut.set_result(None)
    await asyncio.sleep(0)  # done-callbacks run on the next loop iteration
    assert len(token._callbacks) == 0
    pending = token.link_future(asyncio.get_running_loop().create_future())
    token.cancel()
    assert pending.cancelled()


def test_remover_unregisters_its_callback_only_and_is_idempotent() -> None:
    token = CancellationToken()
    calls: list[str] = []
    remove_first = token.add_callback(lambda: calls.append("first"))
    token.add_callback(lambda: calls.append("second"))
    remove_first()
    remove_first()
    assert len(token._callbacks) == 1
    token.cancel()
    remove_first()  # harmless after cancel too
    assert calls == ["second"]


def test_remover_of_a_late_callback_is_harmless() -> None:
    token = CancellationToken()
    token.cancel()
    calls: list[str] = []
    remove = token.add_callback(lambda: calls.append("late"))
    remove()
    assert calls == ["late"] and len(token._callbacks) == 0


def test_a_raising_callback_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    token = CancellationToken()
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("callback exploded")

    token.add_callback(lambda: calls.append("before"))
    token.add_callback(broken)
    token.add_callback(lambda: calls.append("after"))
    with caplog.at_level(logging.ERROR, logger="muster.core"):
        token.cancel()
    assert calls == ["before", "after"]
    assert "callback exploded" in caplog.text


async def test_callbacks_run_synchronously_when_cancelled_on_the_loop_thread() -> None:
    token = CancellationToken()
    calls: list[str] = []
    token.add_callback(lambda: calls.append("a"))
    fut = token.link_future(asyncio.get_running_loop().create_future())
    token.add_callback(lambda: calls.append("b"))
    token.cancel()
    assert calls == ["a", "b"] and fut.cancelled()


async def test_cancel_from_another_thread_runs_callbacks_on_the_loop() -> None:
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    token = CancellationToken()
    ran_on: list[int] = []
    callback_ran = asyncio.Event()

    def on_cancel() -> None:
        ran_on.append(threading.get_ident())
        # Only safe on the loop's thread: an asyncio.Event is not thread-safe.
        callback_ran.set()

    class RecordingFuture(asyncio.Future[None]):
        def cancel(self, msg: Any | None = None) -> bool:
            ran_on.append(threading.get_ident())
            return super().cancel(msg)

    token.add_callback(on_cancel)
    linked = token.link_future(RecordingFuture(loop=loop))
    canceller = threading.Thread(target=token.cancel)
    canceller.start()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(linked, 10)
    await asyncio.wait_for(callback_ran.wait(), 10)
    await asyncio.to_thread(canceller.join)
    assert ran_on == [loop_thread, loop_thread]  # the callback, then the future's cancel


def test_callbacks_registered_without_a_loop_run_in_the_cancelling_thread() -> None:
    token = CancellationToken()
    ran_on: list[int] = []
    token.add_callback(lambda: ran_on.append(threading.get_ident()))
    canceller = threading.Thread(target=token.cancel)
    canceller.start()
    canceller.join()
    assert len(ran_on) == 1 and ran_on[0] == canceller.ident
