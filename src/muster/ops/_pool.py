"""A bounded pool of model clients shared by many concurrent agents."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self, cast

from muster.models import ChatCompletionClient

from .exceptions import ForeignClientError, PoolClosedError

__all__ = ["ClientFactory", "ModelClientPool"]

logger = logging.getLogger(__name__)

ClientFactory = Callable[[], ChatCompletionClient | Awaitable[ChatCompletionClient]]
"""Builds one client; may be sync or async."""


class ModelClientPool:
    """Lends at most ``max_connections`` model clients, reusing returned ones.

    Each client holds its own HTTP connection pool, so sharing a few clients between many
    agents bounds the open connections and the concurrent requests to a provider. A
    borrower that finds every client lent out waits, first come first served, until one is
    returned. Returned clients beyond ``max_idle`` are closed, so the pool shrinks after a
    burst. Prefer ``async with pool.client() as c:``, which always gives the client back.

    The statistics follow the seed's names: ``cache_hits`` counts loans served by an
    existing client, ``cache_misses`` loans that had to build one, and
    ``hit_rate = cache_hits / requests``.

    Args:
        max_connections: Most clients alive at once (lent, idle or being built).
        model_config: Keyword arguments for ``OpenAIChatCompletionClient`` when no
            ``client_factory`` is given.
        client_factory: Builds a client (sync or async); use it for other providers and
            for replay clients in tests.
        max_idle: Most idle clients kept; defaults to ``max_connections``.
    """

    def __init__(
        self,
        max_connections: int = 10,
        model_config: Mapping[str, Any] | None = None,
        client_factory: ClientFactory | None = None,
        *,
        max_idle: int | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        if max_idle is not None and not 0 <= max_idle <= max_connections:
            raise ValueError(f"max_idle must be between 0 and max_connections, got {max_idle}")
        self.max_connections = max_connections
        self.max_idle = max_connections if max_idle is None else max_idle
        self.model_config: dict[str, Any] = dict(model_config or {})
        self._factory = client_factory or self._default_factory
        self._idle: deque[ChatCompletionClient] = deque()
        # Keyed by id() but holding the client, so an id cannot be recycled while lent.
        self._lent: dict[int, ChatCompletionClient] = {}
        # A waiter's future resolves to a client, or to None meaning "a slot is reserved
        # for you: build a client".
        self._waiters: deque[asyncio.Future[ChatCompletionClient | None]] = deque()
        self._total = 0
        self._closed = False
        self._requests = 0
        self._hits = 0
        self._misses = 0

    def _default_factory(self) -> ChatCompletionClient:
        # Imported on first use: the OpenAI SDK is an optional extra.
        module = importlib.import_module("muster.models.openai")
        return cast(ChatCompletionClient, module.OpenAIChatCompletionClient(**self.model_config))

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    async def get_client(self) -> ChatCompletionClient:
        """Borrow a client, waiting if all ``max_connections`` are lent out.

        Raises:
            PoolClosedError: the pool is, or gets, closed.
            Exception: whatever the client factory raised (the slot is freed again).
        """
        if self._closed:
            raise PoolClosedError()
        self._requests += 1
        if self._idle:
            # LIFO: the most recently used client is the likeliest to have a live connection.
            return self._lend(self._idle.pop(), hit=True)
        if self._total < self.max_connections:
            self._total += 1
            return await self._build()
        waiter: asyncio.Future[ChatCompletionClient | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # We were handed a client (or a slot) just as we were cancelled: pass it on.
                self._release(waiter.result())
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        if handed is None:
            return await self._build()
        self._hits += 1
        return handed

    async def _build(self) -> ChatCompletionClient:
        """Build a client into a slot already counted in ``_total``."""
        try:
            made = self._factory()
            client = await made if inspect.isawaitable(made) else made
        except BaseException:
            self._release(None)
            raise
        if self._closed:
            self._total -= 1
            await self._close_client(client)
            raise PoolClosedError()
        return self._lend(client, hit=False)

    def _lend(self, client: ChatCompletionClient, *, hit: bool) -> ChatCompletionClient:
        if hit:
            self._hits += 1
        else:
            self._misses += 1
        self._lent[id(client)] = client
        return client

    def _release(self, client: ChatCompletionClient | None) -> ChatCompletionClient | None:
        """Hand a client (or a freed slot, ``None``) to the next waiter, else keep or drop it.

        Returns the client when the caller must close it as surplus.
        """
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(client)
                return None
        if client is None:
            self._total -= 1
            return None
        self._lent.pop(id(client), None)
        if self._closed or len(self._idle) >= self.max_idle:
            self._total -= 1
            return client
        self._idle.append(client)
        return None

    async def return_client(self, client: ChatCompletionClient) -> None:
        """Give a borrowed client back; it goes to a waiter, the idle set, or is closed.

        Raises:
            ForeignClientError: the client is not on loan from this pool.
        """
        if self._lent.get(id(client)) is not client:
            raise ForeignClientError(type(client).__name__)
        if not self._closed:
            # It stays "lent" while handed straight to a waiter, so leave _lent alone then.
            surplus = self._release(client)
        else:
            del self._lent[id(client)]
            self._total -= 1
            surplus = client
        if surplus is not None:
            await self._close_client(surplus)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[ChatCompletionClient]:
        """Borrow a client for the ``async with`` block and always give it back."""
        borrowed = await self.get_client()
        try:
            yield borrowed
        finally:
            await self.return_client(borrowed)

    async def _close_client(self, client: ChatCompletionClient) -> None:
        try:
            await client.close()
        except Exception:
            logger.warning("closing a pooled %s failed", type(client).__name__, exc_info=True)

    async def close(self) -> None:
        """Close idle clients now and lent ones as they come back; wake waiters with an error."""
        if self._closed:
            return
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosedError())
        idle = list(self._idle)
        self._idle.clear()
        self._total -= len(idle)
        for client in idle:
            await self._close_client(client)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def get_stats(self) -> dict[str, Any]:
        """Counters and gauges: requests, cache_hits, cache_misses, total/available/in-use clients, hit_rate."""
        return {
            "requests": self._requests,
            "cache_hits": self._hits,
            "cache_misses": self._misses,
            "total_clients": self._total,
            "available_clients": len(self._idle),
            "in_use_clients": len(self._lent),
            "waiting": sum(1 for w in self._waiters if not w.done()),
            "hit_rate": self._hits / max(1, self._requests),
        }
