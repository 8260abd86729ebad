"""The agent type whose class subscriptions are being built."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ClassVar

from ._agent_id import AgentType

__all__ = ["SubscriptionInstantiationContext"]


class SubscriptionInstantiationContext:
    """Static access to the agent type being registered.

    Class decorators such as ``@default_subscription`` run before any agent type exists,
    so they store factories; ``BaseAgent.register`` calls those factories inside this
    context so that ``DefaultSubscription()`` can discover the type it belongs to.
    """

    _CURRENT: ClassVar[ContextVar[AgentType]] = ContextVar("muster_subscription_agent_type")

    def __init__(self) -> None:
        raise RuntimeError("SubscriptionInstantiationContext is a static class and cannot be instantiated")

    @classmethod
    @contextmanager
    def populate_context(cls, agent_type: AgentType) -> Iterator[None]:
        """Make ``agent_type`` current for subscriptions created in the block."""
        token = cls._CURRENT.set(agent_type)
        try:
            yield
        finally:
            cls._CURRENT.reset(token)

    @classmethod
    def agent_type(cls) -> AgentType:
        """The agent type being registered.

        Raises:
            RuntimeError: called outside agent registration.
        """
        try:
            return cls._CURRENT.get()
        except LookupError:
            raise RuntimeError(
                "SubscriptionInstantiationContext.agent_type() must be called while an agent type "
                "is being registered (for example inside a subscription factory)"
            ) from None
