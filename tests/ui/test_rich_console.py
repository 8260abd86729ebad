"""RichConsole: AutoGen's documented use (``await RichConsole(team.run_stream(...))``), drawn by rich."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from rich.console import Console as Terminal

from muster.agents import AssistantAgent, UserProxyAgent
from muster.conditions import MaxMessageTermination
from muster.core import FunctionCall
from muster.models import CreateResult, ModelInfo, RequestUsage
from muster.models.replay import ReplayChatCompletionClient
from muster.teams import RoundRobinGroupChat
from muster.ui import RichConsole, UserInputManager

INFO = ModelInfo(
    vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False
)


def get_weather(city: str) -> str:
    """Weather in a city."""
    return f"Sunny in {city}"


def terminal() -> tuple[Terminal, io.StringIO]:
    out = io.StringIO()
    return Terminal(file=out, width=100, color_system=None), out


async def test_team_run_stream_draws_each_message_in_a_panel() -> None:
    call = FunctionCall(id="1", name="get_weather", arguments=json.dumps({"city": "Paris"}))
    model = ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls", content=[call], usage=RequestUsage(3, 4), cached=False
            ),
            "It is sunny in Paris.",
        ],
        model_info=INFO,
    )
    agent = AssistantAgent("weather", model_client=model, tools=[get_weather], reflect_on_tool_use=True)
    team = RoundRobinGroupChat([agent], termination_condition=MaxMessageTermination(2))
    term, out = terminal()
    result = await RichConsole(team.run_stream(task="Weather in Paris?"), output_stats=True, console=term)
    assert result.stop_reason is not None
    text = out.getvalue()
    assert "╭─ user" in text and "Weather in Paris?" in text
    assert "ToolCallRequestEvent (weather)" in text and "Sunny in Paris" in text
    assert "╭─ weather" in text and "It is sunny in Paris." in text
    assert "Summary" in text and "Number of messages: 4" in text and "Total prompt tokens: 26" in text


async def test_streamed_chunks_print_inline_and_a_response_is_returned() -> None:
    model = ReplayChatCompletionClient(["Hello there friend"])
    agent = AssistantAgent("greeter", model_client=model, model_client_stream=True)
    term, out = terminal()
    from muster.core import CancellationToken
    from muster.messages import TextMessage

    response = await RichConsole(
        agent.on_messages_stream([TextMessage(content="hi", source="user")], CancellationToken()),
        console=term,
    )
    assert response.chat_message.content == "Hello there friend"
    assert "Hello there friend" in out.getvalue()


async def test_user_input_manager_is_released_in_step() -> None:
    manager = UserInputManager(lambda prompt: "APPROVE")
    user = UserProxyAgent("user_proxy", input_func=manager.get_wrapped_callback())
    team = RoundRobinGroupChat([user], termination_condition=MaxMessageTermination(2))
    term, out = terminal()
    await RichConsole(team.run_stream(task="ok?"), user_input_manager=manager, console=term)
    assert "APPROVE" in out.getvalue()


async def test_a_stream_without_a_result_is_an_error() -> None:
    async def empty():  # type: ignore[no-untyped-def]
        if False:
            yield

    with pytest.raises(ValueError, match="No TaskResult or Response"):
        await RichConsole(empty())


def test_importing_muster_ui_does_not_import_rich() -> None:
    code = "import sys, muster.ui; print('rich' in sys.modules)"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
