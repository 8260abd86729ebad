"""The run timeline as plain data: turns, model calls and tool calls with their times.

A :class:`Timeline` is what :func:`~muster.ops.render_timeline` draws. It is a pydantic
model of plain fields, so it can be built from anything that knows a run's turns and calls:
:meth:`Timeline.from_spans` builds it from a diagnostics recording, and the service can
build it from its stored runs. Times are seconds from the start of the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from muster.core.instrumentation import AttributeValue, Span, SpanKind

__all__ = ["Timeline", "TimelineMessage", "TimelineSpan"]

SpanKindName = Literal["agent_turn", "model_call", "tool_call"]


class TimelineMessage(BaseModel):
    """A message a turn produced, shown when hovering the turn."""

    time: float
    """Seconds from the start of the run."""
    source: str
    type: str
    """The message class (``TextMessage``, ``ToolCallRequestEvent``...)."""
    content: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class TimelineSpan(BaseModel):
    """One bar of the waterfall: an agent turn, a model call or a tool call."""

    id: str
    parent_id: str | None = None
    """The turn (or tool call) this happened in."""
    kind: SpanKindName
    agent: str | None = None
    start: float
    end: float
    status: Literal["ok", "error", "cancelled"] = "ok"
    error: str | None = None
    layers: list[str] = []
    """What served a call, outermost first (``ChatCompletionCache``, ``openai``)."""
    # model calls
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached: bool | None = None
    attempts: int | None = None
    retry_wait: float | None = None
    rate_limit_wait: float | None = None
    streamed: bool | None = None
    first_chunk: float | None = None
    """Seconds from the start of a streamed call to its first chunk."""
    response: str | None = None
    # tool calls
    tool: str | None = None
    call_id: str | None = None
    arguments: str | None = None
    result: str | None = None
    # turns
    agent_type: str | None = None
    model_context: str | None = None
    messages: list[TimelineMessage] = []

    @property
    def duration(self) -> float:
        """Seconds from start to end."""
        return self.end - self.start

    @property
    def label(self) -> str:
        """What the row is called: the agent for a turn, the model or tool for a call."""
        if self.kind == "agent_turn":
            return self.agent or "turn"
        if self.kind == "model_call":
            return self.model or (self.layers[-1] if self.layers else "model")
        return self.tool or "tool"


class Timeline(BaseModel):
    """A run's turns and calls, ready to draw."""

    title: str
    run_id: str | None = None
    started_at: datetime | None = None
    """Wall-clock start of the run, when known."""
    duration: float
    spans: list[TimelineSpan] = []
    """In start order."""
    stages: dict[str, float] = Field(default_factory=dict)
    """Optional stage totals (``message_preprocessing``...) shown above the waterfall."""

    @classmethod
    def from_spans(
        cls,
        spans: Sequence[Span],
        start: float,
        end: float,
        *,
        title: str,
        run_id: str | None = None,
        started_at: datetime | None = None,
        stages: Mapping[str, float] | None = None,
    ) -> Timeline:
        """Build a timeline from recorded spans; ``start``/``end`` are perf_counter readings."""
        ordered = sorted((s for s in spans if s.end is not None), key=lambda s: (s.start, s.span_id))
        return cls(
            title=title,
            run_id=run_id,
            started_at=started_at,
            duration=max(end - start, 0.0),
            spans=[_convert(span, start) for span in ordered],
            stages=dict(stages or {}),
        )


def _get(attrs: Mapping[str, AttributeValue], key: str, kind: type) -> AttributeValue:
    value = attrs.get(key)
    if kind is float:
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return value if isinstance(value, kind) else None


def _convert(span: Span, origin: float) -> TimelineSpan:
    attrs = span.attributes
    fields: dict[str, AttributeValue] = {
        name: _get(attrs, key, kind)
        for name, key, kind in (
            ("model", "model", str),
            ("prompt_tokens", "prompt_tokens", int),
            ("completion_tokens", "completion_tokens", int),
            ("cached", "cached", bool),
            ("attempts", "attempts", int),
            ("retry_wait", "retry_wait_s", float),
            ("rate_limit_wait", "rate_limit_wait_s", float),
            ("streamed", "streamed", bool),
            ("first_chunk", "first_chunk_s", float),
            ("response", "response", str),
            ("tool", "tool", str),
            ("call_id", "call_id", str),
            ("arguments", "arguments", str),
            ("result", "result", str),
            ("agent_type", "agent_type", str),
            ("model_context", "model_context", str),
        )
    }
    if fields["model"] is None and span.kind is SpanKind.MODEL_CALL:
        fields["model"] = _get(attrs, "requested_model", str)
    agent = _get(attrs, "agent", str)
    if agent is None and span.kind is SpanKind.AGENT_TURN:
        agent = span.name
    messages = [
        TimelineMessage(
            time=event.time - origin,
            source=str(event.attributes.get("source", "")),
            type=str(event.attributes.get("type", "")),
            content=str(event.attributes.get("content", "")),
            prompt_tokens=_get(event.attributes, "prompt_tokens", int),  # type: ignore[arg-type]
            completion_tokens=_get(event.attributes, "completion_tokens", int),  # type: ignore[arg-type]
        )
        for event in span.events
        if event.name == "message"
    ]
    return TimelineSpan.model_validate(
        {
            "id": str(span.span_id),
            "parent_id": None if span.parent is None else str(span.parent.span_id),
            "kind": span.kind.value,
            "agent": agent,
            "start": span.start - origin,
            "end": (span.end or span.start) - origin,
            "status": span.status,
            "error": span.error,
            "layers": _layers(span),
            "messages": messages,
            **fields,
        }
    )


def _layers(span: Span) -> list[str]:
    """What served a call: the client the agent called and the layers under it."""
    if span.kind is SpanKind.AGENT_TURN:
        return []
    client = span.attributes.get("client")
    if isinstance(client, str):  # an agent's call: the span is named after the agent
        return [client, *span.layers]
    if span.kind is SpanKind.TOOL_CALL and isinstance(span.attributes.get("agent"), str):
        return list(span.layers)
    return [span.name, *span.layers]
