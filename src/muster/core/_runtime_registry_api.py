"""The runtime's registry API: registering agents, finding them, their state, subscriptions.

Why a module of its own: ``_single_threaded_agent_runtime`` had grown to 832 lines, past the
~800 at which muster splits a module, and these methods are a concern apart from message
delivery. Each only forwards to the runtime's :class:`AgentRegistry`,
:class:`SubscriptionManager` or :class:`SerializationRegistry` (or reads which handler tasks
are running), so they live here in :class:`RuntimeRegistryAPI`, a mixin that
:class:`SingleThreadedAgentRuntime` inherits from. Their names and signatures mirror AutoGen's
``SingleThreadedAgentRuntime``; the move changed no signature, docstring or behaviour.

Delivery (sending, publishing, the queue loop, ``_deliver_send`` / ``_deliver_event``) stays in
the runtime's module, so the hot path gains no call layer. Only that module imports this one,
and ``import muster.agents`` loads neither.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from . import ROOT_LOGGER_NAME
from ._agent import Agent
from ._agent_id import AgentId, AgentType
from ._agent_metadata import AgentMetadata
from ._agent_registry import AgentRegistry
from ._serialization import MessageSerializer, SerializationRegistry
from ._subscription import Subscription
from ._subscription_manager import SubscriptionManager
from .exceptions import AgentTypeBusyError, UnknownAgentTypeError

__all__ = ["RuntimeRegistryAPI", "close_agents"]

_logger = logging.getLogger(ROOT_LOGGER_NAME)

T = TypeVar("T", bound=Agent)


class RuntimeRegistryAPI:
    """The registration, lookup, state and subscription methods of :class:`SingleThreadedAgentRuntime`.

    A mixin: it holds no state of its own. The runtime's ``__init__`` sets the attributes
    declared below, which the runtime's delivery code shares.
    """

    _registry: AgentRegistry
    """Agent factories and live agents."""
    _instances: dict[AgentId, Agent]
    """The registry's live agents (``_registry.instances``)."""
    _registrations: Mapping[str, object]
    """The registry's registered agent types (``_registry.registrations``)."""
    _subscriptions: SubscriptionManager
    """Which agents hear which topic."""
    _serializers: SerializationRegistry
    """Message serializers, by type name and content type."""
    _tasks: dict[asyncio.Task[Any], str]
    """Every handler task still running, with the agent type it delivers to."""

    # ------------------------------------------------------------------ agents

    async def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], T | Awaitable[T]],
        *,
        expected_class: type[T] | None = None,
    ) -> AgentType:
        """Register how to build agents of ``type``; each key is built on its first message.

        Raises:
            AgentRegistrationError: ``type`` is already registered (also a ``ValueError``).
        """
        agent_type = AgentType(type) if isinstance(type, str) else type
        AgentId(agent_type, "validate")  # reject malformed type names at registration time
        self._registry.register_factory(agent_type, agent_factory, expected_class)
        return agent_type

    async def register_agent_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        """Register a pre-built agent under ``agent_id``.

        Raises:
            AgentRegistrationError: the id is taken or the type already has a factory.
        """
        await self._registry.register_instance(agent_instance, agent_id)
        return agent_id

    async def try_get_underlying_agent_instance(self, id: AgentId, type: type[T] = Agent) -> T:  # type: ignore[assignment]
        """Return the agent object itself, instantiating it if needed.

        Raises:
            UnknownAgentTypeError: the type is not registered.
            TypeError: the agent is not an instance of ``type``.
        """
        agent = await self._registry.get(id)
        if not isinstance(agent, type):
            raise TypeError(f"Agent {id} is a {agent.__class__.__name__}, not a {type.__name__}")
        return agent

    async def get(
        self, id_or_type: AgentId | AgentType | str, /, key: str = "default", *, lazy: bool = True
    ) -> AgentId:
        """Return the id of an agent; with ``lazy=False`` build it now (and fail if unknown)."""
        if isinstance(id_or_type, AgentId):
            agent_id = id_or_type
        else:
            agent_id = AgentId(id_or_type, key)
        if not lazy:
            await self._registry.get(agent_id)
        return agent_id

    async def agent_metadata(self, agent: AgentId) -> AgentMetadata:
        """Return the metadata of ``agent`` (building it if needed)."""
        return (await self._registry.get(agent)).metadata

    async def agent_save_state(self, agent: AgentId) -> Mapping[str, Any]:
        """Snapshot one agent's state."""
        return await (await self._registry.get(agent)).save_state()

    async def agent_load_state(self, agent: AgentId, state: Mapping[str, Any]) -> None:
        """Restore one agent's state."""
        await (await self._registry.get(agent)).load_state(state)

    async def save_state(self) -> Mapping[str, Any]:
        """Snapshot every instantiated agent: ``{"type/key": state}``.

        Subscriptions and registrations are code, not state, and are not included.
        """
        return {
            str(agent_id): dict(await agent.save_state()) for agent_id, agent in list(self._instances.items())
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`save_state` snapshot, building agents as needed.

        Entries for agent types not registered here are skipped with a warning log.
        """
        for agent_id_str, agent_state in state.items():
            agent_id = AgentId.from_str(agent_id_str)
            if agent_id.type not in self._registrations:
                _logger.warning("load_state: skipping %s, its agent type is not registered", agent_id)
                continue
            await (await self._registry.get(agent_id)).load_state(agent_state)

    async def wait_for_agent_type(self, type: str | AgentType) -> None:
        """Wait until no delivery to agents of ``type`` is being handled (nothing is cancelled).

        A caller about to :meth:`unregister_agent_type` uses it to let handlers that are
        just returning (a team's manager after its last message, say) finish first.
        Deliveries that start while it waits are waited for too.
        """
        name = type.type if isinstance(type, AgentType) else type
        current = asyncio.current_task()
        while running := [
            t for t, agent_type in self._tasks.items() if agent_type == name and t is not current
        ]:
            await asyncio.wait(running)

    async def unregister_agent_type(self, type: str | AgentType) -> None:
        """Remove agent ``type``: its factory, its live agents (closed) and its subscriptions.

        Afterwards nothing of the type is referenced by the runtime, so a long-lived
        runtime that registers a type per session (a team per request, say) does not
        grow, and the name can be registered again. Messages to the type still waiting
        in the queue fail on delivery as for any unknown type.

        Not part of the :class:`AgentRuntime` protocol: AutoGen's protocol has no such
        method, and adding one would make every user runtime written against it stop
        satisfying the (runtime-checkable) protocol.

        Raises:
            UnknownAgentTypeError: ``type`` is not registered.
            AgentTypeBusyError: a message to an agent of the type is being handled, or
                one of its agents is being built. Nothing is removed; wait for the work
                (``stop_when_idle``) or end it (``close``) first. The runtime does not
                cancel it itself: abandoning work is the caller's decision.
            Exception: whatever an agent's ``close`` raised; the type is removed anyway,
                and every agent is closed before the first such exception propagates.
        """
        name = type.type if isinstance(type, AgentType) else type
        if name not in self._registrations:
            raise UnknownAgentTypeError(name)
        running = sum(1 for agent_type in self._tasks.values() if agent_type == name)
        running += self._registry.creating(name)
        if running:
            raise AgentTypeBusyError(name, running)
        # Removed in one synchronous step, so no delivery can start in between.
        agents = self._registry.unregister(name)
        self._subscriptions.remove_agent_type(name)
        await close_agents(agents)

    # ------------------------------------------------------------------ subscriptions

    async def add_subscription(self, subscription: Subscription) -> None:
        """Route topics matching ``subscription`` to its agents from now on.

        Raises:
            AgentRegistrationError: an equal subscription exists (also a ``ValueError``).
        """
        self._subscriptions.add(subscription)

    async def remove_subscription(self, id: str) -> None:
        """Remove the subscription with ``id``.

        Raises:
            AgentRegistrationError: no such subscription (also a ``ValueError``).
        """
        self._subscriptions.remove(id)

    def add_message_serializer(
        self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]
    ) -> None:
        """Register serializers (used for logs and by other runtimes; in-process delivery never serialises)."""
        self._serializers.add_serializer(serializer)


async def close_agents(agents: Sequence[Agent]) -> None:
    """Close every agent; one failing must not leave the others open. The first error is raised."""
    first_error: Exception | None = None
    for agent in agents:
        try:
            await agent.close()
        except Exception as exc:
            if first_error is None:
                first_error = exc
            else:
                _logger.error("Error closing %s", agent.id, exc_info=exc)
    if first_error is not None:
        raise first_error
