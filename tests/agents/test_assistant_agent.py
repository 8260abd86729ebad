"""AssistantAgent behaviour on the replay client: replies, tools, handoffs, streaming, structure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from muster.agents import AssistantAgent
from muster.agents.exceptions import StructuredOutputError
from muster.base import Handoff, TaskResult
from muster.core import CancellationToken, FunctionCall, Image
from muster.memory import ListMemory, MemoryContent, MemoryMimeType
from muster.messages import (
    HandoffMessage,
    MemoryQueryEvent,
    ModelClientStreamingChunkEvent,
    MultiModalMessage,
    StructuredMessage,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
)
from muster.model_context import BufferedChatCompletionContext
from muster.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from muster.models.replay import ReplayChatCompletionClient
from muster.tools import FunctionTool, StaticWorkbench, ToolResult, Workbench

Replay = Callable[[Sequence[str | CreateResult]], ReplayChatCompletionClient]


async def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def kinds(result: TaskResult) -> list[str]:
    return [type(m).__name__ for m in result.messages]


async def test_plain_reply_uses_system_message_and_records_usage(replay: Replay) -> None:
    client = replay(["Hello there"])
    agent = AssistantAgent("helper", client, system_message="Be brief.")
    result = await agent.run(task="hi")
    assert kinds(result) == ["TextMessage", "TextMessage"]
    reply = result.messages[-1]
    assert isinstance(reply, TextMessage) and reply.content == "Hello there" and reply.source == "helper"
    assert reply.models_usage is not None and reply.models_usage.completion_tokens == 2
    sent = client.create_calls[0]["messages"]
    assert sent[0] == SystemMessage(content="Be brief.")
    assert sent[1] == UserMessage(content="hi", source="user")
    context = await agent.model_context.get_messages()
    assert context == [
        UserMessage(content="hi", source="user"),
        AssistantMessage(content="Hello there", source="helper"),
    ]


async def test_defaults_match_autogen(replay: Replay) -> None:
    agent = AssistantAgent("a", replay([]))
    assert agent.description == "An agent that provides assistance with ability to use tools."
    config = agent.dump_component().config
    assert config["system_message"].startswith(
        "You are a helpful AI assistant. Solve tasks using your tools."
    )
    assert config["reflect_on_tool_use"] is False
    assert config["max_tool_iterations"] == 1 and config["tool_call_summary_format"] == "{result}"
    assert list(agent.produced_message_types) == [TextMessage, ToolCallSummaryMessage, HandoffMessage]


async def test_single_tool_call_summarised(replay: Replay, script: Any) -> None:
    client = replay([script.calls(("get_weather", {"city": "Paris"}))])
    agent = AssistantAgent("w", client, tools=[get_weather])
    result = await agent.run(task="weather?")
    assert kinds(result) == [
        "TextMessage",
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "ToolCallSummaryMessage",
    ]
    request, execution, summary = result.messages[1:]
    assert isinstance(request, ToolCallRequestEvent) and request.models_usage == RequestUsage(3, 4)
    assert isinstance(execution, ToolCallExecutionEvent)
    assert execution.content == [
        FunctionExecutionResult(
            content="Sunny in Paris", name="get_weather", call_id="call_0", is_error=False
        )
    ]
    assert isinstance(summary, ToolCallSummaryMessage) and summary.content == "Sunny in Paris"
    assert summary.tool_calls == request.content and summary.results == execution.content
    # The model was offered the tool, and the context holds the call and its result.
    assert [t["name"] for t in client.create_calls[0]["tools"]] == ["get_weather"]
    context = await agent.model_context.get_messages()
    assert isinstance(context[1], AssistantMessage) and isinstance(context[2], FunctionExecutionResultMessage)


async def test_parallel_tool_calls_run_concurrently_and_keep_call_order(replay: Replay, script: Any) -> None:
    first_started, second_started = asyncio.Event(), asyncio.Event()

    async def first() -> str:
        """Needs second to be running too."""
        first_started.set()
        await second_started.wait()
        return "one"

    async def second() -> str:
        """Needs first to be running too."""
        second_started.set()
        await first_started.wait()
        return "two"

    client = replay([script.calls(("second", {}), ("first", {}))])
    agent = AssistantAgent("p", client, tools=[first, second])
    # Run sequentially, each tool would wait forever for the other.
    result = await asyncio.wait_for(agent.run(task="go"), timeout=10)
    summary = result.messages[-1]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert [r.content for r in summary.results] == ["two", "one"]
    assert summary.content == "two\none"


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ("{bad json", "Error: Expecting property name"),
        ('{"a": "x", "b": 2}', "a"),  # wrong type: the message names the bad field
        ("[1, 2]", "must be a JSON object"),
        ('{"a": 1}', "b"),  # missing field
    ],
)
async def test_malformed_arguments_become_error_results(
    replay: Replay, script: Any, arguments: str, fragment: str
) -> None:
    client = replay([script.calls(("add", arguments)), "recovered"])
    agent = AssistantAgent("m", client, tools=[add], reflect_on_tool_use=True)
    result = await agent.run(task="add")
    execution = next(m for m in result.messages if isinstance(m, ToolCallExecutionEvent))
    assert execution.content[0].is_error is True
    assert fragment in execution.content[0].content
    assert result.messages[-1].content == "recovered"  # type: ignore[union-attr]


async def test_empty_arguments_mean_no_arguments(replay: Replay, script: Any) -> None:
    def ping() -> str:
        """Answer pong."""
        return "pong"

    agent = AssistantAgent("e", replay([script.calls(("ping", ""))]), tools=[ping])
    result = await agent.run(task="ping")
    assert result.messages[-1].content == "pong"  # type: ignore[union-attr]


async def test_unknown_tool_and_failing_tool_do_not_crash(replay: Replay, script: Any) -> None:
    def broken(x: int) -> int:
        """Always fails."""
        raise RuntimeError("kaput")

    client = replay([script.calls(("nope", {}), ("broken", {"x": 1}), ("add", {"a": 1, "b": 2}))])
    agent = AssistantAgent("u", client, tools=[broken, add])
    result = await agent.run(task="go")
    summary = result.messages[-1]
    assert isinstance(summary, ToolCallSummaryMessage)
    errors = [r.is_error for r in summary.results]
    assert errors == [True, True, False]
    assert "'nope' not found" in summary.results[0].content
    assert "kaput" in summary.results[1].content
    assert summary.results[2].content == "3"


class _RaisingWorkbench(StaticWorkbench):
    async def call_tool(
        self,
        name: str,
        arguments: Any = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        raise OSError("connection to tool server lost")


async def test_workbench_that_raises_gives_an_error_result(replay: Replay, script: Any) -> None:
    workbench = _RaisingWorkbench([FunctionTool(add, description="Add.")])
    agent = AssistantAgent("r", replay([script.calls(("add", {"a": 1, "b": 1}))]), workbench=workbench)
    result = await agent.run(task="x")
    summary = result.messages[-1]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert summary.results[0].is_error and "connection to tool server lost" in summary.results[0].content


async def test_summary_format_and_formatter(replay: Replay, script: Any) -> None:
    reply = script.calls(("add", {"a": 2, "b": 3}))
    agent = AssistantAgent(
        "f",
        replay([reply]),
        tools=[add],
        tool_call_summary_format="{tool_name}({arguments}) -> {result} err={is_error}",
    )
    result = await agent.run(task="x")
    assert result.messages[-1].content == 'add({"a": 2, "b": 3}) -> 5 err=False'  # type: ignore[union-attr]

    def formatter(call: FunctionCall, res: FunctionExecutionResult) -> str:
        return f"{call.name}!{res.content}"

    agent = AssistantAgent("g", replay([reply]), tools=[add], tool_call_summary_formatter=formatter)
    result = await agent.run(task="x")
    assert result.messages[-1].content == "add!5"  # type: ignore[union-attr]


async def test_reflection_makes_a_second_call_without_tools(replay: Replay, script: Any) -> None:
    client = replay([script.calls(("get_weather", {"city": "Rome"})), "It is sunny in Rome."])
    agent = AssistantAgent("w", client, tools=[get_weather], reflect_on_tool_use=True)
    result = await agent.run(task="weather?")
    assert kinds(result)[-1] == "TextMessage"
    assert result.messages[-1].content == "It is sunny in Rome."  # type: ignore[union-attr]
    assert client.create_calls[1]["tool_choice"] == "none"
    last_prompt = client.create_calls[1]["messages"]
    assert isinstance(last_prompt[-1], FunctionExecutionResultMessage)


async def test_reflection_that_returns_tool_calls_is_an_error(replay: Replay, script: Any) -> None:
    reply = script.calls(("add", {"a": 1, "b": 1}))
    agent = AssistantAgent("w", replay([reply, reply]), tools=[add], reflect_on_tool_use=True)
    with pytest.raises(RuntimeError, match="no valid text response"):
        await agent.run(task="x")


async def test_max_tool_iterations_loops_until_text(replay: Replay, script: Any) -> None:
    client = replay(
        [
            script.calls(("add", {"a": 1, "b": 1})),
            script.calls(("add", {"a": 2, "b": 2})),
            "The answer is 4.",
        ]
    )
    agent = AssistantAgent("loop", client, tools=[add], max_tool_iterations=5)
    result = await agent.run(task="x")
    assert kinds(result) == [
        "TextMessage",
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "TextMessage",
    ]
    assert len(client.create_calls) == 3


async def test_max_tool_iterations_caps_the_loop(replay: Replay, script: Any) -> None:
    reply = script.calls(("add", {"a": 1, "b": 1}))
    client = replay([reply, reply, reply])
    agent = AssistantAgent("loop", client, tools=[add], max_tool_iterations=2)
    result = await agent.run(task="x")
    assert kinds(result).count("ToolCallRequestEvent") == 2
    assert isinstance(result.messages[-1], ToolCallSummaryMessage)
    assert len(client.create_calls) == 2
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        AssistantAgent("bad", client, tools=[add], max_tool_iterations=0)


async def test_handoff_with_tool_results_as_context(replay: Replay, script: Any) -> None:
    client = replay([script.calls(("add", {"a": 1, "b": 2}), ("transfer_to_bob", {}), thought="bob knows")])
    agent = AssistantAgent("alice", client, tools=[add], handoffs=["bob"])
    result = await agent.run(task="x")
    handoff = result.messages[-1]
    assert isinstance(handoff, HandoffMessage)
    assert handoff.target == "bob" and handoff.source == "alice"
    assert handoff.content == "Transferred to bob, adopting the role of bob immediately."
    assert [type(m).__name__ for m in handoff.context] == [
        "AssistantMessage",
        "FunctionExecutionResultMessage",
    ]
    assert isinstance(handoff.context[0], AssistantMessage) and handoff.context[0].thought == "bob knows"
    assert [c.name for c in handoff.context[0].content] == ["add"]  # type: ignore[union-attr]
    offered = [t["name"] for t in client.create_calls[0]["tools"]]
    assert offered == ["add", "transfer_to_bob"]
    assert kinds(result)[1] == "ThoughtEvent"


async def test_handoff_alone_carries_the_thought(replay: Replay, script: Any) -> None:
    custom = Handoff(target="carol", message="Over to you, Carol.")
    client = replay([script.calls(("transfer_to_carol", {}), thought="not mine")])
    result = await AssistantAgent("a", client, handoffs=[custom]).run(task="x")
    handoff = result.messages[-1]
    assert isinstance(handoff, HandoffMessage) and handoff.content == "Over to you, Carol."
    assert handoff.context == [AssistantMessage(content="not mine", source="a")]


async def test_multiple_handoffs_warn_and_take_the_first(replay: Replay, script: Any) -> None:
    client = replay([script.calls(("transfer_to_b", {}), ("transfer_to_c", {}))])
    agent = AssistantAgent("a", client, handoffs=["b", "c"])
    with pytest.warns(UserWarning, match="Multiple handoffs"):
        result = await agent.run(task="x")
    assert isinstance(result.messages[-1], HandoffMessage) and result.messages[-1].target == "b"


async def test_received_handoff_context_enters_the_model_context(replay: Replay) -> None:
    agent = AssistantAgent("bob", replay(["done"]))
    prior = [
        AssistantMessage(content=[FunctionCall(id="1", name="add", arguments="{}")], source="alice"),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(content="3", name="add", call_id="1")]
        ),
    ]
    handoff = HandoffMessage(content="yours", target="bob", source="alice", context=prior)
    await agent.run(task=handoff)
    context = await agent.model_context.get_messages()
    assert context[:2] == prior
    assert context[2] == UserMessage(content="yours", source="alice")


def test_construction_checks(replay: Replay) -> None:
    plain = ReplayChatCompletionClient(["x"])  # no function calling
    with pytest.raises(ValueError, match="does not support function calling"):
        AssistantAgent("a", plain, tools=[add])
    with pytest.raises(ValueError, match="needed for handoffs"):
        AssistantAgent("a", plain, handoffs=["b"])
    client = replay([])
    with pytest.raises(ValueError, match="Tool names must be unique"):
        AssistantAgent("a", client, tools=[add, add])
    with pytest.raises(ValueError, match="unique from tool names"):
        AssistantAgent("a", client, tools=[FunctionTool(add, description="x", name="b")], handoffs=["b"])
    with pytest.raises(ValueError, match="Handoff names must be unique"):
        AssistantAgent("a", client, handoffs=["b", "b"])
    with pytest.raises(ValueError, match="cannot be used with a workbench"):
        AssistantAgent("a", client, tools=[add], workbench=StaticWorkbench([]))
    with pytest.raises(TypeError):
        AssistantAgent("a", client, memory=ListMemory())  # type: ignore[arg-type]


async def test_streaming_chunks_share_the_final_message_id(replay: Replay) -> None:
    agent = AssistantAgent("s", replay(["one two three"]), model_client_stream=True)
    items = [m async for m in agent.run_stream(task="count")]
    chunks = [m for m in items if isinstance(m, ModelClientStreamingChunkEvent)]
    assert "".join(c.content for c in chunks) == "one two three"
    final = items[-2]
    assert isinstance(final, TextMessage) and final.content == "one two three"
    assert {c.full_message_id for c in chunks} == {final.id}
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert not any(isinstance(m, ModelClientStreamingChunkEvent) for m in result.messages)


async def test_streaming_reflection(replay: Replay, script: Any) -> None:
    client = replay([script.calls(("add", {"a": 1, "b": 1})), "two it is"])
    agent = AssistantAgent("s", client, tools=[add], model_client_stream=True, reflect_on_tool_use=True)
    items = [m async for m in agent.run_stream(task="x")]
    chunks = [m for m in items if isinstance(m, ModelClientStreamingChunkEvent)]
    final = items[-2]
    assert isinstance(final, TextMessage) and {c.full_message_id for c in chunks} == {final.id}


async def test_thought_becomes_an_event(replay: Replay, script: Any) -> None:
    agent = AssistantAgent("t", replay([script.text("42", thought="Let me think.")]))
    result = await agent.run(task="?")
    assert kinds(result) == ["TextMessage", "ThoughtEvent", "TextMessage"]
    thought = result.messages[1]
    assert isinstance(thought, ThoughtEvent) and thought.content == "Let me think."
    assert thought.id != result.messages[2].id
    context = await agent.model_context.get_messages()
    assert context[-1] == AssistantMessage(content="42", source="t", thought="Let me think.")


class Verdict(BaseModel):
    label: str
    score: float


async def test_structured_output(replay: Replay, script: Any) -> None:
    client = replay(['{"label": "good", "score": 0.9}'])
    agent = AssistantAgent(
        "judge", client, output_content_type=Verdict, output_content_type_format="{label} ({score})"
    )
    result = await agent.run(task="rate")
    reply = result.messages[-1]
    assert isinstance(reply, StructuredMessage)
    assert reply.content == Verdict(label="good", score=0.9)
    assert reply.to_text() == "good (0.9)"
    assert reply.type == "StructuredMessage[Verdict]"
    assert client.create_calls[0]["json_output"] is Verdict
    assert StructuredMessage in agent.produced_message_types


async def test_structured_output_reflects_on_tools_by_default(replay: Replay, script: Any) -> None:
    client = replay([script.calls(("add", {"a": 1, "b": 1})), '{"label": "sum", "score": 2}'])
    agent = AssistantAgent("judge", client, tools=[add], output_content_type=Verdict)
    result = await agent.run(task="rate")
    reply = result.messages[-1]
    assert isinstance(reply, StructuredMessage) and reply.content == Verdict(label="sum", score=2)


async def test_structured_output_invalid_json_raises_a_typed_error_and_leaves_the_context(
    replay: Replay,
) -> None:
    memory = ListMemory(memory_contents=[MemoryContent(content="be strict", mime_type=MemoryMimeType.TEXT)])
    client = replay(['{"label": "ok", "score": 1}', '{"label": "good", "score": "high"}'])
    agent = AssistantAgent("judge", client, output_content_type=Verdict, memory=[memory])
    await agent.run(task="rate this")
    before = await agent.model_context.get_messages()

    with pytest.raises(StructuredOutputError) as caught:
        await agent.run(task="rate that")
    error = caught.value
    assert isinstance(error, ValueError)  # AutoGen raises pydantic's ValidationError, a ValueError
    assert (error.agent_name, error.raw_text) == ("judge", '{"label": "good", "score": "high"}')
    assert isinstance(error.validation_error, ValidationError) and error.__cause__ is error.validation_error
    assert str(error) == (
        "Agent 'judge' failed: reply does not match Verdict (1 validation error; first at score: "
        "Input should be a valid number, unable to parse string as a number); "
        """reply was '{"label": "good", "score": "high"}'"""
    )
    assert await agent.model_context.get_messages() == before


async def test_invalid_structured_reflection_after_tools_also_leaves_the_context(
    replay: Replay, script: Any
) -> None:
    client = replay([script.calls(("add", {"a": 1, "b": 2})), "not json"])
    agent = AssistantAgent("judge", client, tools=[add], output_content_type=Verdict)
    with pytest.raises(StructuredOutputError, match="Invalid JSON"):
        await agent.run(task="rate")
    assert await agent.model_context.get_messages() == []


async def test_memory_enriches_the_context(replay: Replay) -> None:
    memory = ListMemory(
        memory_contents=[MemoryContent(content="The user likes metric units.", mime_type=MemoryMimeType.TEXT)]
    )
    client = replay(["20 degrees Celsius"])
    agent = AssistantAgent("m", client, memory=[memory])
    result = await agent.run(task="temperature?")
    assert kinds(result) == ["TextMessage", "MemoryQueryEvent", "TextMessage"]
    event = result.messages[1]
    assert isinstance(event, MemoryQueryEvent) and event.content[0].content == "The user likes metric units."
    prompt_text = " ".join(str(m.content) for m in client.create_calls[0]["messages"])
    assert "metric units" in prompt_text


async def test_images_are_removed_for_models_without_vision(replay: Replay) -> None:
    client = replay(["a red pixel"])
    agent = AssistantAgent("v", client)
    image = Image.from_base64(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    )
    await agent.run(task=MultiModalMessage(content=["what is this?", image], source="user"))
    sent = client.create_calls[0]["messages"][-1]
    assert sent == UserMessage(content="what is this?\n<image>", source="user")


async def test_plain_text_prompts_are_fresh_lists_and_a_later_image_is_still_removed(replay: Replay) -> None:
    # The all-text fast path must hand the model a list of its own (here: no system
    # message, so the context's list would otherwise be passed on) and must not hide an
    # image that arrives after a text-only history.
    client = replay(["first", "second"])
    agent = AssistantAgent("v", client, system_message=None)
    await agent.run(task="hello")
    sent = client.create_calls[0]["messages"]
    sent.append(UserMessage(content="not in the context", source="test"))
    assert [m.content for m in await agent.model_context.get_messages()] == ["hello", "first"]
    image = Image.from_base64(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    )
    await agent.run(task=MultiModalMessage(content=["and this?", image], source="user"))
    second = client.create_calls[1]["messages"]
    assert [m.content for m in second] == ["hello", "first", "and this?\n<image>"]


async def test_state_round_trip_and_reset(replay: Replay, script: Any) -> None:
    agent = AssistantAgent("s", replay([script.calls(("add", {"a": 1, "b": 2})), "three"]), tools=[add])
    await agent.run(task="1+2")
    await agent.run(task="so?")
    state = await agent.save_state()
    assert state["type"] == "AssistantAgentState" and len(state["llm_context"]["messages"]) == 5
    other = AssistantAgent("s", replay([]), tools=[add])
    await other.load_state(state)
    assert await other.model_context.get_messages() == await agent.model_context.get_messages()
    await other.on_reset(CancellationToken())
    assert await other.model_context.get_messages() == []


async def test_component_round_trip(replay: Replay, script: Any) -> None:
    memory = ListMemory(memory_contents=[MemoryContent(content="fact", mime_type="text/plain")])
    agent = AssistantAgent(
        "c",
        replay([script.calls(("add", {"a": 4, "b": 5})), '{"label": "nine", "score": 9}']),
        tools=[add],
        handoffs=[Handoff(target="boss", message="escalate")],
        model_context=BufferedChatCompletionContext(buffer_size=4),
        memory=[memory],
        description="adds",
        system_message="sys",
        reflect_on_tool_use=True,
        max_tool_iterations=2,
        tool_call_summary_format="{tool_name}: {result}",
        output_content_type=Verdict,
        output_content_type_format="{label}",
        metadata={"team": "math"},
    )
    spec = agent.dump_component()
    assert spec.provider == "muster.agents.AssistantAgent" and spec.component_type == "agent"
    assert "tools" not in spec.config  # tools travel inside the workbench spec, as in AutoGen
    loaded = AssistantAgent.load_component(spec.model_dump())
    assert loaded.dump_component().config == spec.config
    assert loaded.name == "c" and loaded.description == "adds"
    # The loaded agent's tools still work (the client script is part of the spec).
    loaded_again = AssistantAgent.load_component(spec)
    result = await loaded_again.run(task="x")
    assert "9" in result.messages[kinds(result).index("ToolCallExecutionEvent")].to_text()
    assert isinstance(result.messages[-1], StructuredMessage) and result.messages[-1].to_text() == "nine"


async def test_autogen_spec_loads(replay: Replay) -> None:
    spec = {
        "provider": "autogen_agentchat.agents.AssistantAgent",
        "component_type": "agent",
        "version": 2,
        "component_version": 2,
        "config": {
            "name": "assistant",
            "model_client": {
                "provider": "autogen_ext.models.replay.ReplayChatCompletionClient",
                "component_type": "replay_chat_completion_client",
                "config": {"chat_completions": ["hi"]},
            },
            "description": "d",
            "system_message": "s",
            "reflect_on_tool_use": False,
            "tool_call_summary_format": "{result}",
        },
    }
    agent = AssistantAgent.load_component(spec)
    result = await agent.run(task="hello")
    assert result.messages[-1].content == "hi"  # type: ignore[union-attr]


class WeatherAgent(AssistantAgent):
    """The seed's pattern: a subclass whose tool is one of its own (async) methods."""

    def __init__(self, model_client: ReplayChatCompletionClient) -> None:
        self.unit = "C"
        super().__init__(name="weather_agent", model_client=model_client, tools=[self.get_weather])

    async def get_weather(self, city: str) -> str:
        """Get the weather for a city."""
        return f"{city}: 21 {self.unit}"


async def test_subclass_with_bound_method_tool(replay: Replay, script: Any) -> None:
    agent = WeatherAgent(replay([script.calls(("get_weather", {"city": "Oslo"}))]))
    result = await agent.run(task="weather in Oslo")
    assert result.messages[-1].content == "Oslo: 21 C"  # type: ignore[union-attr]
    second = WeatherAgent(replay([script.calls(("get_weather", {"city": "Rome"}))]))
    second.unit = "F"
    result = await second.run(task="weather in Rome")
    assert result.messages[-1].content == "Rome: 21 F"  # type: ignore[union-attr]


async def test_plain_function_tools_are_shared_between_agents(replay: Replay) -> None:
    first = AssistantAgent("a", replay([]), tools=[add])
    second = AssistantAgent("b", replay([]), tools=[add])
    assert first._tools[0] is second._tools[0]
    assert first._tools[0].description == "Add two integers."


class _ListingWorkbench(Workbench):
    """A workbench that is not a StaticWorkbench: one tool, calls recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def list_tools(self) -> list[Any]:
        return [
            {"name": "lookup", "description": "Look up", "parameters": {"type": "object", "properties": {}}}
        ]

    async def call_tool(
        self,
        name: str,
        arguments: Any = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        from muster.tools import TextResultContent

        self.calls.append((name, arguments))
        return ToolResult(name=name, result=[TextResultContent(content="found it")])

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def reset(self) -> None: ...
    async def save_state(self) -> dict[str, Any]:
        return {}

    async def load_state(self, state: Any) -> None: ...


async def test_custom_workbench(replay: Replay, script: Any) -> None:
    workbench = _ListingWorkbench()
    agent = AssistantAgent("w", replay([script.calls(("lookup", {"q": 1}))]), workbench=[workbench])
    result = await agent.run(task="x")
    assert workbench.calls == [("lookup", {"q": 1})]
    assert result.messages[-1].content == "found it"  # type: ignore[union-attr]


async def test_cancellation_propagates(replay: Replay, script: Any) -> None:
    started = asyncio.Event()

    async def slow() -> str:
        """Takes forever."""
        started.set()
        await asyncio.Event().wait()
        return "never"

    agent = AssistantAgent("c", replay([script.calls(("slow", {}))]), tools=[slow])
    token = CancellationToken()
    task = asyncio.ensure_future(agent.run(task="x", cancellation_token=token))
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_model_info_typed_dict_is_what_the_client_reports(replay: Replay) -> None:
    info: ModelInfo = replay([]).model_info
    assert info["function_calling"] is True
