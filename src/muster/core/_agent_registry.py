"""Agent factories, live instances, and lazy instantiation for one runtime."""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from ._agent import Agent
from ._agent_id import AgentId, AgentType
from ._agent_instantiation import AgentInstantiationContext
from .exceptions import AgentRegistrationError, UndeliverableException, UnknownAgentTypeError

if TYPE_CHECKING:
    from ._agent_runtime import AgentRuntime

__all__ = ["AgentRegistry"]

AgentFactory = Callable[..., Agent | Awaitable[Agent]]


class _Registration:
    """How to build agents of one type."""

    __slots__ = ("expected_class", "factory", "instance_class", "legacy_args")

    def __init__(
        self,
        factory: AgentFactory | None,
        expected_class: type[Any] | None,
        instance_class: type[Any] | None = None,
    ) -> None:
        self.factory = factory
        """``None`` for types that only hold pre-built instances."""
        self.expected_class = expected_class
        self.instance_class = instance_class
        # Counted once here: inspecting the signature on every instantiation would be wasted work.
        self.legacy_args = factory is not None and _positional_count(factory) == 2


def _positional_count(factory: AgentFactory) -> int:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return 0
    return sum(
        1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    )


class AgentRegistry:
    """Maps agent types to factories and agent ids to live agents.

    Instantiation is single-flight: concurrent first messages to the same id share one
    factory call instead of racing to build two agents.
    """

    __slots__ = ("_creating", "_runtime", "instances", "registrations")

    def __init__(self, runtime: AgentRuntime) -> None:
        self._runtime = runtime
        self.registrations: dict[str, _Registration] = {}
        """Registered agent types."""
        self.instances: dict[AgentId, Agent] = {}
        """Live agents, in creation order."""
        self._creating: dict[AgentId, asyncio.Future[Agent]] = {}

    def register_factory(
        self, agent_type: AgentType, factory: AgentFactory, expected_class: type[Any] | None
    ) -> None:
        """Register ``factory`` for ``agent_type``.

        Raises:
            AgentRegistrationError: the type is taken or the factory has the wrong arity.
        """
        if agent_type.type in self.registrations:
            raise AgentRegistrationError(f"Agent type {agent_type.type!r} is already registered")
        if not callable(factory):
            raise AgentRegistrationError(f"Factory for {agent_type.type!r} is not callable: {factory!r}")
        registration = _Registration(factory, expected_class)
        if not registration.legacy_args and _positional_count(factory) not in (0, 2):
            raise AgentRegistrationError(
                f"Factory for {agent_type.type!r} must take no arguments; read the runtime and id "
                "from AgentInstantiationContext"
            )
        self.registrations[agent_type.type] = registration

    async def register_instance(self, agent: Agent, agent_id: AgentId) -> None:
        """Register a pre-built agent under ``agent_id``.

        Raises:
            AgentRegistrationError: the id is taken, the type has a factory, or a sibling
                instance of the type has a different class.
        """
        if agent_id in self.instances:
            raise AgentRegistrationError(f"Agent {agent_id} is already registered")
        registration = self.registrations.get(agent_id.type)
        if registration is None:
            self.registrations[agent_id.type] = _Registration(None, None, type(agent))
        elif registration.factory is not None:
            raise AgentRegistrationError(
                f"Agent type {agent_id.type!r} has a factory; factories and instances cannot share a type"
            )
        elif registration.instance_class is not type(agent):
            raise AgentRegistrationError(
                f"Instances of agent type {agent_id.type!r} must all be {registration.instance_class!r}"
            )
        await agent.bind_id_and_runtime(agent_id, self._runtime)
        self.instances[agent_id] = agent

    def creating(self, agent_type: str) -> int:
        """How many agents of ``agent_type`` are being built right now."""
        return sum(1 for agent_id in self._creating if agent_id.type == agent_type)

    def unregister(self, agent_type: str) -> list[Agent]:
        """Forget ``agent_type`` and its live agents; return those agents, for closing.

        Raises:
            UnknownAgentTypeError: the type is not registered.
        """
        if self.registrations.pop(agent_type, None) is None:
            raise UnknownAgentTypeError(agent_type)
        removed = [agent_id for agent_id in self.instances if agent_id.type == agent_type]
        return [self.instances.pop(agent_id) for agent_id in removed]

    async def get(self, agent_id: AgentId) -> Agent:
        """Return the agent for ``agent_id``, building it on first use.

        Raises:
            UnknownAgentTypeError: the type is not registered.
            UndeliverableException: the type only has pre-built instances and none has this key.
        """
        agent = self.instances.get(agent_id)
        if agent is not None:
            return agent
        pending = self._creating.get(agent_id)
        if pending is not None:
            return await asyncio.shield(pending)
        registration = self.registrations.get(agent_id.type)
        if registration is None:
            raise UnknownAgentTypeError(agent_id.type)
        if registration.factory is None:
            raise UndeliverableException(
                f"Agent type {agent_id.type!r} only has pre-registered instances and none with key "
                f"{agent_id.key!r}; register a factory to create agents on demand"
            )
        future: asyncio.Future[Agent] = asyncio.get_running_loop().create_future()
        self._creating[agent_id] = future
        try:
            agent = await self._build(registration, agent_id)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved here: waiters may not exist
            raise
        finally:
            del self._creating[agent_id]
        self.instances[agent_id] = agent
        future.set_result(agent)
        return agent

    async def _build(self, registration: _Registration, agent_id: AgentId) -> Agent:
        factory = cast(AgentFactory, registration.factory)
        with AgentInstantiationContext.populate_context((self._runtime, agent_id)):
            if registration.legacy_args:
                warnings.warn(
                    "Agent factories taking (runtime, agent_id) are deprecated; take no arguments and "
                    "use AgentInstantiationContext",
                    DeprecationWarning,
                    stacklevel=2,
                )
                created = factory(self._runtime, agent_id)
            else:
                created = factory()
            agent = await created if inspect.isawaitable(created) else created
        expected = registration.expected_class
        if expected is not None and not isinstance(agent, expected):
            raise AgentRegistrationError(
                f"Factory for {agent_id.type!r} built a {type(agent).__name__}, expected {expected.__name__}"
            )
        return agent
