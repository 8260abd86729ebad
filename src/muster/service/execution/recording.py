"""Model responses recorded per run, and replayed when a crashed run redoes a turn.

The runner wraps every model client of a run's spec in a ``ChatCompletionCache`` whose
store is a :class:`RecordedResponses`: a ``CacheStore`` backed by the service store's
``get_model_response``/``put_model_response`` for that run. The first time the run makes
a request, the response is written to the database: at once when it calls tools (before
they run); otherwise with the run's next write, before its next model call, or within
``HOLD_SECONDS``, whichever comes first (``_held.py``); a run resumed after a crash that makes the same request again (it redoes
the turn that was in progress) gets the recorded answer. A crash therefore costs no
second model bill and yields no second, different answer.

Keys are ``<client path>:<request hash>``: the request hash is the cache's own (messages,
tools, tool choice, output format, extra arguments), and the client's path in the spec
(``config.participants.0.config.model_client``) keeps two clients of one run apart,
because the cache key does not name the model. Within one run, a request repeated
word for word is answered from the recording too, as any cache would.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Self

from pydantic import BaseModel, TypeAdapter

from muster.core import CacheStore, Component
from muster.models.cache import CHAT_CACHE_VALUE_TYPE, ChatCompletionCache, ChatCompletionCacheConfig

from ..exceptions import InvalidRequestError
from ..settings import ServiceSettings
from ._context import current_build

__all__ = [
    "RecordedResponses",
    "RecordedResponsesConfig",
    "RecordingClient",
    "SharedResponses",
    "close_response_cache",
    "make_response_cache",
    "wrap_client",
]

_VALUE: TypeAdapter[Any] = TypeAdapter(CHAT_CACHE_VALUE_TYPE)


class RecordedResponsesConfig(BaseModel):
    """Spec of a :class:`RecordedResponses`: which client of the run it records."""

    scope: str
    """The model client's path in the run's spec."""


class RecordedResponses(CacheStore[Any], Component[RecordedResponsesConfig]):
    """A ``CacheStore`` over one run's recorded model responses (see the module docstring).

    Only the async methods work: the service store is async, and ``ChatCompletionCache``
    calls nothing else. ``hits`` and ``misses`` count replayed and recorded calls, for the
    run's log line and metrics.
    """

    component_type = "cache_store"
    component_provider_override = "muster.service.execution.recording.RecordedResponses"
    component_config_schema = RecordedResponsesConfig

    def __init__(self, scope: str) -> None:
        context = current_build("RecordedResponses")
        self._store = context.store
        self._run_id = context.run_id
        self._metrics = context.metrics
        self._fresh = context.fresh
        self._held = context.held
        self._made: dict[str, Any] = {}
        self.scope = scope
        self.hits = 0
        self.misses = 0

    def get(self, key: str, default: Any = None) -> Any:
        """Not available: the recording lives in an async store (use :meth:`aget`)."""
        raise TypeError("RecordedResponses is async only: call aget")

    def set(self, key: str, value: Any) -> None:
        """Not available: the recording lives in an async store (use :meth:`aset`)."""
        raise TypeError("RecordedResponses is async only: call aset")

    async def aget(self, key: str, default: Any = None) -> Any:
        """The recorded response for this request, as JSON, or ``default``."""
        if self._store is None:
            return default
        # What this execution recorded is answered here (held answers are not stored yet);
        # a first execution has recorded nothing else, so it needs no lookup.
        record = self._made.get(key)
        if record is None and not self._fresh:
            record = await self._store.get_model_response(self._run_id, f"{self.scope}:{key}")
        if record is None:
            self.misses += 1
            if self._held is not None and self._held.answers_held:
                # The model is asked again: what it answered before is written first, so a
                # crash during this call does not ask for that answer a second time.
                await self._held.flush()
            return default
        self.hits += 1
        if self._metrics is not None:
            self._metrics.cache_hit()
        return record["value"]

    async def aset(self, key: str, value: Any) -> None:
        """Record a response (a ``CreateResult`` or a stream's chunks and result)."""
        if self._store is None:
            return
        dumped = _VALUE.dump_python(value, mode="json")
        record = {"value": dumped}
        if self._held is None:
            await self._store.put_model_response(self._run_id, f"{self.scope}:{key}", record)
        elif _calls_tools(value):
            await self._held.write_response(f"{self.scope}:{key}", record)  # before the tools run
        else:
            self._held.hold_response(f"{self.scope}:{key}", record)
        self._made.setdefault(key, record)  # the first one recorded wins, as in the store

    def _to_config(self) -> RecordedResponsesConfig:
        return RecordedResponsesConfig(scope=self.scope)

    @classmethod
    def _from_config(cls, config: RecordedResponsesConfig) -> Self:
        return cls(config.scope)


class RecordingClient(ChatCompletionCache):
    """The ``ChatCompletionCache`` the runner wraps each model client of a run's spec in.

    It is the framework's cache, unchanged; the subclass only registers each instance
    with the run being built, so the runner can close the clients and read the
    recorders' counters when the run ends.
    """

    component_provider_override = "muster.service.execution.recording.RecordingClient"

    @classmethod
    def _from_config(cls, config: ChatCompletionCacheConfig) -> Self:
        client = super()._from_config(config)
        current_build("RecordingClient").clients.append(client)
        return client

    @property
    def replayed(self) -> int:
        """Calls answered from the recording."""
        return self.store.hits if isinstance(self.store, RecordedResponses) else 0

    @property
    def recorded(self) -> int:
        """Calls that went to the model (and were recorded)."""
        return self.store.misses if isinstance(self.store, RecordedResponses) else 0


class SharedResponses(CacheStore[Any], Component[RecordedResponsesConfig]):
    """The service's response cache (``cache.type``), shared by every run of the process.

    The runner's recorder sits outside it: a run records what it got, cached or not, so a
    resumed run replays its own answers even after the shared entry expired. ``scope`` is
    a hash of the model client's spec: the cache key does not name the model, and two
    specs (or two versions of one) must never answer for each other. With ``cache.type:
    none`` every lookup misses and nothing is kept.
    """

    component_type = "cache_store"
    component_provider_override = "muster.service.execution.recording.SharedResponses"
    component_config_schema = RecordedResponsesConfig

    def __init__(self, scope: str) -> None:
        context = current_build("SharedResponses")
        self._cache: CacheStore[Any] | None = context.response_cache
        self._metrics = context.metrics
        self.scope = scope

    def get(self, key: str, default: Any = None) -> Any:
        """Not available: use :meth:`aget`."""
        raise TypeError("SharedResponses is async only: call aget")

    def set(self, key: str, value: Any) -> None:
        """Not available: use :meth:`aset`."""
        raise TypeError("SharedResponses is async only: call aset")

    async def aget(self, key: str, default: Any = None) -> Any:
        """The shared answer to this request, or ``default``."""
        if self._cache is None:
            return default
        found = await self._cache.aget(f"{self.scope}:{key}")
        if found is None:
            return default
        if self._metrics is not None:
            self._metrics.cache_hit()
        return found

    async def aset(self, key: str, value: Any) -> None:
        """Share an answer (as JSON, so any store can hold it)."""
        if self._cache is not None:
            await self._cache.aset(f"{self.scope}:{key}", _VALUE.dump_python(value, mode="json"))

    def _to_config(self) -> RecordedResponsesConfig:
        return RecordedResponsesConfig(scope=self.scope)

    @classmethod
    def _from_config(cls, config: RecordedResponsesConfig) -> Self:
        return cls(config.scope)


def _calls_tools(value: Any) -> bool:
    """Whether a cached value (a ``CreateResult``, or a stream's chunks ending in one) asks for
    anything but text: tool calls are side effects to come, so their answer is written at once."""
    result = value[-1] if isinstance(value, list) and value else value
    return not isinstance(getattr(result, "content", None), str)


def make_response_cache(settings: ServiceSettings) -> CacheStore[Any] | None:
    """The process's shared response cache for ``cache.type`` (``None`` for ``none``).

    ``memory``: a least-recently-used store of 10,000 answers in this process (``cache.ttl``
    does not apply: entries leave by recency). ``redis``: entries in ``redis.url`` under
    ``muster:<schema>:responses:``, living ``cache.ttl`` seconds (0: until Redis evicts them).

    Raises:
        InvalidRequestError: ``cache.type`` is ``redis`` and ``redis.url`` is not set.
    """
    kind = settings.cache.type
    if kind == "none":
        return None
    if kind == "memory":
        from muster.cache_store.memory import LRUStore

        return LRUStore(max_size=10_000)
    if settings.redis.url is None:
        raise InvalidRequestError("cache.type redis needs redis.url", field="cache.type")
    import redis
    import redis.asyncio

    from muster.cache_store.redis import RedisStore

    url = settings.redis.url.get_secret_value()
    return RedisStore(
        redis.Redis.from_url(url),
        ttl=settings.cache.ttl or None,
        key_prefix=f"muster:{settings.database.schema_name or 'public'}:responses:",
        async_redis_instance=redis.asyncio.Redis.from_url(url),
    )


async def close_response_cache(cache: CacheStore[Any] | None) -> None:
    """Release the connections of a cache :func:`make_response_cache` built (Redis's clients)."""
    async_client = getattr(cache, "async_cache", None)
    if async_client is not None:
        await async_client.aclose()
    sync_client = getattr(cache, "cache", None)
    close = getattr(sync_client, "close", None)
    if close is not None:
        close()


def wrap_client(client_spec: Any, scope: str, *, shared: bool = False) -> dict[str, Any]:
    """The spec of ``client_spec`` wrapped in a :class:`RecordingClient` recording under ``scope``.

    With ``shared``, the client first goes through the process's response cache
    (:class:`SharedResponses`, scoped by a hash of ``client_spec``).
    """
    if shared:
        digest = hashlib.sha256(json.dumps(client_spec, sort_keys=True, default=str).encode()).hexdigest()
        client_spec = {
            "provider": "muster.models.cache.ChatCompletionCache",
            "component_type": "model",
            "config": {
                "client": client_spec,
                "store": {
                    "provider": SharedResponses.component_provider_override,
                    "component_type": "cache_store",
                    "config": {"scope": digest[:32]},
                },
            },
        }
    return {
        "provider": RecordingClient.component_provider_override,
        "component_type": "model",
        "config": {
            "client": client_spec,
            "store": {
                "provider": RecordedResponses.component_provider_override,
                "component_type": "cache_store",
                "config": {"scope": scope},
            },
        },
    }
