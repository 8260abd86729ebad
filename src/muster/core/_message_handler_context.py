"""Which agent's handler is running right now (for code that has no ``self`` at hand)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ClassVar

from ._agent_id import AgentId

__all__ = ["MessageHandlerContext"]


class MessageHandlerContext:
    """Static access to the id of the agent whose message handler is executing.

    A context variable, not a runtime attribute, because several handlers run
    concurrently on one event loop and each task must see its own agent.
    :class:`~muster.core.DefaultTopicId` uses it to default its source to that agent's key.
    """

    _CURRENT: ClassVar[ContextVar[AgentId]] = ContextVar("muster_message_handler_agent")

    def __init__(self) -> None:
        raise RuntimeError("MessageHandlerContext is a static class and cannot be instantiated")

    @classmethod
    @contextmanager
    def populate_context(cls, agent_id: AgentId) -> Iterator[None]:
        """Mark ``agent_id`` as the agent handling a message for the duration of the block."""
        token = cls._CURRENT.set(agent_id)
        try:
            yield
        finally:
            cls._CURRENT.reset(token)

    @classmethod
    def agent_id(cls) -> AgentId:
        """The id of the agent whose handler is running.

        Raises:
            RuntimeError: called outside a message handler.
        """
        try:
            return cls._CURRENT.get()
        except LookupError:
            raise RuntimeError(
                "MessageHandlerContext.agent_id() must be called within a message handler"
            ) from None
