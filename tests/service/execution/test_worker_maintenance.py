"""The worker's maintenance loop stops when cancelled, even if a call under way swallowed the cancel."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from muster.service.execution import worker as worker_module
from muster.service.settings import ServiceSettings


async def test_maintenance_stops_after_a_call_that_swallowed_its_cancellation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entered = asyncio.Event()
    calls = 0

    async def swallowing_check(*_: Any) -> None:
        # What a connection pool did under load: the cancellation arrives while it waits,
        # and it returns normally instead of raising.
        nonlocal calls
        calls += 1
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return

    async def nothing(*_: Any) -> int:
        return 0

    class Store:
        async def worker_heartbeat(self, name: str, **_: Any) -> None:
            pass

    monkeypatch.setattr(worker_module, "take_over_stale_runs", swallowing_check)
    monkeypatch.setattr(worker_module, "requeue_orphans", nothing)
    settings = ServiceSettings(worker={"poll_seconds": 0.01})
    task = asyncio.create_task(worker_module._maintain(None, Store(), settings, "w"))  # type: ignore[arg-type]
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)
    assert calls == 1  # it did not go round again
