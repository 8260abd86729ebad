"""ModelClientPool: reuse, waiting, statistics, surplus closing, shutdown."""

from __future__ import annotations

import asyncio
import sys
import types
from typing import Any

import pytest

from muster.models.replay import ReplayChatCompletionClient
from muster.ops import ForeignClientError, ModelClientPool, PoolClosedError


class CountingClient(ReplayChatCompletionClient):
    """A replay client that records whether it was closed."""

    instances: list[CountingClient]

    def __init__(self, serial: int) -> None:
        super().__init__(["ok"] * 10)
        self.serial = serial
        self.closed = 0

    async def close(self) -> None:
        self.closed += 1


class Factory:
    def __init__(self) -> None:
        self.made: list[CountingClient] = []

    def __call__(self) -> CountingClient:
        client = CountingClient(len(self.made))
        self.made.append(client)
        return client


async def until(predicate: Any) -> None:
    """Yield to the loop until ``predicate()`` holds (bounded by the test timeout)."""
    while not predicate():
        await asyncio.sleep(0)


async def test_reuses_returned_clients_and_counts_requests() -> None:
    factory = Factory()
    pool = ModelClientPool(max_connections=2, client_factory=factory)
    a = await pool.get_client()
    await pool.return_client(a)
    b = await pool.get_client()
    assert b is a
    c = await pool.get_client()
    assert c is not a
    stats = pool.get_stats()
    assert stats["requests"] == 3
    assert stats["cache_hits"] == 1
    assert stats["cache_misses"] == 2
    assert stats["hit_rate"] == pytest.approx(1 / 3)
    assert stats["total_clients"] == 2
    assert stats["available_clients"] == 0
    assert stats["in_use_clients"] == 2
    assert len(factory.made) == 2


async def test_waits_when_exhausted_and_serves_waiters_in_order() -> None:
    pool = ModelClientPool(max_connections=1, client_factory=Factory())
    held = await pool.get_client()
    order: list[str] = []

    async def borrow(name: str) -> None:
        async with pool.client() as client:
            assert client is held
            order.append(name)

    first = asyncio.create_task(borrow("first"))
    await until(lambda: pool.get_stats()["waiting"] == 1)
    second = asyncio.create_task(borrow("second"))
    await until(lambda: pool.get_stats()["waiting"] == 2)
    assert order == []
    await pool.return_client(held)
    await asyncio.gather(first, second)
    assert order == ["first", "second"]
    stats = pool.get_stats()
    assert stats["total_clients"] == 1 and stats["available_clients"] == 1
    assert stats["cache_hits"] == 2 and stats["requests"] == 3


async def test_surplus_returns_beyond_max_idle_are_closed() -> None:
    factory = Factory()
    pool = ModelClientPool(max_connections=3, client_factory=factory, max_idle=1)
    clients = [await pool.get_client() for _ in range(3)]
    for client in clients:
        await pool.return_client(client)
    assert [c.closed for c in factory.made] == [0, 1, 1]
    stats = pool.get_stats()
    assert stats["total_clients"] == 1 and stats["available_clients"] == 1


async def test_foreign_or_double_return_is_refused() -> None:
    pool = ModelClientPool(max_connections=1, client_factory=Factory())
    with pytest.raises(ForeignClientError):
        await pool.return_client(CountingClient(99))
    client = await pool.get_client()
    await pool.return_client(client)
    with pytest.raises(ForeignClientError):
        await pool.return_client(client)
    assert pool.get_stats()["available_clients"] == 1


async def test_factory_failure_frees_the_slot() -> None:
    attempts = 0

    def flaky() -> CountingClient:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("provider down")
        return CountingClient(attempts)

    pool = ModelClientPool(max_connections=1, client_factory=flaky)
    with pytest.raises(ConnectionError):
        await pool.get_client()
    assert pool.get_stats()["total_clients"] == 0
    client = await pool.get_client()
    assert isinstance(client, CountingClient)


async def test_waiter_builds_a_client_when_a_build_fails() -> None:
    gate = asyncio.Event()
    calls = 0

    async def slow_then_ok() -> CountingClient:
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()
            raise ConnectionError("first build failed")
        return CountingClient(calls)

    pool = ModelClientPool(max_connections=1, client_factory=slow_then_ok)
    failing = asyncio.create_task(pool.get_client())
    await until(lambda: calls == 1)
    waiting = asyncio.create_task(pool.get_client())
    await until(lambda: pool.get_stats()["waiting"] == 1)
    gate.set()
    with pytest.raises(ConnectionError):
        await failing
    client = await waiting
    assert isinstance(client, CountingClient) and pool.get_stats()["total_clients"] == 1


async def test_cancelled_waiter_does_not_leak_a_client() -> None:
    pool = ModelClientPool(max_connections=1, client_factory=Factory())
    held = await pool.get_client()
    waiter = asyncio.create_task(pool.get_client())
    await until(lambda: pool.get_stats()["waiting"] == 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await pool.return_client(held)
    stats = pool.get_stats()
    assert stats["available_clients"] == 1 and stats["in_use_clients"] == 0 and stats["waiting"] == 0


async def test_waiter_cancelled_after_handoff_passes_the_client_on() -> None:
    pool = ModelClientPool(max_connections=1, client_factory=Factory())
    held = await pool.get_client()
    waiter = asyncio.create_task(pool.get_client())
    await until(lambda: pool.get_stats()["waiting"] == 1)
    await pool.return_client(held)  # handed to the waiter's future...
    waiter.cancel()  # ...which is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.get_stats()["available_clients"] == 1
    assert await pool.get_client() is held


async def test_close_closes_idle_wakes_waiters_and_closes_lent_on_return() -> None:
    factory = Factory()
    pool = ModelClientPool(max_connections=2, client_factory=factory)
    idle = await pool.get_client()
    lent = await pool.get_client()
    await pool.return_client(idle)
    assert (await pool.get_client()) is idle  # re-borrow, then exhaust the pool
    await pool.return_client(idle)
    other = await pool.get_client()
    waiter = asyncio.create_task(pool.get_client())
    await until(lambda: pool.get_stats()["waiting"] == 1)
    await pool.return_client(other)  # goes to the waiter
    blocked = asyncio.create_task(pool.get_client())
    await until(lambda: pool.get_stats()["waiting"] == 1)
    given = await waiter

    await pool.close()
    with pytest.raises(PoolClosedError):
        await blocked
    with pytest.raises(PoolClosedError):
        await pool.get_client()
    assert lent.closed == 0
    await pool.return_client(lent)
    await pool.return_client(given)
    assert [c.closed for c in factory.made] == [1, 1]
    assert pool.get_stats()["total_clients"] == 0


async def test_async_with_pool_closes_idle_clients() -> None:
    factory = Factory()
    async with ModelClientPool(max_connections=2, client_factory=factory) as pool:
        async with pool.client():
            pass
    assert pool.closed
    assert factory.made[0].closed == 1


async def test_client_context_returns_the_client_on_error() -> None:
    pool = ModelClientPool(max_connections=1, client_factory=Factory())
    with pytest.raises(RuntimeError):
        async with pool.client():
            raise RuntimeError("request failed")
    assert pool.get_stats()["available_clients"] == 1


async def test_close_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class BadClose(CountingClient):
        async def close(self) -> None:
            raise OSError("socket already gone")

    pool = ModelClientPool(max_connections=1, client_factory=lambda: BadClose(0))
    async with pool.client():
        pass
    await pool.close()
    assert "closing a pooled BadClose failed" in caplog.text


async def test_default_factory_builds_openai_client_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[dict[str, Any]] = []

    def fake_openai_client(**kwargs: Any) -> CountingClient:
        built.append(kwargs)
        return CountingClient(0)

    fake = types.ModuleType("muster.models.openai")
    fake.OpenAIChatCompletionClient = fake_openai_client  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "muster.models.openai", fake)
    pool = ModelClientPool(max_connections=1, model_config={"model": "gpt-4o-mini", "api_key": "k"})
    assert built == []
    await pool.get_client()
    assert built == [{"model": "gpt-4o-mini", "api_key": "k"}]


@pytest.mark.parametrize("kwargs", [{"max_connections": 0}, {"max_connections": 2, "max_idle": 3}])
def test_rejects_bad_limits(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ModelClientPool(**kwargs)
