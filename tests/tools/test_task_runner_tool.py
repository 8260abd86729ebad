"""TaskRunnerTool with a duck-typed runner (the real AgentTool/TeamTool live in agents/teams)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from muster.core import CancellationToken
from muster.tools import StaticStreamWorkbench, ToolResult
from muster.tools._task_runner_tool import TaskRunner, TaskRunnerTool


@dataclass
class ChatMessage:
    source: str
    content: str

    def to_model_text(self) -> str:
        return self.content


@dataclass
class Event:
    source: str
    content: str

    def to_text(self) -> str:
        return self.content


@dataclass
class Result:
    messages: list[Any]


@dataclass
class FakeRunner:
    replies: list[Any]
    tasks: list[str] = field(default_factory=list)
    tokens: list[CancellationToken | None] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=lambda: {"turns": 0})

    async def run(self, *, task: str, cancellation_token: CancellationToken | None = None) -> Result:
        self.tasks.append(task)
        self.tokens.append(cancellation_token)
        return Result([ChatMessage("user", task), *self.replies])

    async def run_stream(
        self, *, task: str, cancellation_token: CancellationToken | None = None
    ) -> AsyncGenerator[Any, None]:
        yield ChatMessage("user", task)
        for reply in self.replies:
            yield reply
        yield await self.run(task=task, cancellation_token=cancellation_token)

    async def save_state(self) -> Mapping[str, Any]:
        return dict(self.state)

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.state = dict(state)


class RunnerTool(TaskRunnerTool):
    """Concrete subclass, as AgentTool and TeamTool will be."""


REPLIES = [ChatMessage("writer", "draft"), Event("writer", "thinking"), ChatMessage("critic", "APPROVE")]


def test_schema_is_strict_with_one_task_argument() -> None:
    tool = RunnerTool(FakeRunner(REPLIES), "writer", "Writes things.")
    schema = tool.schema
    assert schema["strict"] is True
    assert schema["parameters"]["required"] == ["task"]
    assert schema["parameters"]["properties"]["task"]["description"] == "The task to be executed."
    assert isinstance(FakeRunner([]), TaskRunner)


async def test_run_json_passes_task_and_token_and_renders_all_chat_messages() -> None:
    runner = FakeRunner(REPLIES)
    tool = RunnerTool(runner, "writer", "Writes things.")
    token = CancellationToken()
    result = await tool.run_json({"task": "write a haiku"}, token)
    assert runner.tasks == ["write a haiku"] and runner.tokens == [token]
    assert tool.return_value_as_string(result) == "writer: draft\n\ncritic: APPROVE"


async def test_last_message_mode() -> None:
    tool = RunnerTool(FakeRunner(REPLIES), "writer", "Writes things.", return_value_as_last_message=True)
    result = await tool.run_json({"task": "t"}, CancellationToken())
    assert tool.return_value_as_string(result) == "APPROVE"
    with pytest.raises(ValueError, match="not a chat message"):
        tool.return_value_as_string(Result([ChatMessage("a", "x"), Event("a", "e")]))
    with pytest.raises(ValueError):
        tool.return_value_as_string(Result([]))


async def test_stream_yields_inner_items_then_the_result() -> None:
    tool = RunnerTool(FakeRunner(REPLIES), "writer", "Writes things.", return_type=Result)
    items = [item async for item in tool.run_json_stream({"task": "t"}, CancellationToken())]
    assert items[:-1] == [ChatMessage("user", "t"), *REPLIES]
    assert isinstance(items[-1], Result)


async def test_through_a_stream_workbench() -> None:
    tool = RunnerTool(FakeRunner(REPLIES), "writer", "Writes things.", return_type=Result)
    items = [item async for item in StaticStreamWorkbench([tool]).call_tool_stream("writer", {"task": "t"})]
    assert items[-1] == ToolResult.model_validate(
        {
            "name": "writer",
            "result": [{"type": "TextResultContent", "content": "writer: draft\n\ncritic: APPROVE"}],
        }
    )
    assert len(items) == 1 + len(REPLIES) + 1  # task echo, replies, result


async def test_state_is_the_runner_state() -> None:
    runner = FakeRunner(REPLIES)
    tool = RunnerTool(runner, "writer", "Writes things.")
    assert await tool.save_state_json() == {"turns": 0}
    await tool.load_state_json({"turns": 3})
    assert runner.state == {"turns": 3}
