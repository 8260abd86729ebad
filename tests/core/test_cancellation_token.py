"""CancellationToken: callbacks run once, late registrants still hear, links do not pile up."""

from __future__ import annotations

import asyncio

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
    assert token._callbacks == []
    pending = token.link_future(asyncio.get_running_loop().create_future())
    token.cancel()
    assert pending.cancelled()
