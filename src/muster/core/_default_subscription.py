"""The default subscription and the class decorators that declare subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, overload

from ._agent_id import AgentType
from ._subscription import Subscription
from ._subscription_context import SubscriptionInstantiationContext
from ._type_subscription import TypeSubscription
from .exceptions import CantHandleException

if TYPE_CHECKING:
    from ._base_agent import BaseAgent

__all__ = ["DefaultSubscription", "default_subscription", "type_subscription"]

BaseAgentT = TypeVar("BaseAgentT", bound="BaseAgent")


class DefaultSubscription(TypeSubscription):
    """A :class:`TypeSubscription` to the ``"default"`` topic type for the agent type being registered.

    Apps with one global conversation need nothing else: publish to ``DefaultTopicId()``
    and every agent registered with ``@default_subscription`` hears it.
    """

    __slots__ = ()

    def __init__(self, topic_type: str = "default", agent_type: str | AgentType | None = None) -> None:
        if agent_type is None:
            try:
                agent_type = SubscriptionInstantiationContext.agent_type()
            except RuntimeError as exc:
                raise CantHandleException(
                    "DefaultSubscription() without agent_type must be created while an agent type is "
                    "registered (inside a subscription factory); pass agent_type explicitly otherwise"
                ) from exc
        super().__init__(topic_type, agent_type)


def _add_subscription_factory(
    factory: Callable[[], list[Subscription]],
) -> Callable[[type[BaseAgentT]], type[BaseAgentT]]:
    def decorator(cls: type[BaseAgentT]) -> type[BaseAgentT]:
        cls.internal_unbound_subscriptions_list.append(factory)
        return cls

    return decorator


@overload
def default_subscription() -> Callable[[type[BaseAgentT]], type[BaseAgentT]]: ...


@overload
def default_subscription(cls: type[BaseAgentT]) -> type[BaseAgentT]: ...


def default_subscription(
    cls: type[BaseAgentT] | None = None,
) -> Callable[[type[BaseAgentT]], type[BaseAgentT]] | type[BaseAgentT]:
    """Class decorator: agents of this class hear the ``"default"`` topic type.

    Usable bare (``@default_subscription``) or called (``@default_subscription()``). The
    subscription is created when the class is registered under an agent type.
    """
    decorator: Callable[[type[BaseAgentT]], type[BaseAgentT]] = _add_subscription_factory(
        lambda: [DefaultSubscription()]
    )
    return decorator if cls is None else decorator(cls)


def type_subscription(topic_type: str) -> Callable[[type[BaseAgentT]], type[BaseAgentT]]:
    """Class decorator: agents of this class hear ``topic_type`` (one instance per topic source)."""
    return _add_subscription_factory(lambda: [DefaultSubscription(topic_type=topic_type)])
