"""Tracing: a team run becomes the GenAI span tree run -> turn -> chat / execute_tool.

The spans go to OpenTelemetry's in-memory exporter through a real SDK tracer provider;
the team runs on replay models, so token counts come from the replay model's usage.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from muster.agents import AssistantAgent  # noqa: E402
from muster.core import FunctionCall  # noqa: E402
from muster.models import CreateResult, RequestUsage  # noqa: E402
from muster.models.replay import ReplayChatCompletionClient  # noqa: E402
from muster.ops import Tracing, enable_tracing, otlp_traces_endpoint  # noqa: E402
from muster.teams import RoundRobinGroupChat  # noqa: E402
from muster.tools import FunctionTool  # noqa: E402

TOOLS_INFO = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


@pytest.fixture
def exported() -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Tracing(provider), exporter
    provider.shutdown()


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def explode(city: str) -> str:
    """A tool that fails."""
    raise RuntimeError(f"no weather station in {city}")


def tool_call(name: str, call_id: str, arguments: str) -> CreateResult:
    return CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id=call_id, name=name, arguments=arguments)],
        usage=RequestUsage(prompt_tokens=11, completion_tokens=7),
        cached=False,
    )


def team(tool: Any = get_weather) -> RoundRobinGroupChat:
    forecaster = AssistantAgent(
        "forecaster",
        model_client=ReplayChatCompletionClient(
            chat_completions=[
                tool_call(tool.__name__, "call_1", '{"city": "Oslo"}'),
                CreateResult(
                    finish_reason="stop",
                    content="It is sunny in Oslo.",
                    usage=RequestUsage(prompt_tokens=23, completion_tokens=5),
                    cached=False,
                ),
            ],
            model_info=TOOLS_INFO,
        ),
        tools=[FunctionTool(tool, description=tool.__doc__ or "")],
        reflect_on_tool_use=True,
    )
    writer = AssistantAgent(
        "writer", model_client=ReplayChatCompletionClient(chat_completions=["Forecast: sunny."])
    )
    return RoundRobinGroupChat([forecaster, writer], max_turns=2)


def by_name(spans: tuple[ReadableSpan, ...] | list[ReadableSpan]) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        found.setdefault(span.name, []).append(span)
    return found


def parent_of(span: ReadableSpan, spans: Any) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


async def test_a_team_run_is_a_tree_of_genai_spans(exported: tuple[Tracing, InMemorySpanExporter]) -> None:
    tracing, exporter = exported
    weather = team()
    with tracing.run("weather", conversation_id="thread-1") as traced:
        result = await weather.run(task="Weather in Oslo?")
    clients = {p.name: p._model_client for p in weather.participants}  # type: ignore[union-attr]
    assert result.messages[-1].content == "Forecast: sunny."
    spans = exporter.get_finished_spans()
    named = by_name(spans)
    assert sorted(named) == [
        "chat replay",
        "execute_tool get_weather",
        "invoke_agent forecaster",
        "invoke_agent writer",
        "invoke_workflow weather",
    ]
    (run,) = named["invoke_workflow weather"]
    assert run.parent is None
    assert format(run.context.trace_id, "032x") == traced.trace_id
    assert {s.context.trace_id for s in spans} == {run.context.trace_id}
    assert run.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert run.attributes["gen_ai.workflow.name"] == "weather"
    assert run.attributes["gen_ai.conversation.id"] == "thread-1"
    assert run.attributes["gen_ai.usage.input_tokens"] > 0

    (forecaster,) = named["invoke_agent forecaster"]
    (writer,) = named["invoke_agent writer"]
    for turn, agent in ((forecaster, "forecaster"), (writer, "writer")):
        assert parent_of(turn, spans) is run
        assert turn.kind is SpanKind.INTERNAL
        assert turn.attributes["gen_ai.operation.name"] == "invoke_agent"
        assert turn.attributes["gen_ai.agent.name"] == agent
        assert turn.attributes["gen_ai.provider.name"] == "replay"
        assert turn.status.status_code is StatusCode.UNSET

    chats = named["chat replay"]
    assert [parent_of(c, spans) for c in chats] == [forecaster, forecaster, writer]
    first, reflection, written = chats
    assert first.kind is SpanKind.CLIENT
    assert first.attributes["gen_ai.operation.name"] == "chat"
    assert first.attributes["gen_ai.provider.name"] == first.attributes["gen_ai.system"] == "replay"
    assert first.attributes["gen_ai.request.model"] == first.attributes["gen_ai.response.model"] == "replay"
    # The replay model's own accounting: prompt words counted, completions as scripted.
    assert first.attributes["gen_ai.usage.output_tokens"] == 7
    assert first.attributes["gen_ai.response.finish_reasons"] == ("function_calls",)
    assert first.attributes["gen_ai.agent.name"] == "forecaster"
    assert reflection.attributes["gen_ai.usage.output_tokens"] == 5
    for turn, chat_spans in ((forecaster, [first, reflection]), (writer, [written])):
        usage = clients[turn.attributes["gen_ai.agent.name"]].total_usage()
        assert [usage.prompt_tokens, usage.completion_tokens] == [
            sum(c.attributes["gen_ai.usage.input_tokens"] for c in chat_spans),
            sum(c.attributes["gen_ai.usage.output_tokens"] for c in chat_spans),
        ]
        assert turn.attributes["gen_ai.usage.input_tokens"] == usage.prompt_tokens
        assert turn.attributes["gen_ai.usage.output_tokens"] == usage.completion_tokens
    total = sum(c.total_usage().prompt_tokens for c in clients.values())
    assert run.attributes["gen_ai.usage.input_tokens"] == total

    (tool,) = named["execute_tool get_weather"]
    assert parent_of(tool, spans) is forecaster
    assert tool.kind is SpanKind.INTERNAL
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "get_weather"
    assert tool.attributes["gen_ai.tool.call.id"] == "call_1"
    assert tool.attributes["gen_ai.tool.type"] == "function"
    assert "gen_ai.tool.call.arguments" not in tool.attributes  # content is opt-in
    # Children inside their parents, in the order the run made them.
    assert run.start_time <= forecaster.start_time <= first.start_time <= first.end_time
    assert first.end_time <= tool.start_time <= tool.end_time <= reflection.start_time
    assert forecaster.end_time <= writer.start_time and writer.end_time <= run.end_time


async def test_a_failing_tool_marks_its_span_with_error_type(
    exported: tuple[Tracing, InMemorySpanExporter],
) -> None:
    tracing, exporter = exported
    with tracing.run("weather"):
        await team(explode).run(task="Weather in Oslo?")
    (tool,) = by_name(exporter.get_finished_spans())["execute_tool explode"]
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.attributes["error.type"] == "ToolError"
    assert "no weather station in Oslo" in (tool.status.description or "")


async def test_a_failing_model_call_fails_its_chat_turn_and_run(
    exported: tuple[Tracing, InMemorySpanExporter],
) -> None:
    tracing, exporter = exported
    agent = AssistantAgent("mute", model_client=ReplayChatCompletionClient(chat_completions=[]))
    with pytest.raises(Exception) as raised, tracing.run("solo"):
        await agent.run(task="say something")
    error = type(raised.value).__name__
    named = by_name(exporter.get_finished_spans())
    (chat,) = named["chat"]  # the replay client never said which model: it had nothing to say
    (turn,) = named["invoke_agent mute"]
    (run,) = named["invoke_workflow solo"]
    assert chat.status.status_code is StatusCode.ERROR
    assert chat.attributes["error.type"] == "ReplayExhaustedError"
    assert turn.status.status_code is StatusCode.ERROR and turn.attributes["error.type"]
    assert run.status.status_code is StatusCode.ERROR and run.attributes["error.type"] == error
    assert [e.name for e in run.events] == ["exception"]


async def test_content_is_captured_only_when_asked() -> None:
    exporter = InMemorySpanExporter()
    tracing = enable_tracing(exporter=exporter, capture_content=True)
    try:
        with tracing.run("weather"):
            await team().run(task="Weather in Oslo?")
        assert tracing.force_flush()
        named = by_name(exporter.get_finished_spans())
    finally:
        tracing.shutdown()
    (tool,) = named["execute_tool get_weather"]
    assert tool.attributes["gen_ai.tool.call.arguments"] == '{"city": "Oslo"}'
    assert tool.attributes["gen_ai.tool.call.result"] == "sunny in Oslo"
    (writer,) = named["invoke_agent writer"]
    (event,) = writer.events
    assert event.attributes["muster.message.content"] == "Forecast: sunny."
    assert event.attributes["muster.message.source"] == "writer"
    assert writer.resource.attributes["service.name"] == "muster"


async def test_a_run_continues_a_w3c_traceparent(exported: tuple[Tracing, InMemorySpanExporter]) -> None:
    tracing, exporter = exported
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with tracing.run("weather", traceparent=parent) as traced:
        await team().run(task="Weather in Oslo?")
    assert traced.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert traced.traceparent == f"00-{traced.trace_id}-{traced.span_id}-01"
    (run,) = by_name(exporter.get_finished_spans())["invoke_workflow weather"]
    assert run.parent is not None and format(run.parent.span_id, "016x") == "b7ad6b7169203331"
    assert run.parent.is_remote


async def test_nothing_is_traced_outside_a_run_block(exported: tuple[Tracing, InMemorySpanExporter]) -> None:
    _, exporter = exported
    await team().run(task="Weather in Oslo?")
    assert exporter.get_finished_spans() == ()


def test_the_endpoint_comes_from_the_argument_or_the_standard_variables() -> None:
    assert otlp_traces_endpoint("http://c:4318", {}) == "http://c:4318/v1/traces"
    assert otlp_traces_endpoint("http://c:4318/v1/traces/", {}) == "http://c:4318/v1/traces"
    assert otlp_traces_endpoint(None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://e:4318/"}) == (
        "http://e:4318/v1/traces"
    )
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://e:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t/x"}
    assert otlp_traces_endpoint(None, env) == "http://t/x"
    assert otlp_traces_endpoint(None, {}) is None


def test_enable_tracing_refuses_to_send_to_a_default_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    with pytest.raises(ValueError, match="nowhere to send spans"):
        enable_tracing()
