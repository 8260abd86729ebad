"""Agents report their turns, model calls and tool calls to an active recorder.

Real agent runs on replay models; the spans must describe what happened (who, which tool,
which result, in which turn), one span per logical call however many layers served it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from muster.agents import AssistantAgent
from muster.agents._agent_tool import AgentTool
from muster.base import Handoff
from muster.core.instrumentation import Recorder, Span, SpanKind
from muster.models.cache import ChatCompletionCache


def by_kind(recorder: Recorder, kind: SpanKind) -> list[Span]:
    return sorted((s for s in recorder.spans if s.kind is kind), key=lambda s: s.start)


async def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}"


async def test_a_run_with_a_tool_is_one_turn_two_model_calls_and_one_tool_call(
    replay: Any, script: Any
) -> None:
    client = replay([script.calls(("get_weather", {"city": "Paris"})), "It is sunny."])
    agent = AssistantAgent("weather", model_client=client, tools=[get_weather], reflect_on_tool_use=True)
    recorder = Recorder()
    with recorder.recording():
        result = await agent.run(task="Weather in Paris?")
    (turn,) = by_kind(recorder, SpanKind.AGENT_TURN)
    first, reflection = by_kind(recorder, SpanKind.MODEL_CALL)
    (tool,) = by_kind(recorder, SpanKind.TOOL_CALL)
    assert turn.name == "weather" and turn.attributes["agent_type"] == "AssistantAgent"
    assert turn.attributes["model_context"] == "UnboundedChatCompletionContext"
    assert all(span.parent is turn for span in (first, reflection, tool))
    assert first.end <= tool.start and tool.end <= reflection.start  # type: ignore[operator]
    assert first.layers == ["ReplayChatCompletionClient"] and first.attributes["tools_offered"] == 1
    assert first.attributes["response"] == "get_weather" and first.attributes["prompt_messages"] == 2
    assert reflection.attributes["reflection"] is True and reflection.attributes["response"] == "It is sunny."
    assert tool.name == "weather" and tool.layers == ["StaticStreamWorkbench"]
    assert tool.attributes["tool"] == "get_weather" and tool.attributes["call_id"] == "call_0"
    assert tool.attributes["result"] == "Sunny in Paris" and tool.status == "ok"
    # the turn carries the messages it produced, in order
    assert [e.attributes["type"] for e in turn.events] == [m.__class__.__name__ for m in result.messages[1:]]
    assert turn.events[-1].attributes["content"] == "It is sunny."


async def test_parallel_tool_calls_are_sibling_spans_that_overlap(replay: Any, script: Any) -> None:
    release = asyncio.Event()
    started: list[str] = []

    async def slow(name: str) -> str:
        """Waits until both calls have started."""
        started.append(name)
        if len(started) == 2:
            release.set()
        await release.wait()
        return name

    client = replay([script.calls(("slow", {"name": "a"}), ("slow", {"name": "b"})), "done"])
    agent = AssistantAgent("par", model_client=client, tools=[slow])
    recorder = Recorder()
    with recorder.recording():
        await agent.run(task="go")
    a, b = by_kind(recorder, SpanKind.TOOL_CALL)
    (turn,) = by_kind(recorder, SpanKind.AGENT_TURN)
    assert a.parent is turn and b.parent is turn
    assert a.start < b.end and b.start < a.end  # type: ignore[operator]


async def test_tool_errors_and_handoffs_are_recorded(replay: Any, script: Any) -> None:
    async def broken(city: str) -> str:
        """Always fails."""
        raise RuntimeError("backend down")

    client = replay([script.calls(("broken", {"city": "x"}), ("transfer_to_bob", {}))])
    agent = AssistantAgent("alice", model_client=client, tools=[broken], handoffs=[Handoff(target="bob")])
    recorder = Recorder()
    with recorder.recording():
        await agent.run(task="go")
    failed, handoff = by_kind(recorder, SpanKind.TOOL_CALL)
    assert failed.status == "error" and "backend down" in (failed.error or "")
    assert handoff.attributes["handoff"] is True and handoff.attributes["tool"] == "transfer_to_bob"
    assert handoff.layers == []  # a handoff never reaches a workbench


async def test_a_failing_model_marks_the_call_and_the_turn(replay: Any) -> None:
    agent = AssistantAgent("mute", model_client=replay([]))
    recorder = Recorder()
    with recorder.recording(), pytest.raises(ValueError):
        await agent.run(task="hello?")
    (turn,) = by_kind(recorder, SpanKind.AGENT_TURN)
    (call,) = by_kind(recorder, SpanKind.MODEL_CALL)
    assert call.status == "error" and turn.status == "error"
    assert turn.attributes["error_type"] == "ReplayExhaustedError"


async def test_an_agent_tool_nests_the_inner_agent_under_the_tool_call(replay: Any, script: Any) -> None:
    inner = AssistantAgent("helper", model_client=replay(["inner answer"]), description="helps")
    client = replay([script.calls(("helper", {"task": "help"})), "outer answer"])
    outer = AssistantAgent("boss", model_client=client, tools=[AgentTool(inner)], reflect_on_tool_use=True)
    recorder = Recorder()
    with recorder.recording():
        await outer.run(task="go")
    boss, helper = by_kind(recorder, SpanKind.AGENT_TURN)
    (tool,) = by_kind(recorder, SpanKind.TOOL_CALL)
    helper_call = next(s for s in by_kind(recorder, SpanKind.MODEL_CALL) if s.name == "helper")
    assert (boss.name, helper.name) == ("boss", "helper")
    assert tool.parent is boss and helper.parent is tool and helper_call.parent is helper


async def test_a_streaming_agent_with_a_cache_records_hits(replay: Any) -> None:
    cache = ChatCompletionCache(replay(["same answer"]))
    recorder = Recorder()
    with recorder.recording():
        for _ in range(2):
            agent = AssistantAgent("s", model_client=cache, model_client_stream=True)
            await agent.run(task="same question")
    miss, hit = by_kind(recorder, SpanKind.MODEL_CALL)
    assert miss.attributes["cached"] is False and miss.layers == [
        "ChatCompletionCache",
        "ReplayChatCompletionClient",
    ]
    assert hit.attributes["cached"] is True and hit.layers == ["ChatCompletionCache"]
    assert hit.attributes["streamed"] is True


async def test_run_stream_records_the_turn_and_its_messages(replay: Any) -> None:
    agent = AssistantAgent("s", model_client=replay(["hi there"]), model_client_stream=True)
    recorder = Recorder()
    with recorder.recording():
        items = [item async for item in agent.run_stream(task="hello")]
    (turn,) = by_kind(recorder, SpanKind.AGENT_TURN)
    assert turn.status == "ok" and turn.end is not None
    assert [e.attributes["content"] for e in turn.events] == ["hi there"]  # chunks are not events
    assert len(items) > 3
