"""The per-delivery context a handler receives along with the message."""

from __future__ import annotations

from dataclasses import dataclass

from ._agent_id import AgentId
from ._cancellation_token import CancellationToken
from ._topic import TopicId

__all__ = ["MessageContext"]


@dataclass(slots=True)
class MessageContext:
    """How a message reached its handler.

    One is built for every delivery, so it is a slotted dataclass: cheap to create and
    without a per-instance ``__dict__``.
    """

    sender: AgentId | None
    """The sending agent, or ``None`` when the message came from outside any agent."""
    topic_id: TopicId | None
    """The topic for a published message; ``None`` for a direct send."""
    is_rpc: bool
    """``True`` for ``send_message`` (the sender awaits the return value), ``False`` for publish."""
    cancellation_token: CancellationToken
    """Cancelled when the sender gives up; long handlers should pass it on to their own calls."""
    message_id: str
    """Unique per message; every recipient of one publish sees the same id."""
