"""Trace span helpers and runtime tracing, checked with a recording fake tracer.

The OpenTelemetry SDK is not a dependency; only the API is needed for the helpers, and
a duck-typed tracer records what they ask for.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from muster.core import (
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    message_handler,
    trace_create_agent_span,
    trace_invoke_agent_span,
    trace_tool_span,
)


class RecordingTracer:
    def __init__(self) -> None:
        self.spans: list[tuple[str, dict[str, Any]]] = []

    @contextmanager
    def start_as_current_span(self, name: str, **kwargs: Any) -> Iterator[str]:
        self.spans.append((name, dict(kwargs.get("attributes") or {})))
        yield name


class RecordingProvider:
    def __init__(self) -> None:
        self.tracer = RecordingTracer()

    def get_tracer(self, name: str) -> RecordingTracer:
        return self.tracer


def test_span_helpers_pass_genai_attributes_to_the_tracer() -> None:
    pytest.importorskip("opentelemetry.trace")
    tracer = RecordingTracer()
    with trace_create_agent_span("writer", tracer=tracer, agent_id="w/1") as span:
        assert span == "create_agent writer"
    with trace_invoke_agent_span("writer", tracer=tracer):
        pass
    with trace_tool_span("search", tracer=tracer, tool_call_id="c1"):
        pass
    spans = dict(tracer.spans)
    assert spans["create_agent writer"]["gen_ai.agent.id"] == "w/1"
    assert spans["invoke_agent writer"]["gen_ai.operation.name"] == "invoke_agent"
    assert "gen_ai.agent.description" not in spans["invoke_agent writer"]  # None values dropped
    assert spans["execute_tool search"]["gen_ai.tool.call.id"] == "c1"


def test_span_helpers_work_with_the_global_api_tracer() -> None:
    pytest.importorskip("opentelemetry.trace")
    with trace_tool_span("search") as span:
        assert span is not None  # a non-recording span without an SDK configured


def test_span_helpers_are_noops_without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "opentelemetry.trace", raising=False)
    with trace_tool_span("search") as span:
        assert span is None
    with pytest.raises(KeyError), trace_invoke_agent_span("a"):
        raise KeyError("exceptions still propagate")
    assert "opentelemetry.trace" not in sys.modules  # nothing was imported to find out


class Echo(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("echo")

    @message_handler
    async def on_str(self, message: str, ctx: MessageContext) -> str:
        return message


async def test_runtime_traces_each_delivery_with_a_provider() -> None:
    provider = RecordingProvider()
    runtime = SingleThreadedAgentRuntime(tracer_provider=provider)
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    assert await runtime.send_message("hi", AgentId("echo", "k")) == "hi"
    await runtime.stop()
    ((name, attributes),) = provider.tracer.spans
    assert name == "process echo/k"
    assert attributes["messaging.message.rpc"] is True
