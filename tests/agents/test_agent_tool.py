"""AgentTool: agents as tools of other agents, nested, with inner events streamed to the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from muster.agents import AssistantAgent
from muster.agents._agent_tool import AgentTool
from muster.core import CancellationToken
from muster.messages import TextMessage, ToolCallExecutionEvent, ToolCallRequestEvent, ToolCallSummaryMessage
from muster.models import CreateResult
from muster.models.replay import ReplayChatCompletionClient
from muster.tools import AgentTool as ReexportedAgentTool

Replay = Callable[[Sequence[str | CreateResult]], ReplayChatCompletionClient]


def get_hotel(city: str) -> str:
    """Hotels in a city."""
    return f"Grand Hotel {city}"


def test_name_description_schema(replay: Replay) -> None:
    inner = AssistantAgent("hotel_agent", replay([]), description="Finds hotels.")
    tool = AgentTool(inner)
    assert ReexportedAgentTool is AgentTool
    assert tool.name == "hotel_agent" and tool.description == "Finds hotels."
    assert list(tool.schema["parameters"]["properties"]) == ["task"]
    assert tool.agent is inner


async def test_run_json_returns_the_inner_transcript(replay: Replay, script: Any) -> None:
    inner = AssistantAgent(
        "hotel_agent",
        replay([script.calls(("get_hotel", {"city": "Kyoto"})), "Book it."]),
        tools=[get_hotel],
        reflect_on_tool_use=True,
    )
    tool = AgentTool(inner)
    value = await tool.run_json({"task": "hotel in Kyoto"}, CancellationToken())
    assert value.messages[-1].content == "Book it."
    assert tool.return_value_as_string(value) == "hotel_agent: Book it."
    last_only = AgentTool(inner, return_value_as_last_message=True)
    inner_client = inner._model_client
    assert isinstance(inner_client, ReplayChatCompletionClient)
    inner_client.reset()
    value = await last_only.run_json({"task": "again"}, CancellationToken())
    assert last_only.return_value_as_string(value) == "Book it."


async def test_nested_agents_stream_inner_events_to_the_outer_run(replay: Replay, script: Any) -> None:
    hotel = AssistantAgent(
        "hotel_agent",
        replay([script.calls(("get_hotel", {"city": "Oslo"}))]),
        tools=[get_hotel],
        description="Finds hotels.",
    )
    planner = AssistantAgent(
        "planner",
        replay(
            [script.calls(("hotel_agent", {"task": "Find a hotel in Oslo"})), "Stay at Grand Hotel Oslo."]
        ),
        tools=[AgentTool(hotel)],
        reflect_on_tool_use=True,
    )
    items = [m async for m in planner.run_stream(task="Plan Oslo")]
    sources = [(type(m).__name__, getattr(m, "source", None)) for m in items]
    # The hotel agent's own task message, tool call and summary appear inside the planner's stream.
    assert ("TextMessage", "user") in sources[1:]
    assert ("ToolCallRequestEvent", "hotel_agent") in sources
    assert ("ToolCallSummaryMessage", "hotel_agent") in sources
    outer_exec = next(m for m in items if isinstance(m, ToolCallExecutionEvent) and m.source == "planner")
    assert outer_exec.content[0].content == "hotel_agent: Grand Hotel Oslo"
    final = items[-2]
    assert isinstance(final, TextMessage) and final.content == "Stay at Grand Hotel Oslo."


async def test_parallel_calls_to_one_agent_tool_are_serialised(replay: Replay, script: Any) -> None:
    inner = AssistantAgent("echo_agent", replay(["first", "second"]))
    outer = AssistantAgent(
        "boss",
        replay([script.calls(("echo_agent", {"task": "a"}), ("echo_agent", {"task": "b"}))]),
        tools=[AgentTool(inner, return_value_as_last_message=True)],
    )
    result = await asyncio.wait_for(outer.run(task="both"), timeout=10)
    summary = result.messages[-1]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert [r.content for r in summary.results] == ["first", "second"]
    # One turn after the other: the second turn saw the first in its context.
    context = await inner.model_context.get_messages()
    assert [m.content for m in context] == ["a", "first", "b", "second"]


async def test_spec_round_trip(replay: Replay) -> None:
    inner = AssistantAgent("hotel_agent", replay(["ok"]), description="Finds hotels.")
    tool = AgentTool(inner, return_value_as_last_message=True)
    spec = tool.dump_component()
    assert spec.provider == "muster.tools.AgentTool"
    assert spec.config["agent"]["config"]["name"] == "hotel_agent"
    loaded = AgentTool.load_component(spec)
    assert loaded.name == "hotel_agent" and loaded.dump_component().config == spec.config
    value = await loaded.run_json({"task": "x"}, CancellationToken())
    assert loaded.return_value_as_string(value) == "ok"
    assert isinstance(value.messages[1], TextMessage)
    assert not any(isinstance(m, ToolCallRequestEvent) for m in value.messages)
