"""Errors raised by the cache stores.

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── CacheStoreError                  root of the cache-store errors
        └── CacheValueError              (TypeError) a value cannot be stored as JSON

Backend failures (Redis unreachable, a corrupt row) are deliberately *not* raised: a
cache that cannot answer is a miss, so stores log them and carry on. Only misuse that
would silently lose data on every call, storing a value JSON cannot represent, is an
error for the caller.
"""

from __future__ import annotations

from muster.core.exceptions import MusterError

__all__ = ["CacheStoreError", "CacheValueError"]


class CacheStoreError(MusterError):
    """An error from a cache store."""


class CacheValueError(CacheStoreError, TypeError):
    """A value cannot be serialised to JSON, so a persistent store cannot hold it."""

    def __init__(self, store: str, value_type: str, reason: str) -> None:
        self.store = store
        """Class name of the store that refused the value."""
        self.value_type = value_type
        """Type name of the refused value."""
        self.reason = reason
        """Why serialisation failed."""
        super().__init__(f"{store} cannot store a {value_type} as JSON: {reason}")
