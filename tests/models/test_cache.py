"""ChatCompletionCache: hits, misses, streaming, usage, keys and resilience."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from pydantic import BaseModel

from muster.cache_store.memory import LRUStore
from muster.cache_store.sqlite import SQLiteStore
from muster.core import CacheStore, FunctionCall, InMemoryStore
from muster.models import CreateResult, RequestUsage, SystemMessage, UserMessage
from muster.models.cache import CHAT_CACHE_VALUE_TYPE, ChatCompletionCache
from muster.models.replay import ReplayChatCompletionClient

HELLO = [UserMessage(content="say hello", source="user")]


def make_cache(
    replies: list[str | CreateResult], store: CacheStore[Any] | None = None
) -> tuple[ChatCompletionCache, ReplayChatCompletionClient]:
    inner = ReplayChatCompletionClient(replies)
    return ChatCompletionCache(inner, store), inner


async def collect(stream: AsyncGenerator[str | CreateResult, None]) -> list[str | CreateResult]:
    return [item async for item in stream]


async def test_miss_calls_model_then_hit_is_cached_and_spends_nothing() -> None:
    cache, inner = make_cache(["hello there", "never used"])
    first = await cache.create(HELLO)
    assert first.content == "hello there"
    assert first.cached is False
    spent = inner.actual_usage()

    second = await cache.create(HELLO)
    assert second.content == "hello there"
    assert second.cached is True
    assert second.usage == first.usage  # the stored cost, as AutoGen reports it
    assert len(inner.create_calls) == 1
    assert cache.actual_usage() == spent
    assert cache.total_usage() == RequestUsage(
        spent.prompt_tokens + first.usage.prompt_tokens,
        spent.completion_tokens + first.usage.completion_tokens,
    )


async def test_hit_returns_a_copy_so_callers_cannot_corrupt_the_store() -> None:
    cache, _ = make_cache(["stable"])
    first = await cache.create(HELLO)
    first.usage.prompt_tokens = 999
    hit = await cache.create(HELLO)
    hit.usage.completion_tokens = 999
    again = await cache.create(HELLO)
    assert again.usage.prompt_tokens != 999
    assert again.usage.completion_tokens != 999


async def test_hit_tool_calls_are_copies_so_callers_cannot_corrupt_the_store() -> None:
    calls = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="1", name="lookup", arguments='{"q": "x"}')],
        usage=RequestUsage(3, 4),
        cached=False,
    )
    cache, _ = make_cache([calls])
    await cache.create(HELLO)
    hit = await cache.create(HELLO)
    assert isinstance(hit.content, list)
    hit.content[0].arguments = "{}"
    hit.content.append(FunctionCall(id="2", name="other", arguments="{}"))
    again = await cache.create(HELLO)
    assert again.cached is True
    assert again.content == [FunctionCall(id="1", name="lookup", arguments='{"q": "x"}')]
    assert again.model_fields_set == hit.model_fields_set  # a copy does not mark defaults as set


def test_key_is_deterministic_and_covers_images_and_subclass_fields() -> None:
    from muster.core import Image
    from muster.models.cache._key import cache_key

    class TaggedMessage(UserMessage):
        tag: str = "a"

    png = b"\x89PNG\r\n\x1a\n" + b"pixels"
    with_image = [UserMessage(content=["look", Image(png)], source="user")]
    key = cache_key(with_image, [], "auto", None, {})
    assert key == cache_key([UserMessage(content=["look", Image(png)], source="user")], [], "auto", None, {})
    assert key == cache_key(tuple(with_image), [], "auto", None, {})
    assert key != cache_key(
        [UserMessage(content=["look", Image(png + b"!")], source="user")], [], "auto", None, {}
    )
    plain = cache_key(HELLO, [], "auto", None, {})
    tagged = cache_key([TaggedMessage(content="say hello", source="user")], [], "auto", None, {})
    assert tagged != plain
    assert tagged != cache_key(
        [TaggedMessage(content="say hello", source="user", tag="b")], [], "auto", None, {}
    )


@pytest.mark.parametrize(
    "variant",
    [
        {"messages": [UserMessage(content="say hello!", source="user")]},
        {"messages": [SystemMessage(content="be brief"), *HELLO]},
        {"messages": [UserMessage(content="say hello", source="someone-else")]},
        {"tools": [{"name": "lookup", "description": "find things"}]},
        {"tool_choice": "none"},
        {"json_output": True},
        {"extra_create_args": {"temperature": 0.5}},
    ],
)
async def test_any_argument_change_misses(variant: dict[str, Any]) -> None:
    cache, inner = make_cache(["base", "variant"])
    await cache.create(HELLO)
    kwargs: dict[str, Any] = {"messages": HELLO, **variant}
    result = await cache.create(**kwargs)
    assert result.content == "variant"
    assert result.cached is False
    assert len(inner.create_calls) == 2


async def test_structured_output_schemas_are_distinguished() -> None:
    class A(BaseModel):
        x: int

    class B(BaseModel):
        y: str

    cache, inner = make_cache(["a", "b", "unused"])
    assert (await cache.create(HELLO, json_output=A)).content == "a"
    assert (await cache.create(HELLO, json_output=B)).content == "b"
    assert (await cache.create(HELLO, json_output=A)).cached is True
    assert len(inner.create_calls) == 2


async def test_extra_args_key_is_order_independent() -> None:
    cache, inner = make_cache(["one", "unused"])
    await cache.create(HELLO, extra_create_args={"temperature": 0, "seed": 1})
    hit = await cache.create(HELLO, extra_create_args={"seed": 1, "temperature": 0})
    assert hit.cached is True
    assert len(inner.create_calls) == 1


async def test_stream_miss_passes_through_and_hit_replays_the_stream() -> None:
    cache, inner = make_cache(["three word reply", "unused"])
    live = await collect(cache.create_stream(HELLO))
    assert live[:-1] == ["three ", "word ", "reply"]
    assert isinstance(live[-1], CreateResult) and live[-1].cached is False

    replay = await collect(cache.create_stream(HELLO))
    assert replay[:-1] == live[:-1]
    final = replay[-1]
    assert isinstance(final, CreateResult)
    assert final.cached is True
    assert final.content == "three word reply"
    assert len(inner.create_calls) == 1


async def test_create_after_stream_returns_the_streams_result() -> None:
    cache, inner = make_cache(["streamed text", "unused"])
    await collect(cache.create_stream(HELLO))
    result = await cache.create(HELLO)
    assert result.cached is True
    assert result.content == "streamed text"
    assert len(inner.create_calls) == 1


async def test_stream_after_create_yields_text_then_cached_result() -> None:
    cache, _ = make_cache(["full answer"])
    await cache.create(HELLO)
    items = await collect(cache.create_stream(HELLO))
    assert items[0] == "full answer"
    assert isinstance(items[1], CreateResult) and items[1].cached is True
    assert len(items) == 2


async def test_stream_of_tool_calls_hit_yields_only_the_result() -> None:
    calls = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="1", name="lookup", arguments='{"q": "x"}')],
        usage=RequestUsage(3, 4),
        cached=False,
    )
    cache, _ = make_cache([calls])
    await cache.create(HELLO)
    items = await collect(cache.create_stream(HELLO))
    assert len(items) == 1
    assert isinstance(items[0], CreateResult)
    assert items[0].content == calls.content


async def test_abandoned_stream_is_not_cached() -> None:
    cache, inner = make_cache(["a b c", "a b c"])
    stream = cache.create_stream(HELLO)
    assert await anext(stream) == "a "
    await stream.aclose()
    items = await collect(cache.create_stream(HELLO))
    assert isinstance(items[-1], CreateResult) and items[-1].cached is False
    assert len(inner.create_calls) == 2


async def test_failed_call_is_not_cached() -> None:
    cache, inner = make_cache(["after failure"])
    cache_calls = 0

    class Boom(Exception):
        pass

    original = inner.create

    async def flaky(*args: Any, **kwargs: Any) -> CreateResult:
        nonlocal cache_calls
        cache_calls += 1
        if cache_calls == 1:
            raise Boom
        return await original(*args, **kwargs)

    inner.create = flaky  # type: ignore[method-assign]
    with pytest.raises(Boom):
        await cache.create(HELLO)
    assert (await cache.create(HELLO)).content == "after failure"


@pytest.mark.parametrize(
    "corrupt",
    [
        {"finish_reason": "stop"},  # missing fields
        ["chunk without a final result"],
        "not json at all {",
        42,
    ],
)
async def test_corrupt_entries_are_logged_misses(corrupt: Any, caplog: pytest.LogCaptureFixture) -> None:
    store: InMemoryStore[Any] = InMemoryStore()
    cache, inner = make_cache(["fresh"], store)
    from muster.models.cache._key import cache_key

    store.set(cache_key(HELLO, [], "auto", None, {}), corrupt)
    with caplog.at_level(logging.WARNING, logger="muster.models.cache"):
        result = await cache.create(HELLO)
    assert result.content == "fresh" and result.cached is False
    assert any("miss" in record.getMessage() for record in caplog.records)
    # The fresh answer replaced the corrupt entry.
    assert (await cache.create(HELLO)).cached is True


async def test_failing_store_never_fails_the_call(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenStore(InMemoryStore[Any]):
        def get(self, key: str, default: Any = None) -> Any:
            raise OSError("disk gone")

        def set(self, key: str, value: Any) -> None:
            raise OSError("disk gone")

    cache, _ = make_cache(["still works", "again"], BrokenStore())
    with caplog.at_level(logging.WARNING, logger="muster.models.cache"):
        assert (await cache.create(HELLO)).content == "still works"
        assert (await cache.create(HELLO)).content == "again"
    assert len(caplog.records) >= 2


async def test_json_text_returned_by_a_store_is_accepted() -> None:
    store: InMemoryStore[Any] = InMemoryStore()
    cache, _ = make_cache(["original"], store)
    await cache.create(HELLO)
    ((key, value),) = store.store.items()
    store.store[key] = value.model_dump_json()
    hit = await cache.create(HELLO)
    assert hit.cached is True and hit.content == "original"


async def test_persistent_store_round_trip_across_cache_instances(tmp_path: Any) -> None:
    path = tmp_path / "llm.sqlite"
    with SQLiteStore[Any](path) as store:
        cache, _ = make_cache(["persisted words"], store)
        await collect(cache.create_stream(HELLO))
    with SQLiteStore[Any](path) as store:
        fresh = ChatCompletionCache(ReplayChatCompletionClient([]), store)
        items = await collect(fresh.create_stream(HELLO))
    assert items[:-1] == ["persisted ", "words"]
    assert isinstance(items[-1], CreateResult) and items[-1].cached is True


async def test_lru_store_bounds_the_cache() -> None:
    cache, inner = make_cache(["a", "b", "a again"], LRUStore(max_size=1))
    await cache.create([UserMessage(content="first", source="u")])
    await cache.create([UserMessage(content="second", source="u")])
    evicted = await cache.create([UserMessage(content="first", source="u")])
    assert evicted.content == "a again" and evicted.cached is False


async def test_delegates_to_wrapped_client() -> None:
    cache, inner = make_cache(["x"])
    assert cache.model_info == inner.model_info
    assert cache.count_tokens(HELLO) == inner.count_tokens(HELLO)
    assert cache.remaining_tokens(HELLO) == inner.remaining_tokens(HELLO)
    closed = False

    async def close() -> None:
        nonlocal closed
        closed = True

    inner.close = close  # type: ignore[method-assign]
    await cache.close()
    assert closed


def test_dump_and_load_component_round_trip() -> None:
    cache = ChatCompletionCache(ReplayChatCompletionClient(["x"]), LRUStore(max_size=7))
    spec = cache.dump_component()
    assert spec.provider == "muster.models.cache.ChatCompletionCache"
    loaded = ChatCompletionCache.load_component(spec)
    assert isinstance(loaded.client, ReplayChatCompletionClient)
    assert isinstance(loaded.store, LRUStore) and loaded.store.max_size == 7


def test_value_type_accepts_both_shapes() -> None:
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(CHAT_CACHE_VALUE_TYPE)
    result = CreateResult(finish_reason="stop", content="x", usage=RequestUsage(1, 1), cached=False)
    assert adapter.validate_python(result.model_dump(mode="json")) == result
    assert adapter.validate_python(["x", result]) == ["x", result]


async def test_autogen_spec_loads() -> None:
    # The shape AutoGen 0.7.5 dumps for ChatCompletionCache around its replay client (no store).
    spec = {
        "provider": "autogen_ext.models.cache.ChatCompletionCache",
        "component_type": "chat_completion_cache",
        "version": 1,
        "component_version": 1,
        "config": {
            "client": {
                "provider": "autogen_ext.models.replay.ReplayChatCompletionClient",
                "component_type": "replay_chat_completion_client",
                "version": 1,
                "component_version": 1,
                "config": {
                    "chat_completions": ["from a spec"],
                    "model_info": {
                        "vision": False,
                        "function_calling": False,
                        "json_output": False,
                        "family": "unknown",
                        "structured_output": False,
                    },
                },
            }
        },
    }
    cache = ChatCompletionCache.load_component(spec)
    assert isinstance(cache.store, InMemoryStore)
    assert (await cache.create(HELLO)).content == "from a spec"
    assert (await cache.create(HELLO)).cached is True


class GatedStore(CacheStore[Any]):
    """A store with only AutoGen's sync methods, each of which waits for a coroutine to let it go.

    Called on the event loop's own thread, ``get``/``set`` would wait for a coroutine that
    cannot run until they return: a deadlock. The wait is bounded so that the test then
    fails (``timed_out``) instead of hanging; ``asyncio.wait_for`` cannot fire while the
    loop itself is blocked.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.values: dict[str, Any] = {}
        self.get_called, self.set_called = asyncio.Event(), asyncio.Event()
        self.get_gate, self.set_gate = threading.Event(), threading.Event()
        self.timed_out = False

    def _wait(self, called: asyncio.Event, gate: threading.Event) -> None:
        self.loop.call_soon_threadsafe(called.set)
        if not gate.wait(timeout=10):
            self.timed_out = True

    def get(self, key: str, default: Any = None) -> Any:
        self._wait(self.get_called, self.get_gate)
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._wait(self.set_called, self.set_gate)
        self.values[key] = value


async def test_a_blocking_store_does_not_block_the_event_loop() -> None:
    store = GatedStore(asyncio.get_running_loop())
    cache, _ = make_cache(["fresh"], store)

    async def open_gate(called: asyncio.Event, gate: threading.Event) -> None:
        await called.wait()
        gate.set()

    openers = [
        asyncio.create_task(open_gate(store.get_called, store.get_gate)),
        asyncio.create_task(open_gate(store.set_called, store.set_gate)),
    ]
    result = await asyncio.wait_for(cache.create(HELLO), 30)
    await asyncio.wait_for(asyncio.gather(*openers), 30)
    assert not store.timed_out, "the store's sync get/set ran on the event loop"
    assert result.content == "fresh" and len(store.values) == 1
