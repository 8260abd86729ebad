"""An in-process cache store bounded by entry count, evicting the least recently used.

``muster.core.InMemoryStore`` grows without limit, which is fine for a test but not for a
long-running service that caches every model reply. :class:`LRUStore` keeps at most
``max_size`` entries; a read counts as a use, so hot prompts stay cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from muster.core import CacheStore, Component, InMemoryStore

__all__ = ["InMemoryStore", "LRUStore", "LRUStoreConfig"]

T = TypeVar("T")


class LRUStoreConfig(BaseModel):
    """Spec of an :class:`LRUStore`; the entries themselves are not part of it."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    max_size: int = Field(default=1000, ge=1)
    """Most entries kept; the least recently used one is evicted beyond it."""


class LRUStore(CacheStore[T], Component[LRUStoreConfig]):
    """A bounded, thread-safe, least-recently-used in-memory store.

    Values are kept as the objects given (no serialisation), like ``InMemoryStore``:
    callers that mutate what they read back must copy it first.

    Args:
        max_size: Most entries kept (at least 1).
    """

    component_provider_override = "muster.cache_store.memory.LRUStore"
    component_config_schema = LRUStoreConfig

    def __init__(self, max_size: int = 1000) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self.max_size = max_size
        self._entries: OrderedDict[str, T] = OrderedDict()
        # Stores are synchronous and may be shared with worker threads (a sync tool, a
        # thread-pool executor), so every reordering of the dict is guarded.
        self._lock = threading.Lock()

    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the value under ``key`` and mark it most recently used, or ``default``."""
        with self._lock:
            try:
                self._entries.move_to_end(key)
            except KeyError:
                return default
            return self._entries[key]

    def set(self, key: str, value: T) -> None:
        """Store ``value`` under ``key``, evicting the least recently used entry if full."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    async def aget(self, key: str, default: T | None = None) -> T | None:
        """:meth:`get`, called directly: it never blocks for long, a thread hop would only cost."""
        return self.get(key, default)

    async def aset(self, key: str, value: T) -> None:
        """:meth:`set`, called directly (see :meth:`aget`)."""
        self.set(key, value)

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Remove every entry (for example when a memory monitor asks to shed load)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def _to_config(self) -> LRUStoreConfig:
        return LRUStoreConfig(max_size=self.max_size)

    @classmethod
    def _from_config(cls, config: LRUStoreConfig) -> Self:
        return cls(max_size=config.max_size)
