"""Key-value stores used for caching (model responses, tool results...).

:class:`CacheStore` is the contract the model cache and the ``muster.cache_store``
backends (Redis, diskcache) implement; :class:`InMemoryStore` is the dependency-free
default, good for tests and single-process runs.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict

from ._component_config import Component, ComponentBase

__all__ = ["CacheStore", "InMemoryStore", "InMemoryStoreConfig"]

T = TypeVar("T")


class CacheStore(ABC, Generic[T], ComponentBase[BaseModel]):
    """A key-value store holding values of type ``T``.

    It is an ABC rather than a Protocol because stores are declarative components:
    they need ``dump_component``/``load_component`` from :class:`ComponentBase`, and a
    subclass owns the lifecycle of whatever storage it wraps.

    :meth:`get` and :meth:`set` are synchronous, as in AutoGen, and a subclass need only
    implement those. Async code (``ChatCompletionCache``) calls :meth:`aget` and
    :meth:`aset` instead: by default they run ``get``/``set`` in a worker thread, because
    a store may do network or disk I/O that would otherwise stall every agent on the
    event loop. Override them with a native async client (``RedisStore``), or to call
    ``get``/``set`` directly when they never block (the in-memory stores) or when the
    store must not be used from another thread.
    """

    component_type = "cache_store"

    @abstractmethod
    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the value stored under ``key``, or ``default`` when there is none."""

    @abstractmethod
    def set(self, key: str, value: T) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""

    async def aget(self, key: str, default: T | None = None) -> T | None:
        """:meth:`get` for async callers; runs it in a worker thread unless overridden."""
        return await asyncio.to_thread(self.get, key, default)

    async def aset(self, key: str, value: T) -> None:
        """:meth:`set` for async callers; runs it in a worker thread unless overridden."""
        await asyncio.to_thread(self.set, key, value)


class InMemoryStoreConfig(BaseModel):
    """An in-memory store has nothing to configure: its content is not part of its spec."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)


class InMemoryStore(CacheStore[T], Component[InMemoryStoreConfig]):
    """A dict-backed :class:`CacheStore`; its content lives and dies with the process."""

    component_provider_override = "muster.core.InMemoryStore"
    component_config_schema = InMemoryStoreConfig

    def __init__(self) -> None:
        self.store: dict[str, T] = {}

    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the value stored under ``key``, or ``default``."""
        return self.store.get(key, default)

    def set(self, key: str, value: T) -> None:
        """Store ``value`` under ``key``."""
        self.store[key] = value

    async def aget(self, key: str, default: T | None = None) -> T | None:
        """:meth:`get`, called directly: a dict lookup cannot block, a thread hop would only cost.

        It goes through ``self.get`` so a subclass that overrides only ``get`` is honoured.
        """
        return self.get(key, default)

    async def aset(self, key: str, value: T) -> None:
        """:meth:`set`, called directly (see :meth:`aget`)."""
        self.set(key, value)

    def _to_config(self) -> InMemoryStoreConfig:
        return InMemoryStoreConfig()

    @classmethod
    def _from_config(cls, config: InMemoryStoreConfig) -> Self:
        return cls()
