"""Hooks that see (and may rewrite or drop) every message before the runtime delivers it."""

from __future__ import annotations

from typing import Any, Protocol, final, runtime_checkable

from ._agent_id import AgentId
from ._message_context import MessageContext

__all__ = ["DefaultInterventionHandler", "DropMessage", "InterventionHandler", "is_drop"]


@final
class DropMessage:
    """Return this class (or an instance) from a hook to drop the message.

    A dropped send raises :class:`~muster.core.exceptions.MessageDroppedException` at the
    sender; a dropped publish reaches nobody; a dropped response raises at the sender.
    """


def is_drop(value: Any) -> bool:
    """Whether a hook's return value asks to drop the message."""
    return value is DropMessage or isinstance(value, DropMessage)


@runtime_checkable
class InterventionHandler(Protocol):
    """Runtime-wide message hooks (auditing, redaction, human approval, fault injection).

    Each hook returns the message to deliver (the original or a replacement) or
    :class:`DropMessage`. Hooks run in registration order, each seeing the previous
    hook's result; an exception raised by a send or response hook reaches the sender.
    """

    async def on_send(
        self, message: Any, *, message_context: MessageContext, recipient: AgentId
    ) -> Any | type[DropMessage]:
        """Called before a direct message is delivered to ``recipient``."""
        ...

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]:
        """Called before a published message is fanned out to subscribers."""
        ...

    async def on_response(
        self, message: Any, *, sender: AgentId, recipient: AgentId | None
    ) -> Any | type[DropMessage]:
        """Called before a handler's reply is returned; ``sender`` is the replying agent."""
        ...


class DefaultInterventionHandler:
    """Passes every message through unchanged; subclass it and override only the hooks you need."""

    async def on_send(
        self, message: Any, *, message_context: MessageContext, recipient: AgentId
    ) -> Any | type[DropMessage]:
        """Deliver the message as is."""
        return message

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]:
        """Deliver the message as is."""
        return message

    async def on_response(
        self, message: Any, *, sender: AgentId, recipient: AgentId | None
    ) -> Any | type[DropMessage]:
        """Return the reply as is."""
        return message
