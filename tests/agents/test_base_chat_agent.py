"""BaseChatAgent: task forms accepted by run/run_stream, stream draining and default hooks."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

import pytest

from muster.agents import BaseChatAgent
from muster.base import Response, TaskResult
from muster.base.exceptions import InvalidTaskError, StateError
from muster.core import CancellationToken
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    ModelClientStreamingChunkEvent,
    StopMessage,
    TextMessage,
    ThoughtEvent,
)
from muster.state import BaseState


class Echo(BaseChatAgent):
    """Answers with the text of the last message it got (or 'nothing'), after one thought."""

    def __init__(self, name: str = "echo") -> None:
        super().__init__(name, "echoes")
        self.received: list[list[BaseChatMessage]] = []

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        self.received.append(list(messages))
        text = messages[-1].to_text() if messages else "nothing"
        return Response(
            chat_message=TextMessage(content=text, source=self.name),
            inner_messages=[ThoughtEvent(content="hmm", source=self.name)],
        )

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.received.clear()


class Streamer(Echo):
    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        yield ModelClientStreamingChunkEvent(content="par", source=self.name)
        yield ModelClientStreamingChunkEvent(content="tial", source=self.name)
        yield Response(chat_message=TextMessage(content="partial", source=self.name))


def test_name_must_be_an_identifier() -> None:
    with pytest.raises(ValueError, match="valid Python identifier"):
        Echo("not valid")


async def test_run_with_string_task_wraps_it_as_user_text() -> None:
    agent = Echo()
    result = await agent.run(task="hi")
    assert [type(m).__name__ for m in result.messages] == ["TextMessage", "ThoughtEvent", "TextMessage"]
    assert result.messages[0].source == "user"
    assert result.messages[-1].content == "hi"  # type: ignore[union-attr]
    assert agent.received[0][0].source == "user"


async def test_run_without_task_messages_in_output() -> None:
    result = await Echo().run(task="hi", output_task_messages=False)
    assert [type(m).__name__ for m in result.messages] == ["ThoughtEvent", "TextMessage"]


async def test_run_accepts_message_list_and_none() -> None:
    agent = Echo()
    msgs = [TextMessage(content="a", source="x"), StopMessage(content="b", source="y")]
    result = await agent.run(task=msgs)
    assert result.messages[:2] == msgs
    assert result.messages[-1].content == "b"  # type: ignore[union-attr]
    result = await agent.run()
    assert result.messages[-1].content == "nothing"  # type: ignore[union-attr]
    assert agent.received[-1] == []


@pytest.mark.parametrize("task", [[], [TextMessage(content="a", source="x"), "b"], 42, {"a": 1}])
async def test_bad_tasks_raise_invalid_task_error(task: object) -> None:
    agent = Echo()
    with pytest.raises(InvalidTaskError):
        await agent.run(task=task)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # InvalidTaskError is a ValueError, as AutoGen raises
        async for _ in agent.run_stream(task=task):  # type: ignore[arg-type]
            pass


async def test_run_stream_default_replays_on_messages() -> None:
    items = [m async for m in Echo().run_stream(task="hey")]
    assert [type(m).__name__ for m in items] == ["TextMessage", "ThoughtEvent", "TextMessage", "TaskResult"]
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert result.messages == items[:-1]


async def test_run_stream_keeps_chunks_out_of_the_task_result() -> None:
    items = [m async for m in Streamer().run_stream(task="x")]
    assert sum(isinstance(m, ModelClientStreamingChunkEvent) for m in items) == 2
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert [type(m).__name__ for m in result.messages] == ["TextMessage", "TextMessage"]


async def test_default_state_and_lifecycle_hooks() -> None:
    agent = Echo()
    state = await agent.save_state()
    assert state == {"type": "BaseState", "version": "1.0.0"}
    await agent.load_state(BaseState().model_dump())
    token = CancellationToken()
    await agent.on_pause(token)
    await agent.on_resume(token)
    await agent.close()
    assert agent.name == "echo" and agent.description == "echoes"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            {"type": "AssistantAgentState", "version": "1.0.0"},
            r"^type: expected 'BaseState', got 'AssistantAgentState'$",
        ),
        ({"version": "1.0.0"}, r"^type: missing"),
        ({"type": "BaseState", "version": "2.0.0"}, r"^version: unsupported version '2.0.0'"),
        ("BaseState", r"^expected a mapping, got str$"),
    ],
)
async def test_the_default_load_state_rejects_another_agents_state(state: object, message: str) -> None:
    with pytest.raises(StateError, match=message):
        await Echo().load_state(state)  # type: ignore[arg-type]


async def test_the_default_load_state_accepts_a_state_without_version() -> None:
    await Echo().load_state({"type": "BaseState"})
