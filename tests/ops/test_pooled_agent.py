"""PooledAgent: one pooled client per turn, always returned, shared between agents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest

from muster.base import Response
from muster.core import CancellationToken
from muster.messages import TextMessage
from muster.models import CreateResult, LLMMessage
from muster.models.replay import ReplayChatCompletionClient
from muster.ops import BatchProcessor, ModelClientPool, PooledAgent


def replay_factory(*replies: str) -> Any:
    made: list[ReplayChatCompletionClient] = []

    def factory() -> ReplayChatCompletionClient:
        client = ReplayChatCompletionClient(list(replies))
        made.append(client)
        return client

    factory.made = made  # type: ignore[attr-defined]
    return factory


async def test_run_borrows_a_client_and_returns_it() -> None:
    factory = replay_factory("pooled answer", "second answer")
    pool = ModelClientPool(max_connections=1, client_factory=factory)
    agent = PooledAgent("pooled", pool)
    result = await agent.run(task="question")
    assert result.messages[-1].to_text() == "pooled answer"
    stats = pool.get_stats()
    assert stats["in_use_clients"] == 0 and stats["available_clients"] == 1
    result = await agent.run(task="again")
    assert result.messages[-1].to_text() == "second answer"
    assert len(factory.made) == 1 and pool.get_stats()["cache_hits"] == 1


async def test_run_stream_holds_one_client_for_the_whole_turn() -> None:
    pool = ModelClientPool(max_connections=1, client_factory=replay_factory("streamed"))
    agent = PooledAgent("pooled", pool)
    seen_in_use = []
    async for _ in agent.run_stream(task="q"):
        seen_in_use.append(pool.get_stats()["in_use_clients"])
    assert max(seen_in_use) == 1
    assert pool.get_stats()["in_use_clients"] == 0


async def test_client_is_returned_when_the_turn_fails() -> None:
    pool = ModelClientPool(max_connections=1, client_factory=replay_factory())  # no replies: raises
    agent = PooledAgent("pooled", pool)
    with pytest.raises(ValueError):
        await agent.on_messages([TextMessage(content="q", source="user")], CancellationToken())
    assert pool.get_stats()["available_clients"] == 1
    with pytest.raises(RuntimeError, match="borrows one per turn"):
        await agent._model_client.create([])


async def test_agents_share_a_small_pool() -> None:
    gate = asyncio.Event()

    class GatedClient(ReplayChatCompletionClient):
        async def create(self, messages: Sequence[LLMMessage], **kwargs: Any) -> CreateResult:
            await gate.wait()
            return await super().create(messages, **kwargs)

        async def create_stream(  # type: ignore[override]
            self, messages: Sequence[LLMMessage], **kwargs: Any
        ) -> AsyncGenerator[str | CreateResult, None]:
            raise AssertionError("not streaming")
            yield ""

    pool = ModelClientPool(max_connections=1, client_factory=lambda: GatedClient(["one", "two"]))
    first, second = PooledAgent("first", pool), PooledAgent("second", pool)
    async with BatchProcessor(batch_size=2, timeout=3600) as batches:
        runs = [
            asyncio.create_task(batches.process_message("a", first)),
            asyncio.create_task(batches.process_message("b", second)),
        ]
        while pool.get_stats()["waiting"] != 1:
            await asyncio.sleep(0)
        gate.set()
        results = await asyncio.wait_for(asyncio.gather(*runs), 5)
    assert sorted(r.messages[-1].to_text() for r in results) == ["one", "two"]
    assert pool.get_stats()["total_clients"] == 1


def test_model_client_argument_and_dumping_are_refused() -> None:
    pool = ModelClientPool(client_factory=replay_factory())
    with pytest.raises(TypeError, match="client_pool"):
        PooledAgent("p", pool, model_client=ReplayChatCompletionClient([]))
    with pytest.raises(TypeError, match="cannot be dumped"):
        PooledAgent("p", pool).dump_component()


def test_model_info_governs_tool_checks() -> None:
    pool = ModelClientPool(client_factory=replay_factory())

    def lookup(q: str) -> str:
        return q

    PooledAgent("with_tools", pool, tools=[lookup])  # function calling assumed by default
    with pytest.raises(ValueError, match="function calling"):
        PooledAgent(
            "no_tools",
            pool,
            tools=[lookup],
            model_info={
                "vision": False,
                "function_calling": False,
                "json_output": False,
                "family": "unknown",
                "structured_output": False,
            },
        )


async def test_response_type_is_unchanged() -> None:
    pool = ModelClientPool(client_factory=replay_factory("x"))
    response = await PooledAgent("p", pool).on_messages(
        [TextMessage(content="q", source="u")], CancellationToken()
    )
    assert isinstance(response, Response)
