"""The contract every agent fulfils, whatever base class it uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._agent_id import AgentId
from ._agent_metadata import AgentMetadata
from ._message_context import MessageContext

if TYPE_CHECKING:
    from ._agent_runtime import AgentRuntime

__all__ = ["Agent"]


@runtime_checkable
class Agent(Protocol):
    """Something a runtime can deliver messages to.

    A Protocol so that agents need not inherit from :class:`~muster.core.BaseAgent`;
    the runtime only ever calls these members.
    """

    @property
    def metadata(self) -> AgentMetadata:
        """The agent's type, key and description."""
        ...

    @property
    def id(self) -> AgentId:
        """The id the runtime addresses this agent by."""
        ...

    async def bind_id_and_runtime(self, id: AgentId, runtime: AgentRuntime) -> None:
        """Attach an agent created outside a factory to ``runtime`` under ``id``."""
        ...

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        """Handle one message; the return value is the RPC reply (ignored for events)."""
        ...

    async def save_state(self) -> Mapping[str, Any]:
        """Return a JSON-serialisable snapshot of the agent's state."""
        ...

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot produced by :meth:`save_state`."""
        ...

    async def close(self) -> None:
        """Release resources; called once when the runtime closes."""
        ...
