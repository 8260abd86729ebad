"""OpenTelemetry spans following the GenAI semantic conventions, free when tracing is off.

``opentelemetry`` is an optional dependency and is never imported here: spans are made
only when the application has imported it (to set up a tracer provider); otherwise every
helper here yields ``None`` without doing any work.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

__all__ = ["trace_create_agent_span", "trace_invoke_agent_span", "trace_tool_span"]

_SYSTEM = "muster"


def _otel_trace() -> Any | None:
    # Only an application that set tracing up has imported OpenTelemetry; when nobody
    # has, the spans would go nowhere, so they are not even made (and nothing is imported).
    return sys.modules.get("opentelemetry.trace")


@contextmanager
def _span(name: str, attributes: dict[str, Any], tracer: Any | None, parent: Any | None) -> Iterator[Any]:
    trace = _otel_trace()
    if trace is None:
        yield None
        return
    tracer = tracer or trace.get_tracer("muster.core")
    context = trace.set_span_in_context(parent) if parent is not None else None
    clean = {key: value for key, value in attributes.items() if value is not None}
    with tracer.start_as_current_span(
        name, kind=trace.SpanKind.INTERNAL, context=context, attributes=clean
    ) as span:
        yield span


def _agent_span(
    operation: str,
    agent_name: str,
    tracer: Any | None,
    parent: Any | None,
    agent_id: str | None,
    agent_description: str | None,
) -> AbstractContextManager[Any]:
    attributes = {
        "gen_ai.operation.name": operation,
        "gen_ai.system": _SYSTEM,
        "gen_ai.agent.name": agent_name,
        "gen_ai.agent.id": agent_id,
        "gen_ai.agent.description": agent_description,
    }
    return _span(f"{operation} {agent_name}", attributes, tracer, parent)


@contextmanager
def trace_create_agent_span(
    agent_name: str,
    *,
    tracer: Any | None = None,
    parent: Any | None = None,
    agent_id: str | None = None,
    agent_description: str | None = None,
) -> Iterator[Any]:
    """Span around building an agent (``gen_ai.operation.name = create_agent``).

    Yields the span, or ``None`` when OpenTelemetry is not installed.
    """
    with _agent_span("create_agent", agent_name, tracer, parent, agent_id, agent_description) as span:
        yield span


@contextmanager
def trace_invoke_agent_span(
    agent_name: str,
    *,
    tracer: Any | None = None,
    parent: Any | None = None,
    agent_id: str | None = None,
    agent_description: str | None = None,
) -> Iterator[Any]:
    """Span around one agent run (``gen_ai.operation.name = invoke_agent``).

    Yields the span, or ``None`` when OpenTelemetry is not installed.
    """
    with _agent_span("invoke_agent", agent_name, tracer, parent, agent_id, agent_description) as span:
        yield span


@contextmanager
def trace_tool_span(
    tool_name: str,
    *,
    tracer: Any | None = None,
    parent: Any | None = None,
    tool_description: str | None = None,
    tool_call_id: str | None = None,
) -> Iterator[Any]:
    """Span around one tool execution (``gen_ai.operation.name = execute_tool``).

    Yields the span, or ``None`` when OpenTelemetry is not installed.
    """
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.system": _SYSTEM,
        "gen_ai.tool.name": tool_name,
        "gen_ai.tool.description": tool_description,
        "gen_ai.tool.call.id": tool_call_id,
    }
    with _span(f"execute_tool {tool_name}", attributes, tracer, parent) as span:
        yield span
