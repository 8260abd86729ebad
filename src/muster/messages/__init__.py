"""Chat messages and events exchanged by agents and teams (AutoGen: ``autogen_agentchat.messages``).

Two families: *chat messages* (``BaseChatMessage``) are what agents say to each other and
what a team's transcript is made of; *events* (``BaseAgentEvent``) report what happened
inside an agent (tool calls, streaming chunks, thoughts) for observers such as the console.
Every concrete class is a pydantic model with a ``type`` discriminator, so transcripts
round-trip through JSON for persistence and the HTTP API.

The bases and ``TextMessage`` are defined here, with the package; every other class loads on
first access to its name (``from muster.messages import ThoughtEvent`` works as before).
Defining a pydantic class costs about 0.3 ms even with a deferred schema build, and a plain
agent run uses none of the events: see docs/performance.md, "Start-up". The bases hold what
every chat message and event shares (ids, source, usage, timestamps); ``TextMessage``, the
message nearly every run starts and ends with, is defined with them so that a plain run
defines only the message classes it uses, and loads no module for them but this one.
"""

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from muster.core.internal import construct_trusted, lazy_exports
from muster.models import RequestUsage, UserMessage

if TYPE_CHECKING:
    from ._chat import HandoffMessage, MultiModalMessage, StopMessage, ToolCallSummaryMessage
    from ._events import (
        CodeExecutionEvent,
        CodeGenerationEvent,
        MemoryQueryEvent,
        ModelClientStreamingChunkEvent,
        SelectSpeakerEvent,
        ThoughtEvent,
        ToolCallExecutionEvent,
        ToolCallRequestEvent,
        UserInputRequestedEvent,
    )
    from ._factory import AgentEvent, ChatMessage, MessageFactory
    from ._structured import StructuredContentType, StructuredMessage, StructuredMessageFactory

__all__ = [
    "AgentEvent",
    "BaseAgentEvent",
    "BaseChatMessage",
    "BaseMessage",
    "BaseTextChatMessage",
    "ChatMessage",
    "CodeExecutionEvent",
    "CodeGenerationEvent",
    "HandoffMessage",
    "MemoryQueryEvent",
    "MessageFactory",
    "ModelClientStreamingChunkEvent",
    "MultiModalMessage",
    "SelectSpeakerEvent",
    "StopMessage",
    "StructuredContentType",
    "StructuredMessage",
    "StructuredMessageFactory",
    "TextMessage",
    "ThoughtEvent",
    "ToolCallExecutionEvent",
    "ToolCallRequestEvent",
    "ToolCallSummaryMessage",
    "UserInputRequestedEvent",
]


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class BaseMessage(BaseModel, ABC):
    """Anything an agent or team emits."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    @abstractmethod
    def to_text(self) -> str:
        """A plain-text rendering for consoles and logs."""

    def dump(self) -> Mapping[str, Any]:
        """A JSON-ready dict; :meth:`load` (or :class:`MessageFactory`) reverses it."""
        return self.model_dump(mode="json")

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a message from :meth:`dump` output."""
        return cls.model_validate(data)


class BaseChatMessage(BaseMessage, ABC):
    """A message agents exchange; the unit a team's transcript is made of."""

    id: str = Field(default_factory=_new_id)
    source: str
    """Name of the agent that sent it."""
    models_usage: RequestUsage | None = None
    """Model tokens spent producing it, if a model did."""
    metadata: dict[str, str] = {}
    created_at: datetime = Field(default_factory=_now)

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @abstractmethod
    def to_model_text(self) -> str:
        """The text a model should see for this message."""

    @abstractmethod
    def to_model_message(self) -> UserMessage:
        """This message as model input, from the model's point of view a user turn."""


class BaseTextChatMessage(BaseChatMessage, ABC):
    """A chat message whose content is a string."""

    content: str

    def to_text(self) -> str:
        return self.content

    def to_model_text(self) -> str:
        return self.content

    def to_model_message(self) -> UserMessage:
        return construct_trusted(UserMessage, content=self.content, source=self.source)


class TextMessage(BaseTextChatMessage):
    """Plain text."""

    type: Literal["TextMessage"] = "TextMessage"


class BaseAgentEvent(BaseMessage, ABC):
    """Something that happened inside an agent, reported to observers but not to other agents."""

    id: str = Field(default_factory=_new_id)
    source: str
    models_usage: RequestUsage | None = None
    metadata: dict[str, str] = {}
    created_at: datetime = Field(default_factory=_now)

    model_config = ConfigDict(arbitrary_types_allowed=True)


_EXPORTS = {
    **dict.fromkeys(
        ("HandoffMessage", "MultiModalMessage", "StopMessage", "ToolCallSummaryMessage"), "._chat"
    ),
    **dict.fromkeys(
        (
            "CodeExecutionEvent",
            "CodeGenerationEvent",
            "MemoryQueryEvent",
            "ModelClientStreamingChunkEvent",
            "SelectSpeakerEvent",
            "ThoughtEvent",
            "ToolCallExecutionEvent",
            "ToolCallRequestEvent",
            "UserInputRequestedEvent",
        ),
        "._events",
    ),
    **dict.fromkeys(("AgentEvent", "ChatMessage", "MessageFactory"), "._factory"),
    **dict.fromkeys(
        ("StructuredContentType", "StructuredMessage", "StructuredMessageFactory"), "._structured"
    ),
}

if not TYPE_CHECKING:  # hidden from mypy so a typo stays an error for users
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
