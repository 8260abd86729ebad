"""The contract every chat agent fulfils, and what an agent returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from muster.core import CancellationToken, ComponentBase
from muster.messages import BaseAgentEvent, BaseChatMessage

from ._task import TaskRunner

__all__ = ["ChatAgent", "Response"]


# A dataclass whose methods are written out, as ``@dataclass(kw_only=True)`` would generate
# them: the decorator compiles them at import, about 0.25 ms of every process's start-up
# (tests/core/test_handwritten_dataclasses.py).
@dataclass(init=False, repr=False, eq=False, kw_only=True)
class Response:
    """An agent's answer to ``on_messages``: the final message and what happened on the way."""

    chat_message: BaseChatMessage
    inner_messages: Sequence[BaseAgentEvent | BaseChatMessage] | None = field(default=None)

    def __init__(
        self,
        *,
        chat_message: BaseChatMessage,
        inner_messages: Sequence[BaseAgentEvent | BaseChatMessage] | None = None,
    ) -> None:
        self.chat_message = chat_message
        self.inner_messages = inner_messages

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(chat_message={self.chat_message!r}, inner_messages={self.inner_messages!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.chat_message, self.inner_messages) == (other.chat_message, other.inner_messages)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


class ChatAgent(ABC, TaskRunner, ComponentBase[BaseModel]):
    """An agent that takes chat messages and answers with a :class:`Response`."""

    component_type = "agent"

    @property
    @abstractmethod
    def name(self) -> str:
        """Unique within a team; used as the message ``source``."""

    @property
    @abstractmethod
    def description(self) -> str:
        """What the agent does; group chats use it to choose speakers."""

    @property
    @abstractmethod
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """The chat message types the agent can produce in its response."""

    @abstractmethod
    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Handle new messages and answer."""

    @abstractmethod
    def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Like :meth:`on_messages`, yielding events as they happen and the Response last."""

    @abstractmethod
    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation."""

    @abstractmethod
    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        """Called when the agent's team is paused while the agent is running."""

    @abstractmethod
    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        """Called when the agent's team resumes."""

    @abstractmethod
    async def save_state(self) -> Mapping[str, Any]:
        """A JSON-ready snapshot of the agent's state."""

    @abstractmethod
    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot made by :meth:`save_state`."""

    @abstractmethod
    async def close(self) -> None:
        """Release resources held by the agent."""
