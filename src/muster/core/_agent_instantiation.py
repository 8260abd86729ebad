"""Lets an agent constructor find the runtime and id it is being created for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, ClassVar

from ._agent_id import AgentId

if TYPE_CHECKING:
    from ._agent_runtime import AgentRuntime

__all__ = ["AgentInstantiationContext"]


class AgentInstantiationContext:
    """Static access to the runtime and agent id while a runtime runs an agent factory.

    Factories take no arguments (so plain classes can be factories), which leaves the
    constructor no way to learn its id; the runtime sets this context variable around the
    factory call and :class:`~muster.core.BaseAgent.__init__` reads it.
    """

    _CURRENT: ClassVar[ContextVar[tuple[AgentRuntime, AgentId]]] = ContextVar("muster_agent_instantiation")

    def __init__(self) -> None:
        raise RuntimeError("AgentInstantiationContext is a static class and cannot be instantiated")

    @classmethod
    @contextmanager
    def populate_context(cls, ctx: tuple[AgentRuntime, AgentId]) -> Iterator[None]:
        """Make ``(runtime, agent_id)`` current while the factory runs."""
        token = cls._CURRENT.set(ctx)
        try:
            yield
        finally:
            cls._CURRENT.reset(token)

    @classmethod
    def current_runtime(cls) -> AgentRuntime:
        """The runtime instantiating the agent.

        Raises:
            RuntimeError: called outside a factory call (the agent was built directly).
        """
        return cls._get()[0]

    @classmethod
    def current_agent_id(cls) -> AgentId:
        """The id of the agent being instantiated.

        Raises:
            RuntimeError: called outside a factory call.
        """
        return cls._get()[1]

    @classmethod
    def is_in_factory_call(cls) -> bool:
        """Whether a runtime is currently running an agent factory in this context."""
        return cls._CURRENT.get(None) is not None

    @classmethod
    def _get(cls) -> tuple[AgentRuntime, AgentId]:
        try:
            return cls._CURRENT.get()
        except LookupError:
            raise RuntimeError(
                "AgentInstantiationContext is only available while a runtime instantiates an agent; "
                "the agent was probably constructed directly instead of through a registered factory"
            ) from None
