"""MessageFilterAgent: per-source first/last/all selection, delegation, spec and state."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import pytest

from muster.agents import (
    AssistantAgent,
    BaseChatAgent,
    MessageFilterAgent,
    MessageFilterConfig,
    PerSourceFilter,
)
from muster.base import Response
from muster.base.exceptions import StateError
from muster.core import CancellationToken
from muster.messages import BaseAgentEvent, BaseChatMessage, TextMessage, ThoughtEvent


class Recorder(BaseChatAgent):
    """Answers with how many messages it got, and remembers them all."""

    def __init__(self, name: str = "inner") -> None:
        super().__init__(name, "records messages")
        self.received: list[list[str]] = []
        self.resets = 0
        self.state: dict[str, Any] = {"type": "BaseState", "seen": 0}

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        self.received.append([f"{m.source}:{m.to_text()}" for m in messages])
        return Response(chat_message=TextMessage(content=str(len(messages)), source=self.name))

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        yield ThoughtEvent(content="thinking", source=self.name)
        yield await self.on_messages(messages, cancellation_token)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.resets += 1

    async def save_state(self) -> Mapping[str, Any]:
        return dict(self.state)

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.state = dict(state)


def msgs(*pairs: str) -> list[BaseChatMessage]:
    out: list[BaseChatMessage] = []
    for pair in pairs:
        source, content = pair.split(":")
        out.append(TextMessage(content=content, source=source))
    return out


HISTORY = msgs("user:task", "a:a1", "b:b1", "a:a2", "b:b2", "a:a3", "user:more")


async def test_first_last_and_all_per_source_in_rule_order() -> None:
    inner = Recorder()
    agent = MessageFilterAgent(
        "inner",
        wrapped_agent=inner,
        filter=MessageFilterConfig(
            per_source=[
                PerSourceFilter(source="b", position="last", count=1),
                PerSourceFilter(source="user", position="first", count=1),
                PerSourceFilter(source="a", position="last", count=2),
            ]
        ),
    )
    response = await agent.on_messages(HISTORY, CancellationToken())
    assert inner.received == [["b:b2", "user:task", "a:a2", "a:a3"]]
    assert isinstance(response.chat_message, TextMessage)
    assert response.chat_message.content == "4"


async def test_position_or_count_missing_keeps_every_message_of_the_source() -> None:
    inner = Recorder()
    agent = MessageFilterAgent(
        "inner",
        wrapped_agent=inner,
        filter=MessageFilterConfig(
            per_source=[
                PerSourceFilter(source="a"),
                PerSourceFilter(source="b", position="first"),
                PerSourceFilter(source="user", position="last", count=0),
            ]
        ),
    )
    await agent.on_messages(HISTORY, CancellationToken())
    assert inner.received == [["a:a1", "a:a2", "a:a3", "b:b1", "b:b2", "user:task", "user:more"]]


async def test_unlisted_sources_are_dropped_and_stream_is_forwarded() -> None:
    inner = Recorder()
    agent = MessageFilterAgent(
        "inner",
        wrapped_agent=inner,
        filter=MessageFilterConfig(per_source=[PerSourceFilter(source="nobody")]),
    )
    streamed = [item async for item in agent.on_messages_stream(HISTORY, CancellationToken())]
    assert inner.received == [[]]
    assert isinstance(streamed[0], ThoughtEvent)
    assert isinstance(streamed[-1], Response)


async def test_run_goes_through_the_filter() -> None:
    inner = Recorder()
    agent = MessageFilterAgent(
        "inner",
        wrapped_agent=inner,
        filter=MessageFilterConfig(per_source=[PerSourceFilter(source="user", position="last", count=1)]),
    )
    result = await agent.run(task=msgs("user:one", "user:two"))
    assert inner.received == [["user:two"]]
    assert result.messages[-1].to_text() == "1"


async def test_describes_itself_and_delegates_lifecycle_and_state() -> None:
    inner = Recorder()
    agent = MessageFilterAgent("inner", wrapped_agent=inner, filter=MessageFilterConfig(per_source=[]))
    assert agent.description == "records messages (with message filtering)"
    assert agent.produced_message_types == (TextMessage,)
    assert agent.wrapped_agent is inner

    await agent.on_reset(CancellationToken())
    assert inner.resets == 1

    assert await agent.save_state() == {"type": "BaseState", "seen": 0}
    await agent.load_state({"type": "BaseState", "seen": 3})
    assert inner.state["seen"] == 3


def test_filter_config_round_trips_as_json() -> None:
    config = MessageFilterConfig(
        per_source=[PerSourceFilter(source="user", position="first", count=1), PerSourceFilter(source="b")]
    )
    assert MessageFilterConfig.model_validate_json(config.model_dump_json()) == config


def test_dump_and_load_round_trip() -> None:
    from muster.models.replay import ReplayChatCompletionClient

    inner = AssistantAgent("writer", model_client=ReplayChatCompletionClient(["x"]))
    config = MessageFilterConfig(per_source=[PerSourceFilter(source="user", position="last", count=2)])
    agent = MessageFilterAgent("writer", wrapped_agent=inner, filter=config)
    spec = agent.dump_component()
    assert spec.provider == "muster.agents.MessageFilterAgent"
    assert spec.config["filter"] == {"per_source": [{"source": "user", "position": "last", "count": 2}]}
    loaded = MessageFilterAgent.load_component(spec.model_dump(mode="json"))
    assert loaded.dump_component() == spec
    assert isinstance(loaded.wrapped_agent, AssistantAgent)


async def test_state_errors_come_from_the_wrapped_agent_which_stays_unchanged() -> None:
    from muster.models.replay import ReplayChatCompletionClient

    inner = AssistantAgent("writer", model_client=ReplayChatCompletionClient(["draft"]))
    agent = MessageFilterAgent("writer", wrapped_agent=inner, filter=MessageFilterConfig(per_source=[]))
    await inner.run(task="write")
    before = await agent.save_state()
    assert before["type"] == "AssistantAgentState"
    with pytest.raises(StateError, match=r"^llm_context: Input should be a valid dictionary"):
        await agent.load_state({"type": "AssistantAgentState", "llm_context": []})
    with pytest.raises(StateError, match=r"^type: expected 'AssistantAgentState', got 'TeamState'$"):
        await agent.load_state({"type": "TeamState"})
    assert await agent.save_state() == before

    # AutoGen's MessageFilterAgent saves a bare BaseState: accepted, and nothing to restore.
    await agent.load_state({"type": "BaseState", "version": "1.0.0"})
    assert await agent.save_state() == before
    with pytest.raises(StateError, match=r"^version: unsupported version '3.0.0'"):
        await agent.load_state({"type": "BaseState", "version": "3.0.0"})
