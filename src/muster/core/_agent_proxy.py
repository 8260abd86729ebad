"""A handle that talks to an agent through the runtime, by id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._agent_id import AgentId
from ._agent_metadata import AgentMetadata
from ._agent_runtime import AgentRuntime
from ._cancellation_token import CancellationToken

__all__ = ["AgentProxy"]


class AgentProxy:
    """Addresses one agent by id; every call goes through the runtime.

    Holding a proxy never instantiates the agent and works the same for local and
    remote runtimes, which is why it is preferred over keeping agent objects around.
    """

    __slots__ = ("_agent", "_runtime")

    def __init__(self, agent: AgentId, runtime: AgentRuntime) -> None:
        self._agent = agent
        self._runtime = runtime

    @property
    def id(self) -> AgentId:
        """The target agent's id."""
        return self._agent

    @property
    async def metadata(self) -> AgentMetadata:
        """The target agent's metadata (awaitable property, as in AutoGen)."""
        return await self._runtime.agent_metadata(self._agent)

    async def send_message(
        self,
        message: Any,
        *,
        sender: AgentId,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` to the target agent and return its reply."""
        return await self._runtime.send_message(
            message,
            recipient=self._agent,
            sender=sender,
            cancellation_token=cancellation_token,
            message_id=message_id,
        )

    async def save_state(self) -> Mapping[str, Any]:
        """Snapshot the target agent's state."""
        return await self._runtime.agent_save_state(self._agent)

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the target agent's state."""
        await self._runtime.agent_load_state(self._agent, state)
