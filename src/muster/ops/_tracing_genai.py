"""What a muster instrumentation span is called, and says, in the OpenTelemetry GenAI conventions.

Pure data, no OpenTelemetry import: :mod:`muster.ops._tracing` asks these functions for a
span's name, kind and attributes when the span ends (the call sites add their facts after
the span opens, so only then is, say, the tool's name known).

The names follow the GenAI semantic conventions (Development status, checked against the
``semantic-conventions`` registry of 2025/2026):

========================  =========================================  ==========
muster span               OpenTelemetry span name                    kind
========================  =========================================  ==========
a run (``Tracing.run``)   ``invoke_workflow {gen_ai.workflow.name}`` INTERNAL
an agent turn             ``invoke_agent {gen_ai.agent.name}``       INTERNAL
a model call              ``chat {gen_ai.request.model}``            CLIENT
a tool call               ``execute_tool {gen_ai.tool.name}``        INTERNAL
========================  =========================================  ==========

``gen_ai.provider.name`` (the current name) and ``gen_ai.system`` (the name before
semantic conventions 1.37, which many backends still key on) carry the same value.
muster's own facts go under ``muster.*``. Message and tool-call content is opt-in
(``capture_content``): it may hold personal data.
"""

from __future__ import annotations

from collections.abc import Mapping

from muster.core.instrumentation import AttributeValue, Span, SpanKind

__all__ = [
    "OPERATION",
    "OTelValue",
    "PROVIDERS",
    "attributes_of",
    "error_type_of",
    "is_client_call",
    "name_of",
]

OTelValue = str | bool | int | float | list[str]
"""What an OpenTelemetry attribute may hold (the subset muster sets)."""

OPERATION = {
    SpanKind.AGENT_TURN: "invoke_agent",
    SpanKind.MODEL_CALL: "chat",
    SpanKind.TOOL_CALL: "execute_tool",
}
"""``gen_ai.operation.name`` of each kind of instrumentation span."""

PROVIDERS = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "anthropic": "anthropic",
    "ollama": "ollama",
    "replay": "replay",
}
"""muster's provider names -> the conventions' well-known ``gen_ai.provider.name`` values."""

CONTENT_CHARS = 2000
"""Characters of a tool call's arguments or result kept when content is captured."""


def is_client_call(span: Span) -> bool:
    """Whether the span is a model call: kind ``CLIENT`` (decided when it opens, before the
    call site says which client it is, so the in-process replay client's calls are too)."""
    return span.kind is SpanKind.MODEL_CALL


def name_of(span: Span) -> str:
    """The span's conventional name (``chat gpt-4o``, ``execute_tool get_weather``...)."""
    operation = OPERATION[span.kind]
    subject: AttributeValue
    if span.kind is SpanKind.AGENT_TURN:
        subject = span.attributes.get("agent") or span.name
    elif span.kind is SpanKind.MODEL_CALL:
        subject = _request_model(span.attributes)
    else:
        subject = span.attributes.get("tool")
    return f"{operation} {subject}" if subject else operation


def provider_of(span: Span) -> str:
    """``gen_ai.provider.name`` of a model call: a well-known value, else muster's own name."""
    provider = span.attributes.get("provider")
    if isinstance(provider, str) and provider:
        return PROVIDERS.get(provider.lower(), provider.lower())
    client = span.attributes.get("client")  # a client without provider instrumentation
    return str(client) if client else "_OTHER"


def error_type_of(span: Span) -> str | None:
    """``error.type`` of a failed span (the exception's class, or ``ToolError``); else ``None``."""
    if span.status != "error":
        return None
    given = span.attributes.get("error_type")
    if isinstance(given, str) and given:
        return given
    return (span.error or "_OTHER").partition(":")[0] or "_OTHER"


def attributes_of(span: Span, *, capture_content: bool = False) -> dict[str, OTelValue]:
    """The span's attributes in the conventions' names (``None`` facts left out)."""
    facts = span.attributes
    found: dict[str, AttributeValue | list[str]] = {
        "gen_ai.operation.name": OPERATION[span.kind],
        "gen_ai.agent.name": facts.get("agent") or (span.name if span.kind is SpanKind.AGENT_TURN else None),
        "error.type": error_type_of(span),
    }
    if span.kind is SpanKind.AGENT_TURN:
        found["muster.agent.type"] = facts.get("agent_type")
        found["muster.agent.team"] = facts.get("team_participant") or None
    elif span.kind is SpanKind.MODEL_CALL:
        found.update(_model_call(span))
    else:
        found.update(_tool_call(facts, capture_content))
    if span.status == "cancelled":
        found["muster.cancelled"] = True
    return {key: value for key, value in found.items() if value is not None}  # type: ignore[misc]


def _request_model(facts: Mapping[str, AttributeValue]) -> AttributeValue:
    # A client that does not report the model it asked for (the replay client) is described
    # by the model that answered.
    return facts.get("requested_model") or facts.get("model")


def _model_call(span: Span) -> dict[str, AttributeValue | list[str]]:
    facts = span.attributes
    provider = provider_of(span)
    reason = facts.get("finish_reason")
    return {
        "gen_ai.provider.name": provider,
        "gen_ai.system": provider,
        "gen_ai.request.model": _request_model(facts),
        "gen_ai.response.model": facts.get("model") or facts.get("requested_model"),
        "gen_ai.usage.input_tokens": facts.get("prompt_tokens"),
        "gen_ai.usage.output_tokens": facts.get("completion_tokens"),
        "gen_ai.usage.cache_read.input_tokens": facts.get("cached_prompt_tokens") or None,
        "gen_ai.response.finish_reasons": [str(reason)] if reason else None,
        "muster.model.client": facts.get("client"),
        "muster.model.cached": facts.get("cached"),
        "muster.model.streamed": facts.get("streamed"),
        "muster.model.attempts": facts.get("attempts"),
    }


def _tool_call(facts: Mapping[str, AttributeValue], capture_content: bool) -> dict[str, AttributeValue]:
    found: dict[str, AttributeValue] = {
        "gen_ai.tool.name": facts.get("tool"),
        "gen_ai.tool.call.id": facts.get("call_id"),
        "gen_ai.tool.type": "function",
        "muster.tool.handoff": facts.get("handoff"),
    }
    if capture_content:
        for key, source in (
            ("gen_ai.tool.call.arguments", "arguments"),
            ("gen_ai.tool.call.result", "result"),
        ):
            value = facts.get(source)
            found[key] = None if value is None else str(value)[:CONTENT_CHARS]
    return found
