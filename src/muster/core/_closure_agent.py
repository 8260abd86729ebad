"""Agents made from a plain async function, for collecting results or quick glue logic."""

from __future__ import annotations

import inspect
import warnings
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol, TypeVar

from ._agent_id import AgentId, AgentType
from ._agent_instantiation import AgentInstantiationContext
from ._agent_runtime import AgentRuntime
from ._base_agent import BaseAgent
from ._cancellation_token import CancellationToken
from ._message_context import MessageContext
from ._serialization import MessageSerializer, try_get_known_serializers_for_type
from ._subscription import Subscription
from ._subscription_context import SubscriptionInstantiationContext
from ._topic import TopicId
from ._type_helpers import ANY_TYPE, handler_types
from ._type_prefix_subscription import TypePrefixSubscription
from .exceptions import CantHandleException

__all__ = ["ClosureAgent", "ClosureContext"]

T = TypeVar("T")

UnknownTypePolicy = Literal["error", "warn", "ignore"]


class ClosureContext(Protocol):
    """What a closure can do as an agent: know its id and send or publish messages."""

    @property
    def id(self) -> AgentId:
        """The closure agent's id."""
        ...

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` as this agent and return the reply."""
        ...

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        cancellation_token: CancellationToken | None = None,
    ) -> None:
        """Publish ``message`` as this agent."""
        ...


Closure = Callable[[ClosureContext, T, MessageContext], Awaitable[Any]]

_DECLARED: weakref.WeakKeyDictionary[Callable[..., Any], tuple[type[Any], ...]] = weakref.WeakKeyDictionary()


def _declared_types(closure: Callable[..., Any]) -> tuple[type[Any], ...]:
    try:
        return _DECLARED[closure]
    except (KeyError, TypeError):
        pass
    expected, _ = handler_types(closure, message_index=1)
    try:
        _DECLARED[closure] = expected
    except TypeError:
        pass  # not weak-referenceable (a bound method): just resolve again next time
    return expected


class ClosureAgent(BaseAgent):
    """Wraps ``async def closure(agent_ctx, message, ctx)``; the message annotation sets what it accepts.

    Annotate the message as ``Any`` to accept everything. A message of another type is
    handled according to ``unknown_type_policy``: ``"warn"`` warns and drops it,
    ``"error"`` raises :class:`~muster.core.exceptions.CantHandleException` and
    ``"ignore"`` passes it to the closure anyway.
    """

    def __init__(
        self,
        description: str,
        closure: Closure[T],
        *,
        unknown_type_policy: UnknownTypePolicy = "warn",
    ) -> None:
        if not AgentInstantiationContext.is_in_factory_call():
            raise RuntimeError(
                "ClosureAgent can only be created by a runtime; use ClosureAgent.register_closure()"
            )
        if unknown_type_policy not in ("error", "warn", "ignore"):
            raise ValueError(
                f"unknown_type_policy must be 'error', 'warn' or 'ignore', not {unknown_type_policy!r}"
            )
        expected = _declared_types(closure)
        self._expected_types = expected
        self._accepts_any = ANY_TYPE in expected
        self._closure: Closure[Any] = closure
        self._unknown_type_policy = unknown_type_policy
        super().__init__(description)

    @property
    def expected_types(self) -> tuple[type[Any], ...]:
        """The message classes the closure declares."""
        return self._expected_types

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Call the closure, applying ``unknown_type_policy`` to undeclared message types."""
        if not self._accepts_any and not isinstance(message, self._expected_types):
            text = (
                f"{self.id} got {type(message).__qualname__}, its closure accepts "
                f"{[t.__qualname__ for t in self._expected_types]}"
            )
            if self._unknown_type_policy == "error":
                raise CantHandleException(text)
            if self._unknown_type_policy == "warn":
                warnings.warn(text + "; set unknown_type_policy to 'error' or 'ignore'", stacklevel=2)
                return None
        return await self._closure(self, message, ctx)

    async def save_state(self) -> Mapping[str, Any]:
        """Closure agents keep no state of their own."""
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Nothing to restore."""

    @classmethod
    async def register_closure(
        cls,
        runtime: AgentRuntime,
        type: str,
        closure: Closure[T],
        *,
        unknown_type_policy: UnknownTypePolicy = "warn",
        skip_direct_message_subscription: bool = False,
        description: str = "",
        subscriptions: Callable[[], list[Subscription] | Awaitable[list[Subscription]]] | None = None,
    ) -> AgentType:
        """Register an agent type whose instances run ``closure`` on every message.

        Args:
            runtime: Where to register.
            type: The agent type.
            closure: ``async def (agent_ctx, message, ctx) -> Any``.
            unknown_type_policy: What to do with messages the closure does not declare.
            skip_direct_message_subscription: Do not add the ``"<type>:"`` prefix subscription.
            description: Agent description.
            subscriptions: Factory of subscriptions to add, called while ``type`` is current
                so ``DefaultSubscription()`` works inside it.
        """
        # Resolve the annotations now, while the caller's frame (and any local message class) exists.
        expected = _declared_types(closure)

        def factory() -> ClosureAgent:
            return ClosureAgent(description, closure, unknown_type_policy=unknown_type_policy)

        agent_type = await runtime.register_factory(AgentType(type), factory, expected_class=cls)
        if subscriptions is not None:
            with SubscriptionInstantiationContext.populate_context(agent_type):
                result = subscriptions()
                built = list(await result if inspect.isawaitable(result) else result)
            for subscription in built:
                await runtime.add_subscription(subscription)
        if not skip_direct_message_subscription:
            await runtime.add_subscription(TypePrefixSubscription(agent_type.type + ":", agent_type.type))
        for target in expected:
            serializers: list[MessageSerializer[Any]] = try_get_known_serializers_for_type(target)
            if serializers:
                runtime.add_message_serializer(serializers)
        return agent_type
