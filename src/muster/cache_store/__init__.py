"""Cache stores for :class:`muster.models.cache.ChatCompletionCache` (AutoGen: ``autogen_ext.cache_store``).

Each backend is its own module so that importing one never imports another's SDK:

- ``muster.cache_store.memory``: :class:`LRUStore` (bounded, in-process) and core's ``InMemoryStore``;
- ``muster.cache_store.sqlite``: :class:`SQLiteStore` (one file, standard library only);
- ``muster.cache_store.diskcache``: :class:`DiskCacheStore` (extra ``muster[diskcache]``);
- ``muster.cache_store.redis``: :class:`RedisStore` (extra ``muster[redis]``), with TTL.

The persistent stores write JSON, never pickle, and report corrupt entries as misses.
Names are importable from this package too; the SDK-backed ones load on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from muster.core import CacheStore, InMemoryStore

from .exceptions import CacheStoreError, CacheValueError
from .memory import LRUStore
from .sqlite import SQLiteStore

if TYPE_CHECKING:
    from .diskcache import DiskCacheStore
    from .redis import RedisStore

__all__ = [
    "CacheStore",
    "CacheStoreError",
    "CacheValueError",
    "DiskCacheStore",
    "InMemoryStore",
    "LRUStore",
    "RedisStore",
    "SQLiteStore",
]

_LAZY = {"DiskCacheStore": ".diskcache", "RedisStore": ".redis"}


def __getattr__(name: str) -> Any:
    # The diskcache and redis modules only touch their SDK when used, but loading them
    # lazily keeps ``import muster.cache_store`` as cheap as possible.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
