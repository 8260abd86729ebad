"""Console: AutoGen's output format, inline streaming chunks, stats, and input coordination."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import pytest

from muster.agents import AssistantAgent, UserProxyAgent
from muster.base import Response, TaskResult
from muster.core import CancellationToken, FunctionCall
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    ModelClientStreamingChunkEvent,
    TextMessage,
)
from muster.models import CreateResult, ModelInfo, RequestUsage
from muster.models.replay import ReplayChatCompletionClient
from muster.ui import Console, UserInputManager

INFO = ModelInfo(
    vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False
)


def get_weather(city: str) -> str:
    """Weather in a city."""
    return f"Sunny in {city}"


def tool_then_text() -> ReplayChatCompletionClient:
    call = FunctionCall(id="1", name="get_weather", arguments=json.dumps({"city": "Paris"}))
    return ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls", content=[call], usage=RequestUsage(1, 2), cached=False
            ),
            "It is sunny.",
        ],
        model_info=INFO,
    )


async def test_run_stream_output_matches_autogen_format(capsys: pytest.CaptureFixture[str]) -> None:
    agent = AssistantAgent("a", tool_then_text(), tools=[get_weather], reflect_on_tool_use=True)
    result = await Console(agent.run_stream(task="weather?"))
    assert isinstance(result, TaskResult) and result.messages[-1].content == "It is sunny."  # type: ignore[union-attr]
    assert capsys.readouterr().out == (
        "---------- TextMessage (user) ----------\n"
        "weather?\n"
        "---------- ToolCallRequestEvent (a) ----------\n"
        "[FunctionCall(id='1', arguments='{\"city\": \"Paris\"}', name='get_weather')]\n"
        "---------- ToolCallExecutionEvent (a) ----------\n"
        "[FunctionExecutionResult(content='Sunny in Paris', name='get_weather', call_id='1', is_error=False)]\n"
        "---------- TextMessage (a) ----------\n"
        "It is sunny.\n"
    )


async def test_streamed_chunks_print_inline_under_one_header(capsys: pytest.CaptureFixture[str]) -> None:
    client = ReplayChatCompletionClient(["one two three"], model_info=INFO)
    agent = AssistantAgent("s", client, model_client_stream=True)
    await Console(agent.run_stream(task="count", output_task_messages=False))
    assert (
        capsys.readouterr().out == "---------- ModelClientStreamingChunkEvent (s) ----------\none two three\n"
    )


async def test_output_stats(capsys: pytest.CaptureFixture[str]) -> None:
    agent = AssistantAgent("a", tool_then_text(), tools=[get_weather], reflect_on_tool_use=True)
    await Console(agent.run_stream(task="weather?"), output_stats=True)
    out = capsys.readouterr().out
    assert "[Prompt tokens: 1, Completion tokens: 2]\n" in out
    assert "---------- Summary ----------\nNumber of messages: 4\nFinish reason: None\n" in out
    assert "Total completion tokens: 5\n" in out  # 2 for the tool call + 3 words of reply
    assert "Duration: " in out and out.endswith(" seconds\n")


async def test_response_stream_returns_the_response(capsys: pytest.CaptureFixture[str]) -> None:
    agent = AssistantAgent("a", ReplayChatCompletionClient(["hello"], model_info=INFO))
    response = await Console(
        agent.on_messages_stream([TextMessage(content="hi", source="user")], CancellationToken()),
        output_stats=True,
    )
    assert isinstance(response, Response) and response.chat_message.to_text() == "hello"
    out = capsys.readouterr().out
    assert out.startswith("---------- a ----------\nhello\n[Prompt tokens: ")
    assert "Number of inner messages: 0\n" in out


async def test_empty_stream_is_an_error() -> None:
    async def nothing() -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        if False:
            yield ModelClientStreamingChunkEvent(content="", source="x")

    with pytest.raises(ValueError, match="No TaskResult or Response"):
        await Console(nothing())


async def test_user_input_manager_releases_the_prompt_after_rendering(
    capsys: pytest.CaptureFixture[str],
) -> None:
    order: list[str] = []

    def answer(prompt: str) -> str:
        order.append("input")
        return "fine"

    manager = UserInputManager(answer)
    user = UserProxyAgent("user", input_func=manager.get_wrapped_callback())
    result = await Console(user.run_stream(task="how are you?"), user_input_manager=manager)
    assert result.messages[-1].content == "fine"  # type: ignore[union-attr]
    assert order == ["input"] and manager.input_events == {}
    out = capsys.readouterr().out
    assert "UserInputRequestedEvent" not in out
    assert out.endswith("---------- TextMessage (user) ----------\nfine\n")
