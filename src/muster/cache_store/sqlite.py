"""A persistent cache store in one SQLite file, using only the standard library.

Useful when a cache must survive restarts on one machine and neither Redis nor the
``diskcache`` extra is available. Values are stored as JSON text (never pickled), one row
per key, so the file can be inspected with the ``sqlite3`` shell.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from muster.core import CacheStore, Component

from ._codec import CorruptValueError, decode_value, encode_value

__all__ = ["SQLiteStore", "SQLiteStoreConfig"]

T = TypeVar("T")

logger = logging.getLogger(__name__)

_TABLE = "muster_cache"


class SQLiteStoreConfig(BaseModel):
    """Spec of a :class:`SQLiteStore`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    path: str
    """Database file (created if missing), or ``":memory:"``."""


class SQLiteStore(CacheStore[T], Component[SQLiteStoreConfig]):
    """A :class:`~muster.core.CacheStore` backed by a SQLite file.

    Reads return plain JSON values (dicts, lists, strings, numbers): a pydantic model
    stored here comes back as its dict, and the reader validates it (as
    ``ChatCompletionCache`` does). A row that is not valid JSON, or a database error, is
    logged and reported as a miss, because a cache failure must never fail the model call
    it was meant to speed up.

    The connection is shared by threads behind a lock; several processes may share the
    file (WAL journal). The async methods (``aget``/``aset``, what ``ChatCompletionCache``
    calls) run ``get``/``set`` in a worker thread, so disk I/O never stalls the event loop.

    Args:
        path: Database file, or ``":memory:"`` for a private in-memory database.
    """

    component_provider_override = "muster.cache_store.sqlite.SQLiteStore"
    component_config_schema = SQLiteStoreConfig

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            # WAL lets readers in other processes proceed while one writes.
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the decoded JSON value under ``key``, or ``default`` (also on any failure)."""
        try:
            with self._lock:
                row = self._conn.execute(f"SELECT value FROM {_TABLE} WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            logger.warning("SQLiteStore(%s): read of %r failed, treating as a miss: %s", self.path, key, exc)
            return default
        if row is None:
            return default
        try:
            return cast(T, decode_value(row[0]))
        except CorruptValueError as exc:
            logger.warning("SQLiteStore(%s): corrupt entry %r ignored: %s", self.path, key, exc)
            return default

    def set(self, key: str, value: T) -> None:
        """Store ``value`` as JSON under ``key``.

        Raises:
            CacheValueError: ``value`` has no JSON form.
        """
        text = encode_value(type(self).__name__, value)
        try:
            with self._lock:
                self._conn.execute(
                    f"INSERT INTO {_TABLE} (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, text),
                )
        except sqlite3.Error as exc:
            logger.warning("SQLiteStore(%s): write of %r failed, value not cached: %s", self.path, key, exc)

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        with self._lock:
            self._conn.execute(f"DELETE FROM {_TABLE} WHERE key = ?", (key,))

    def clear(self) -> None:
        """Remove every entry."""
        with self._lock:
            self._conn.execute(f"DELETE FROM {_TABLE}")

    def close(self) -> None:
        """Close the database connection; the store is unusable afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _to_config(self) -> SQLiteStoreConfig:
        return SQLiteStoreConfig(path=self.path)

    @classmethod
    def _from_config(cls, config: SQLiteStoreConfig) -> Self:
        return cls(config.path)
