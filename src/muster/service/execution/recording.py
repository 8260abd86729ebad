"""Model responses recorded per run, and replayed when a crashed run redoes a turn.

The runner wraps every model client of a run's spec in a ``ChatCompletionCache`` whose
store is a :class:`RecordedResponses`: a ``CacheStore`` backed by the service store's
``get_model_response``/``put_model_response`` for that run. The first time the run makes
a request, the response is written to the database (its own transaction, as soon as the
model answers); a run resumed after a crash that makes the same request again (it redoes
the turn that was in progress) gets the recorded answer. A crash therefore costs no
second model bill and yields no second, different answer.

Keys are ``<client path>:<request hash>``: the request hash is the cache's own (messages,
tools, tool choice, output format, extra arguments), and the client's path in the spec
(``config.participants.0.config.model_client``) keeps two clients of one run apart,
because the cache key does not name the model. Within one run, a request repeated
word for word is answered from the recording too, as any cache would.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, TypeAdapter

from muster.core import CacheStore, Component
from muster.models.cache import CHAT_CACHE_VALUE_TYPE, ChatCompletionCache, ChatCompletionCacheConfig

from ._context import current_build

__all__ = ["RecordedResponses", "RecordedResponsesConfig", "RecordingClient", "wrap_client"]

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
        record = await self._store.get_model_response(self._run_id, f"{self.scope}:{key}")
        if record is None:
            self.misses += 1
            return default
        self.hits += 1
        return record["value"]

    async def aset(self, key: str, value: Any) -> None:
        """Record a response (a ``CreateResult`` or a stream's chunks and result)."""
        if self._store is None:
            return
        dumped = _VALUE.dump_python(value, mode="json")
        await self._store.put_model_response(self._run_id, f"{self.scope}:{key}", {"value": dumped})

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


def wrap_client(client_spec: Any, scope: str) -> dict[str, Any]:
    """The spec of ``client_spec`` wrapped in a :class:`RecordingClient` recording under ``scope``."""
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
