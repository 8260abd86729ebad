"""Property: whatever a stream produced replays identically from a JSON (SQLite) store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from muster.cache_store.sqlite import SQLiteStore
from muster.core import FunctionCall
from muster.models import CreateResult, RequestUsage, UserMessage
from muster.models.cache import ChatCompletionCache
from muster.models.replay import ReplayChatCompletionClient

texts = st.text(max_size=40)
calls = st.lists(
    st.builds(
        FunctionCall,
        id=st.text(min_size=1, max_size=8),
        arguments=texts,
        name=st.text(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=3,
)
results = st.builds(
    CreateResult,
    finish_reason=st.sampled_from(["stop", "length", "function_calls", "content_filter", "unknown"]),
    content=st.one_of(texts, calls),
    usage=st.builds(RequestUsage, st.integers(0, 10_000), st.integers(0, 10_000)),
    cached=st.just(False),
    thought=st.one_of(st.none(), texts),
)


class ScriptedStream(ReplayChatCompletionClient):
    """Streams exactly the given chunks, then the given result."""

    def __init__(self, chunks: list[str], result: CreateResult) -> None:
        super().__init__([])
        self.items: list[str | CreateResult] = [*chunks, result]

    async def create_stream(  # type: ignore[override]
        self, messages: Sequence[Any], **kwargs: Any
    ) -> AsyncGenerator[str | CreateResult, None]:
        for item in self.items:
            yield item


async def replay_twice(
    chunks: list[str], result: CreateResult, extra: Mapping[str, Any]
) -> tuple[list[Any], list[Any]]:
    messages = [UserMessage(content="prompt", source="user")]
    with SQLiteStore[Any](":memory:") as store:
        cache = ChatCompletionCache(ScriptedStream(chunks, result), store)
        live = [item async for item in cache.create_stream(messages, extra_create_args=extra)]
        replayed = [item async for item in cache.create_stream(messages, extra_create_args=extra)]
    return live, replayed


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(texts, max_size=5),
    result=results,
    extra=st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), texts, st.none()), max_size=3),
)
def test_stream_replays_identically_from_json_store(
    chunks: list[str], result: CreateResult, extra: dict[str, Any]
) -> None:
    live, replayed = asyncio.run(replay_twice(chunks, result, extra))
    assert replayed[:-1] == live[:-1] == chunks
    assert replayed[-1] == live[-1].model_copy(update={"cached": True})
