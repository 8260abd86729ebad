"""The base class most agents derive from: identity, messaging helpers and registration."""

from __future__ import annotations

import inspect
import warnings
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Self, final

from ._agent_id import AgentId, AgentType
from ._agent_instantiation import AgentInstantiationContext
from ._agent_metadata import AgentMetadata
from ._agent_runtime import AgentRuntime
from ._cancellation_token import CancellationToken
from ._message_context import MessageContext
from ._serialization import MessageSerializer
from ._subscription import Subscription
from ._subscription_context import SubscriptionInstantiationContext
from ._topic import TopicId
from ._type_prefix_subscription import TypePrefixSubscription
from ._type_subscription import TypeSubscription

__all__ = ["BaseAgent", "HandledTypes", "UnboundSubscription"]

UnboundSubscription = Callable[[], list[Subscription] | Awaitable[list[Subscription]]]
"""A factory for subscriptions, called once the agent type they belong to is known."""
HandledTypes = list[tuple[type[Any], list[MessageSerializer[Any]]]]
"""Message types an agent class handles, each with the serializers known for it."""


class BaseAgent(ABC):
    """An agent bound to a runtime and an id; subclasses implement :meth:`on_message_impl`.

    Agents are normally built by the runtime from a factory registered with
    :meth:`register`; the constructor then picks its runtime and id up from
    :class:`AgentInstantiationContext`, so subclasses need not pass them along.
    """

    internal_unbound_subscriptions_list: ClassVar[list[UnboundSubscription]] = []
    """Subscriptions declared by class decorators; each subclass gets its own list."""
    internal_extra_handles_types: ClassVar[HandledTypes] = []
    """Message types handled outside routed handlers, with their serializers."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Fresh lists: a decorator on one class must not leak subscriptions into its siblings.
        cls.internal_unbound_subscriptions_list = []
        cls.internal_extra_handles_types = []

    def __init__(self, description: str) -> None:
        if not isinstance(description, str):
            raise TypeError(f"Agent description must be a string, got {type(description).__name__}")
        if AgentInstantiationContext.is_in_factory_call():
            self._runtime: AgentRuntime = AgentInstantiationContext.current_runtime()
            self._id: AgentId = AgentInstantiationContext.current_agent_id()
        self._description = description

    @property
    def metadata(self) -> AgentMetadata:
        """This agent's type, key and description."""
        return AgentMetadata(type=self.id.type, key=self.id.key, description=self._description)

    @property
    def type(self) -> str:
        """This agent's registered type."""
        return self.id.type

    @property
    def id(self) -> AgentId:
        """This agent's id.

        Raises:
            AttributeError: the agent was built directly and not yet registered with a runtime.
        """
        try:
            return self._id
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} is not bound to a runtime yet; register it with "
                "register()/register_instance() or let a runtime build it from a factory"
            ) from None

    @property
    def runtime(self) -> AgentRuntime:
        """The runtime this agent belongs to."""
        try:
            return self._runtime
        except AttributeError:
            raise AttributeError(f"{type(self).__name__} is not bound to a runtime yet") from None

    async def bind_id_and_runtime(self, id: AgentId, runtime: AgentRuntime) -> None:
        """Attach a directly-built agent to ``runtime`` under ``id``.

        Raises:
            RuntimeError: the agent is already bound to another id or runtime.
        """
        if getattr(self, "_id", id) != id:
            raise RuntimeError(f"Agent is already bound to {self._id}, cannot rebind to {id}")
        if getattr(self, "_runtime", runtime) is not runtime:
            raise RuntimeError("Agent is already bound to a different runtime")
        self._id = id
        self._runtime = runtime

    @final
    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        """Entry point the runtime calls; delegates to :meth:`on_message_impl`."""
        return await self.on_message_impl(message, ctx)

    @abstractmethod
    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Handle one message; return the reply for RPCs."""

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` to ``recipient`` as this agent and return the reply."""
        return await self.runtime.send_message(
            message,
            recipient,
            sender=self.id,
            cancellation_token=cancellation_token,
            message_id=message_id,
        )

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        cancellation_token: CancellationToken | None = None,
    ) -> None:
        """Publish ``message`` to ``topic_id`` as this agent (it will not receive its own message)."""
        await self.runtime.publish_message(
            message, topic_id, sender=self.id, cancellation_token=cancellation_token
        )

    async def save_state(self) -> Mapping[str, Any]:
        """Snapshot this agent's state; stateless agents return an empty mapping."""
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot; the default warns when asked to load a non-empty state it would lose."""
        if state:
            warnings.warn(
                f"{type(self).__name__} does not implement load_state; the state was ignored",
                stacklevel=2,
            )

    async def close(self) -> None:
        """Release resources held by the agent; nothing by default."""
        return None

    @classmethod
    def _handles_types(cls) -> HandledTypes:
        return list(cls.internal_extra_handles_types)

    @classmethod
    def _unbound_subscriptions(cls) -> list[UnboundSubscription]:
        return cls.internal_unbound_subscriptions_list

    @classmethod
    async def _class_subscriptions(cls, agent_type: AgentType) -> list[Subscription]:
        subscriptions: list[Subscription] = []
        with SubscriptionInstantiationContext.populate_context(agent_type):
            for unbound in cls._unbound_subscriptions():
                result = unbound()
                subscriptions.extend(await result if inspect.isawaitable(result) else result)
        return subscriptions

    @classmethod
    async def register(
        cls,
        runtime: AgentRuntime,
        type: str,
        factory: Callable[[], Self | Awaitable[Self]],
        *,
        skip_class_subscriptions: bool = False,
        skip_direct_message_subscription: bool = False,
    ) -> AgentType:
        """Register ``factory`` under agent ``type`` and add this class's subscriptions.

        Besides the subscriptions declared with ``@default_subscription``/``@type_subscription``,
        a ``TypePrefixSubscription("<type>:", type)`` is added so topics of type ``"<type>:..."``
        reach agents of this type directly.

        Raises:
            AgentRegistrationError: ``type`` is already registered.
        """
        agent_type = await runtime.register_factory(AgentType(type), factory, expected_class=cls)
        if not skip_class_subscriptions:
            for subscription in await cls._class_subscriptions(agent_type):
                await runtime.add_subscription(subscription)
        if not skip_direct_message_subscription:
            await runtime.add_subscription(TypePrefixSubscription(agent_type.type + ":", agent_type.type))
        for _message_type, serializers in cls._handles_types():
            runtime.add_message_serializer(serializers)
        return agent_type

    async def register_instance(
        self,
        runtime: AgentRuntime,
        agent_id: AgentId,
        *,
        skip_class_subscriptions: bool = True,
        skip_direct_message_subscription: bool = False,
    ) -> AgentId:
        """Register this already-built agent under ``agent_id``.

        A ``TypeSubscription(agent_id.key, agent_id.type)`` is added so the topic type named
        after the key reaches this instance; class subscriptions are skipped by default.
        """
        agent_id = await runtime.register_agent_instance(self, agent_id)
        await runtime.add_subscription(TypeSubscription(agent_id.key, agent_id.type))
        if not skip_class_subscriptions:
            for subscription in await type(self)._class_subscriptions(AgentType(agent_id.type)):
                await runtime.add_subscription(subscription)
        if not skip_direct_message_subscription:
            try:
                await runtime.add_subscription(TypePrefixSubscription(agent_id.type + ":", agent_id.type))
            except ValueError:
                pass  # a sibling instance of the same type already added it
        for _message_type, serializers in self._handles_types():
            runtime.add_message_serializer(serializers)
        return agent_id
