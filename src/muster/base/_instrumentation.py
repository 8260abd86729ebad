"""What agents and teams put on their instrumentation spans: the messages a turn produced.

Shared by ``BaseChatAgent`` (a whole ``agent.run``) and the team's participant containers (a
team turn), so a run timeline shows the same message details whichever ran the agent. Only
called when a recorder is active (see :mod:`muster.core.instrumentation`).
"""

from __future__ import annotations

from muster.core.instrumentation import Span
from muster.messages import BaseAgentEvent, BaseChatMessage
from muster.messages.internal import is_streaming_chunk

__all__ = ["MESSAGE_EVENT", "PREVIEW_CHARS", "add_message_event", "describe_participant"]

MESSAGE_EVENT = "message"
"""Name of the span event recorded for each message a turn produced."""

PREVIEW_CHARS = 2000
"""Characters of a message's text kept on its event: enough to read on hover, bounded."""


def add_message_event(span: Span, message: BaseAgentEvent | BaseChatMessage) -> None:
    """Record ``message`` on ``span`` (streaming chunks are skipped: their message follows)."""
    if is_streaming_chunk(message):
        return
    usage = getattr(message, "models_usage", None)
    try:
        text = message.to_text()
    except Exception as exc:  # a custom message's rendering must not fail the run
        text = f"<{type(exc).__name__} rendering the message>"
    span.add_event(
        MESSAGE_EVENT,
        type=type(message).__name__,
        source=message.source,
        content=text[:PREVIEW_CHARS],
        prompt_tokens=None if usage is None else usage.prompt_tokens,
        completion_tokens=None if usage is None else usage.completion_tokens,
    )


def describe_participant(span: Span, participant: object, name: str) -> None:
    """Put who is taking the turn on its span: name, class and model context, if any."""
    context = getattr(participant, "model_context", None)
    span.set(
        agent=name,
        agent_type=type(participant).__name__,
        model_context=None if context is None else type(context).__name__,
    )
