"""A model client wrapper that answers repeated requests from a cache store."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from muster.core import CacheStore, CancellationToken, Component, ComponentModel, InMemoryStore
from muster.core.instrumentation import open_span
from muster.core.internal import Tool, ToolSchema
from muster.models._llm_message import LLMMessage
from muster.models._model_client import ChatCompletionClient
from muster.models._types import CreateResult, ModelInfo, RequestUsage

from ._key import cache_key

if TYPE_CHECKING:
    from muster.core.instrumentation import Span

__all__ = ["CHAT_CACHE_VALUE_TYPE", "ChatCompletionCache", "ChatCompletionCacheConfig"]

logger = logging.getLogger(__name__)


class ChatCompletionCacheConfig(BaseModel):
    """Spec of a :class:`ChatCompletionCache`: the wrapped client and the store, as specs."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    client: ComponentModel
    store: ComponentModel | None = None


CHAT_CACHE_VALUE_TYPE = CreateResult | list[str | CreateResult]
"""What the cache stores per key: a ``create`` result, or a stream's chunks ending in its result."""

_VALUE_ADAPTER: TypeAdapter[CreateResult | list[str | CreateResult]] = TypeAdapter(CHAT_CACHE_VALUE_TYPE)


def _final_result(value: CreateResult | list[str | CreateResult]) -> CreateResult | None:
    if isinstance(value, CreateResult):
        return value
    for item in reversed(value):
        if isinstance(item, CreateResult):
            return item
    return None


def _as_cached(result: CreateResult) -> CreateResult:
    """A copy of a stored result, marked cached, that callers may mutate freely.

    An in-memory store must keep serving the original, so every mutable part is fresh:
    ``usage`` (a dataclass), the list of tool calls and the calls themselves, and the
    logprobs. Strings are immutable and shared. This is a fraction of the cost of a
    generic deep copy, which was half of a hit.
    """
    if type(result) is not CreateResult:
        # A subclass may carry more mutable fields than we know of.
        return result.model_copy(update={"cached": True}, deep=True)
    content = result.content
    update: dict[str, Any] = {
        "cached": True,
        "usage": RequestUsage(result.usage.prompt_tokens, result.usage.completion_tokens),
        "content": content if isinstance(content, str) else [copy.copy(call) for call in content],
    }
    if result.logprobs is not None:
        # Only when present: an update marks the field as set (visible to exclude_unset dumps).
        update["logprobs"] = copy.deepcopy(result.logprobs)
    return result.model_copy(update=update)


def _replayed(hit: CreateResult | list[str | CreateResult]) -> list[str | CreateResult]:
    """What a stream served from the cache yields: the stored chunks, then the result, marked cached."""
    if isinstance(hit, CreateResult):
        text = [hit.content] if isinstance(hit.content, str) and hit.content else []
        return [*text, _as_cached(hit)]
    items: list[str | CreateResult] = []
    for item in hit:
        if isinstance(item, str):
            items.append(item)
        else:
            items.append(_as_cached(item))
            break
    return items


def _describe_hit(span: Span, result: CreateResult) -> None:
    """A hit never reaches a model: the span gets the stored call's usage and answer."""
    content = result.content
    span.set(
        cached=True,
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        finish_reason=result.finish_reason,
        response=content if isinstance(content, str) else ", ".join(call.name for call in content),
    )


async def _store_get(store: CacheStore[Any], key: str) -> Any:
    # Duck-typed stores without the async methods (not CacheStore subclasses) still work.
    aget = getattr(store, "aget", None)
    if aget is not None:
        return await aget(key)
    return await asyncio.to_thread(store.get, key)


async def _store_set(store: CacheStore[Any], key: str, value: Any) -> None:
    aset = getattr(store, "aset", None)
    if aset is not None:
        await aset(key, value)
    else:
        await asyncio.to_thread(store.set, key, value)


class ChatCompletionCache(ChatCompletionClient, Component[ChatCompletionCacheConfig]):
    """Wraps any :class:`~muster.models.ChatCompletionClient` and replays earlier answers.

    The cache key covers the messages, tools, ``tool_choice``, ``json_output`` and
    ``extra_create_args`` (see :func:`cache_key`). On a hit no request reaches the wrapped
    client: ``create`` returns the stored :class:`CreateResult` with ``cached=True`` (its
    ``usage`` still says what the original call cost), and ``create_stream`` replays the
    stored chunks as a stream ending in that cached result. A ``create`` hit on an entry
    written by a stream returns the stream's final result; a stream hit on an entry
    written by ``create`` yields its text as one chunk, then the result.

    A stream is stored only once it has completed: one abandoned or failed midway is not
    cached. Usage: :meth:`actual_usage` is the wrapped client's (tokens really spent);
    :meth:`total_usage` adds the usage of every cache hit (tokens the calls would have
    cost), as the :class:`ChatCompletionClient` contract defines them.

    A store that fails, or holds an entry that does not validate, never fails a call: the
    problem is logged and the call goes to the model.

    The store is called through its async methods (``CacheStore.aget``/``aset``), never
    its synchronous ``get``/``set`` on the event loop: a Redis round trip or a disk read
    would otherwise stall every agent sharing the loop. The in-memory stores answer
    directly; the persistent ones use a worker thread or a native async client.

    Args:
        client: The client to wrap.
        store: Where results live; defaults to an unbounded ``InMemoryStore``. Use
            ``muster.cache_store`` for a bounded, on-disk or Redis store. Do not share
            one store between caches wrapping different models: the key does not name
            the model.
    """

    component_type = "chat_completion_cache"
    component_provider_override = "muster.models.cache.ChatCompletionCache"
    component_config_schema = ChatCompletionCacheConfig

    def __init__(
        self,
        client: ChatCompletionClient,
        store: CacheStore[CreateResult | list[str | CreateResult]] | None = None,
    ) -> None:
        self.client = client
        self.store: CacheStore[CreateResult | list[str | CreateResult]] = (
            store if store is not None else InMemoryStore()
        )
        self._hit_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    async def _lookup(self, key: str) -> CreateResult | list[str | CreateResult] | None:
        try:
            raw: Any = await _store_get(self.store, key)
        except Exception:
            logger.warning(
                "cache store %s failed on get; calling the model", type(self.store).__name__, exc_info=True
            )
            return None
        if raw is None:
            return None
        if isinstance(raw, str | bytes):
            # Stores that hand back the JSON text itself rather than parsed JSON.
            try:
                raw = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                logger.warning("cache entry %s is not JSON; treated as a miss", key)
                return None
        try:
            value = _VALUE_ADAPTER.validate_python(raw)
        except ValidationError as exc:
            logger.warning("cache entry %s is corrupt (%d errors); treated as a miss", key, exc.error_count())
            return None
        if _final_result(value) is None:
            logger.warning("cache entry %s holds a stream without a final result; treated as a miss", key)
            return None
        return value

    async def _save(self, key: str, value: CreateResult | list[str | CreateResult]) -> None:
        try:
            await _store_set(self.store, key, value)
        except Exception:
            # The model already answered; losing the cache write must not lose the answer.
            logger.warning(
                "cache store %s failed on set; result not cached", type(self.store).__name__, exc_info=True
            )

    def _count_hit(self, result: CreateResult) -> None:
        self._hit_usage.prompt_tokens += result.usage.prompt_tokens
        self._hit_usage.completion_tokens += result.usage.completion_tokens

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Return the cached result for this request, or ask the wrapped client and cache it.

        ``cancellation_token`` only matters on a miss: a hit returns at once.
        """
        span = open_span("model_call", "ChatCompletionCache")
        if span is None:
            return await self._create(
                messages, tools, tool_choice, json_output, extra_create_args, cancellation_token
            )
        with span:
            result = await self._create(
                messages, tools, tool_choice, json_output, extra_create_args, cancellation_token, span
            )
            span.set(cached=result.cached)
            if result.cached:
                _describe_hit(span, result)
            return result

    async def _create(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
        cancellation_token: CancellationToken | None,
        span: Span | None = None,
    ) -> CreateResult:
        key = cache_key(messages, tools, tool_choice, json_output, extra_create_args)
        hit = await self._lookup(key)
        if hit is not None:
            final = _final_result(hit)
            assert final is not None  # _lookup rejects entries without one
            self._count_hit(final)
            return _as_cached(final)
        if span is not None:
            span.set(cached=False)
        result = await self.client.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )
        await self._save(key, result.model_copy(deep=True))
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Replay a cached stream, or stream from the wrapped client and cache the whole of it."""
        span = open_span("model_call", "ChatCompletionCache")
        try:
            key = cache_key(messages, tools, tool_choice, json_output, extra_create_args)
            hit = await self._lookup(key)
            if span is not None:
                span.set(cached=hit is not None, streamed=True)
            if hit is not None:
                final = _final_result(hit)
                assert final is not None
                self._count_hit(final)
                if span is not None:
                    _describe_hit(span, final)
                for item in _replayed(hit):
                    yield item
            else:
                recorded: list[str | CreateResult] = []
                async for item in self.client.create_stream(
                    messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    json_output=json_output,
                    extra_create_args=extra_create_args,
                    cancellation_token=cancellation_token,
                ):
                    recorded.append(item if isinstance(item, str) else item.model_copy(deep=True))
                    yield item
                if recorded and isinstance(recorded[-1], CreateResult):
                    await self._save(key, recorded)
        except BaseException as exc:
            if span is not None:
                span.close(exc)
            raise
        if span is not None:
            span.close()

    async def close(self) -> None:
        """Close the wrapped client (the store belongs to whoever created it)."""
        await self.client.close()

    def actual_usage(self) -> RequestUsage:
        """Tokens the wrapped client really spent; cache hits add nothing."""
        return self.client.actual_usage()

    def total_usage(self) -> RequestUsage:
        """The wrapped client's total plus what every cache hit would have cost."""
        inner = self.client.total_usage()
        return RequestUsage(
            prompt_tokens=inner.prompt_tokens + self._hit_usage.prompt_tokens,
            completion_tokens=inner.completion_tokens + self._hit_usage.completion_tokens,
        )

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """The wrapped client's count."""
        return self.client.count_tokens(messages, tools=tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """The wrapped client's count."""
        return self.client.remaining_tokens(messages, tools=tools)

    @property
    def model_info(self) -> ModelInfo:
        """The wrapped client's capabilities."""
        return self.client.model_info

    def _to_config(self) -> ChatCompletionCacheConfig:
        return ChatCompletionCacheConfig(
            client=self.client.dump_component(), store=self.store.dump_component()
        )

    @classmethod
    def _from_config(cls, config: ChatCompletionCacheConfig) -> Self:
        client = ChatCompletionClient.load_component(config.client)
        store: CacheStore[CreateResult | list[str | CreateResult]] | None = None
        if config.store is not None:
            store = CacheStore.load_component(config.store)
        return cls(client=client, store=store)
