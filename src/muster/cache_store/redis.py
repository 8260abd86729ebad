"""A cache store on a Redis server (extra ``muster[redis]``), with optional expiry.

Redis is the store to share one cache between processes and machines. Values are
written as JSON text and read back as plain JSON values; nothing read from the server is
ever unpickled, since anyone who can write to it would otherwise run code here.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from muster.core import CacheStore, Component

from ._codec import CorruptValueError, decode_value, encode_value

if TYPE_CHECKING:
    import redis
    import redis.asyncio

__all__ = ["RedisStore", "RedisStoreConfig"]

T = TypeVar("T")

logger = logging.getLogger(__name__)


class RedisStoreConfig(BaseModel):
    """Spec of a :class:`RedisStore`: how to connect, and how entries are kept."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    host: str = "localhost"
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: bool = False
    socket_timeout: float | None = None
    ttl: float | None = Field(default=None, gt=0)
    """Seconds an entry lives; ``None`` keeps entries until Redis evicts them."""
    key_prefix: str = ""
    """Prepended to every key, so several caches can share one database."""


class RedisStore(CacheStore[T], Component[RedisStoreConfig]):
    """A :class:`~muster.core.CacheStore` backed by ``redis.Redis``.

    A read that fails (server down, timeout) or finds something that is not JSON is
    logged and reported as a miss; a failed write is logged and dropped. Both are
    deliberate: the cache must never turn a successful model call into an error.

    :meth:`get`/:meth:`set` use the synchronous client. :meth:`aget`/:meth:`aset` (what
    ``ChatCompletionCache`` calls) use ``async_redis_instance`` when one is given, and
    otherwise run the synchronous client in a worker thread; either way the event loop
    never waits on the network. The store does not create an async client itself: a
    ``redis.asyncio`` connection belongs to the event loop it was opened on and must be
    closed there, and only the application knows which loop that is and when it ends.
    A store loaded from a spec therefore uses the thread.

    Args:
        redis_instance: A connected ``redis.Redis``; the caller owns its lifetime.
        ttl: Seconds (or a ``timedelta``) each entry lives; ``None`` for no expiry.
        key_prefix: Prepended to every key (for example ``"myapp:llm:"``).
        async_redis_instance: A ``redis.asyncio.Redis`` on the same server and
            database, used by the async methods (muster addition). The caller owns its
            lifetime, and must use the store's async methods only on its event loop.
    """

    component_provider_override = "muster.cache_store.redis.RedisStore"
    component_config_schema = RedisStoreConfig

    def __init__(
        self,
        redis_instance: redis.Redis,
        ttl: float | timedelta | None = None,
        *,
        key_prefix: str = "",
        async_redis_instance: redis.asyncio.Redis | None = None,
    ) -> None:
        if isinstance(ttl, timedelta):
            ttl = ttl.total_seconds()
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be positive, got {ttl}")
        self.cache = redis_instance
        self.async_cache = async_redis_instance
        self.ttl: float | None = ttl
        self.key_prefix = key_prefix

    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the decoded JSON value under ``key``, or ``default`` (also on any failure)."""
        try:
            raw = self.cache.get(self.key_prefix + key)
        except Exception as exc:
            logger.warning("RedisStore: read of %r failed, treating as a miss: %s", key, exc)
            return default
        return self._decode(key, raw, default)

    async def aget(self, key: str, default: T | None = None) -> T | None:
        """:meth:`get` without blocking the loop: on ``async_redis_instance``, else in a thread."""
        client = self.async_cache
        if client is None:
            return await super().aget(key, default)
        try:
            raw = await client.get(self.key_prefix + key)
        except Exception as exc:
            logger.warning("RedisStore: read of %r failed, treating as a miss: %s", key, exc)
            return default
        return self._decode(key, raw, default)

    def _decode(self, key: str, raw: Any, default: T | None) -> T | None:
        if raw is None:
            return default
        if not isinstance(raw, str | bytes):
            logger.warning("RedisStore: entry %r is a %s, not JSON; ignored", key, type(raw).__name__)
            return default
        try:
            return cast(T, decode_value(raw))
        except CorruptValueError as exc:
            logger.warning("RedisStore: corrupt entry %r ignored: %s", key, exc)
            return default

    def set(self, key: str, value: T) -> None:
        """Store ``value`` as JSON under ``key``, expiring after ``ttl`` if one is set.

        Raises:
            CacheValueError: ``value`` has no JSON form.
        """
        data = encode_value(type(self).__name__, value).encode("utf-8")
        try:
            self.cache.set(self.key_prefix + key, data, px=self._px())
        except Exception as exc:
            logger.warning("RedisStore: write of %r failed, value not cached: %s", key, exc)

    async def aset(self, key: str, value: T) -> None:
        """:meth:`set` without blocking the loop: on ``async_redis_instance``, else in a thread.

        Raises:
            CacheValueError: ``value`` has no JSON form.
        """
        client = self.async_cache
        if client is None:
            await super().aset(key, value)
            return
        data = encode_value(type(self).__name__, value).encode("utf-8")
        try:
            await client.set(self.key_prefix + key, data, px=self._px())
        except Exception as exc:
            logger.warning("RedisStore: write of %r failed, value not cached: %s", key, exc)

    def _px(self) -> int | None:
        # Milliseconds, so a fractional ttl is honoured rather than truncated to seconds.
        return None if self.ttl is None else max(1, round(self.ttl * 1000))

    def _to_config(self) -> RedisStoreConfig:
        kwargs: dict[str, Any] = self.cache.connection_pool.connection_kwargs
        username = kwargs.get("username")
        password = kwargs.get("password")
        socket_timeout = kwargs.get("socket_timeout")
        return RedisStoreConfig(
            host=str(kwargs.get("host", "localhost")),
            port=int(kwargs.get("port", 6379)),
            db=int(kwargs.get("db", 0)),
            username=None if username is None else str(username),
            password=None if password is None else str(password),
            # redis-py marks TLS by the connection class rather than a kwarg.
            ssl=self.cache.connection_pool.connection_class.__name__ == "SSLConnection",
            socket_timeout=None if socket_timeout is None else float(socket_timeout),
            ttl=self.ttl,
            key_prefix=self.key_prefix,
        )

    @classmethod
    def _from_config(cls, config: RedisStoreConfig) -> Self:
        import redis

        instance = redis.Redis(
            host=config.host,
            port=config.port,
            db=config.db,
            username=config.username,
            password=config.password,
            ssl=config.ssl,
            socket_timeout=config.socket_timeout,
        )
        return cls(instance, ttl=config.ttl, key_prefix=config.key_prefix)
