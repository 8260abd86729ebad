"""The contract of a message runtime, as agents and tools see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, overload, runtime_checkable

from ._agent import Agent
from ._agent_id import AgentId, AgentType
from ._agent_metadata import AgentMetadata
from ._cancellation_token import CancellationToken
from ._serialization import MessageSerializer
from ._subscription import Subscription
from ._topic import TopicId

__all__ = ["AgentRuntime"]

T = TypeVar("T", bound=Agent)


@runtime_checkable
class AgentRuntime(Protocol):
    """Delivers messages between agents and owns their lifecycle.

    Agents depend on this Protocol, never on a concrete runtime, so the single-threaded
    runtime can be swapped for a distributed one without touching agent code.
    """

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Deliver ``message`` to ``recipient`` and return its handler's reply.

        Raises:
            CantHandleException: the recipient cannot handle the message.
            UndeliverableException: the recipient's type is not registered.
            asyncio.CancelledError: the token was cancelled.
        """
        ...

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Deliver ``message`` to every agent subscribed to ``topic_id`` except the sender."""
        ...

    async def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], T | Awaitable[T]],
        *,
        expected_class: type[T] | None = None,
    ) -> AgentType:
        """Register how to build agents of ``type``; instances are created on first use."""
        ...

    async def register_agent_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        """Register an already-built agent under ``agent_id``."""
        ...

    async def try_get_underlying_agent_instance(self, id: AgentId, type: type[T] = Agent) -> T:  # type: ignore[assignment]
        """Return the agent object itself (instantiating it if needed); local runtimes only."""
        ...

    @overload
    async def get(self, id_or_type: AgentId, /, key: str = ..., *, lazy: bool = ...) -> AgentId: ...

    @overload
    async def get(self, id_or_type: AgentType | str, /, key: str = ..., *, lazy: bool = ...) -> AgentId: ...

    async def get(
        self, id_or_type: AgentId | AgentType | str, /, key: str = "default", *, lazy: bool = True
    ) -> AgentId:
        """Return the id of an agent; with ``lazy=False`` also instantiate it now."""
        ...

    async def save_state(self) -> Mapping[str, Any]:
        """Snapshot the state of every instantiated agent."""
        ...

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot from :meth:`save_state`."""
        ...

    async def agent_metadata(self, agent: AgentId) -> AgentMetadata:
        """Return the metadata of ``agent``."""
        ...

    async def agent_save_state(self, agent: AgentId) -> Mapping[str, Any]:
        """Snapshot one agent's state."""
        ...

    async def agent_load_state(self, agent: AgentId, state: Mapping[str, Any]) -> None:
        """Restore one agent's state."""
        ...

    async def add_subscription(self, subscription: Subscription) -> None:
        """Route matching topics to the subscription's agents from now on."""
        ...

    async def remove_subscription(self, id: str) -> None:
        """Remove the subscription with this id."""
        ...

    def add_message_serializer(
        self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]
    ) -> None:
        """Teach the runtime how to (de)serialise a message type (for remote delivery and logs)."""
        ...
