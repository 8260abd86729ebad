"""Per-call, per-tool and per-agent figures of a recorded run, in the diagnosis' JSON shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from muster.core.instrumentation import AttributeValue, Span, SpanKind

from ._stages import nearest_turn

__all__ = [
    "AgentTiming",
    "ModelCallTiming",
    "ToolTiming",
    "agent_breakdown",
    "model_call_breakdown",
    "tool_breakdown",
]


class ModelCallTiming(TypedDict):
    """One model call, as the diagnosis reports it."""

    agent: str | None
    """The agent that made it (``None``: outside any agent, a selector's call)."""
    model: str | None
    client: str
    """Outermost layer that served it, then the inner ones (``ChatCompletionCache > openai``)."""
    start: float
    """Seconds after the run started."""
    duration: float
    prompt_tokens: int | None
    completion_tokens: int | None
    cached: bool | None
    attempts: int | None
    retry_wait: float
    """Seconds spent in backoff between attempts."""
    rate_limit_wait: float
    """Seconds spent waiting for the client-side rate limiter."""
    status: str


class ToolTiming(TypedDict):
    """All calls of one tool."""

    calls: int
    errors: int
    total: float
    mean: float
    max: float


class AgentTiming(TypedDict):
    """All turns of one agent."""

    turns: int
    total: float
    model_calls: int
    tool_calls: int
    model_context: str | None


def _int(value: AttributeValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: AttributeValue) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _str(value: AttributeValue) -> str | None:
    return value if isinstance(value, str) else None


def call_agent(span: Span) -> str | None:
    """The agent a call belongs to: its own ``agent`` attribute, else its turn's name."""
    agent = _str(span.attributes.get("agent"))
    if agent is not None:
        return agent
    turn = nearest_turn(span.parent) if span.parent is not None else None
    return None if turn is None else turn.name


def model_call_breakdown(spans: Sequence[Span], origin: float) -> list[ModelCallTiming]:
    """Every model call, in the order they started."""
    calls: list[ModelCallTiming] = []
    for span in sorted((s for s in spans if s.kind is SpanKind.MODEL_CALL), key=lambda s: s.start):
        attrs = span.attributes
        cached = attrs.get("cached")
        calls.append(
            ModelCallTiming(
                agent=call_agent(span),
                model=_str(attrs.get("model")) or _str(attrs.get("requested_model")),
                client=" > ".join([_str(attrs.get("client")) or span.name, *span.layers]),
                start=span.start - origin,
                duration=span.duration,
                prompt_tokens=_int(attrs.get("prompt_tokens")),
                completion_tokens=_int(attrs.get("completion_tokens")),
                cached=cached if isinstance(cached, bool) else None,
                attempts=_int(attrs.get("attempts")),
                retry_wait=_float(attrs.get("retry_wait_s")),
                rate_limit_wait=_float(attrs.get("rate_limit_wait_s")),
                status=span.status,
            )
        )
    return calls


def tool_breakdown(spans: Sequence[Span]) -> dict[str, ToolTiming]:
    """Calls per tool name, slowest total first."""
    durations: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for span in spans:
        if span.kind is not SpanKind.TOOL_CALL:
            continue
        name = _str(span.attributes.get("tool")) or span.name
        durations.setdefault(name, []).append(span.duration)
        errors[name] = errors.get(name, 0) + (span.status == "error")
    tools = {
        name: ToolTiming(
            calls=len(values),
            errors=errors[name],
            total=sum(values),
            mean=sum(values) / len(values),
            max=max(values),
        )
        for name, values in durations.items()
    }
    return dict(sorted(tools.items(), key=lambda item: -item[1]["total"]))


def agent_breakdown(spans: Sequence[Span]) -> dict[str, AgentTiming]:
    """Turns and calls per agent, in the order agents first spoke."""
    agents: dict[str, AgentTiming] = {}
    for span in sorted((s for s in spans if s.kind is SpanKind.AGENT_TURN), key=lambda s: s.start):
        entry = agents.setdefault(
            span.name,
            AgentTiming(
                turns=0,
                total=0.0,
                model_calls=0,
                tool_calls=0,
                model_context=_str(span.attributes.get("model_context")),
            ),
        )
        entry["turns"] += 1
        entry["total"] += span.duration
    for span in spans:
        if span.kind is SpanKind.AGENT_TURN:
            continue
        agent = call_agent(span)
        if agent is None or agent not in agents:
            continue
        if span.kind is SpanKind.MODEL_CALL:
            agents[agent]["model_calls"] += 1
        else:
            agents[agent]["tool_calls"] += 1
    return agents
