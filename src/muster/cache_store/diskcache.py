"""A persistent cache store on top of the ``diskcache`` library (extra ``muster[diskcache]``).

``diskcache`` pickles any value that is not a string, bytes or number, and unpickles
whatever it finds on read. This store hands it JSON text only, so it never writes a
pickle; a store built from a spec (``load_component``) also opens the cache with a disk
that refuses to *read* one, so a file planted in a shared cache directory cannot run
code. An instance you pass in keeps its own disk: open it with
``disk=DiskCacheStore.json_only_disk()`` for the same guarantee.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from muster.core import CacheStore, Component

from ._codec import CorruptValueError, decode_value, encode_value

if TYPE_CHECKING:
    import diskcache

__all__ = ["DiskCacheStore", "DiskCacheStoreConfig"]

T = TypeVar("T")

logger = logging.getLogger(__name__)


class DiskCacheStoreConfig(BaseModel):
    """Spec of a :class:`DiskCacheStore`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    directory: str
    """Directory holding the cache (created if missing)."""


@functools.cache
def _json_only_disk() -> type[Any]:
    # Built on first use so that importing this module never imports diskcache.
    import diskcache
    from diskcache.core import MODE_PICKLE

    class JsonOnlyDisk(diskcache.Disk):  # type: ignore[misc]
        """A diskcache ``Disk`` that refuses to unpickle what it reads."""

        def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
            if mode == MODE_PICKLE:
                raise CorruptValueError("entry is a pickle; DiskCacheStore never unpickles")
            return super().fetch(mode, filename, value, read)

    return JsonOnlyDisk


class DiskCacheStore(CacheStore[T], Component[DiskCacheStoreConfig]):
    """A :class:`~muster.core.CacheStore` backed by a ``diskcache.Cache``.

    Values are stored as JSON text and read back as plain JSON values (a pydantic model
    comes back as its dict, for the reader to validate). A corrupt entry or a disk error
    is logged and reported as a miss. The async methods (``aget``/``aset``) run
    ``get``/``set`` in a worker thread (``diskcache`` is thread-safe), so disk I/O never
    stalls the event loop.

    Args:
        cache_instance: An open ``diskcache.Cache``; the caller owns its lifetime.
    """

    component_provider_override = "muster.cache_store.diskcache.DiskCacheStore"
    component_config_schema = DiskCacheStoreConfig

    def __init__(self, cache_instance: diskcache.Cache) -> None:
        self.cache = cache_instance

    @staticmethod
    def json_only_disk() -> type[Any]:
        """The ``diskcache.Disk`` subclass that refuses to unpickle; pass it as ``disk=``."""
        return _json_only_disk()

    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the decoded JSON value under ``key``, or ``default`` (also on any failure)."""
        try:
            raw = self.cache.get(key, default=None)
        except CorruptValueError as exc:
            logger.warning("DiskCacheStore: corrupt entry %r ignored: %s", key, exc)
            return default
        except Exception as exc:
            # Timeouts, I/O and SQLite errors alike: a cache that cannot answer is a miss.
            logger.warning("DiskCacheStore: read of %r failed, treating as a miss: %s", key, exc)
            return default
        if raw is None:
            return default
        if not isinstance(raw, str | bytes):
            logger.warning("DiskCacheStore: entry %r is a %s, not JSON; ignored", key, type(raw).__name__)
            return default
        try:
            return cast(T, decode_value(raw))
        except CorruptValueError as exc:
            logger.warning("DiskCacheStore: corrupt entry %r ignored: %s", key, exc)
            return default

    def set(self, key: str, value: T) -> None:
        """Store ``value`` as JSON under ``key``.

        Raises:
            CacheValueError: ``value`` has no JSON form.
        """
        text = encode_value(type(self).__name__, value)
        try:
            self.cache.set(key, text)
        except Exception as exc:
            logger.warning("DiskCacheStore: write of %r failed, value not cached: %s", key, exc)

    def _to_config(self) -> DiskCacheStoreConfig:
        return DiskCacheStoreConfig(directory=str(self.cache.directory))

    @classmethod
    def _from_config(cls, config: DiskCacheStoreConfig) -> Self:
        import diskcache

        return cls(diskcache.Cache(config.directory, disk=_json_only_disk()))
