"""The message bases, and TextMessage, the message nearly every run starts and ends with.

The bases hold what every chat message and event shares (ids, source, usage, timestamps).
TextMessage is here, apart from the other chat messages and the events, so that a plain
agent run defines only the message classes it uses, and loads one module for them, not two
(docs/performance.md, "Start-up").
"""

import sys
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from muster.core.internal import construct_trusted
from muster.models import RequestUsage, UserMessage

__all__ = ["BaseAgentEvent", "BaseChatMessage", "BaseMessage", "BaseTextChatMessage", "TextMessage"]


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


def is_streaming_chunk(message: object) -> bool:
    """Whether ``message`` is a ModelClientStreamingChunkEvent, without loading the events.

    Runs and spans leave streaming chunks out of what they keep. The events load on first
    use (see the package docstring); until they have, no chunk can exist, so a plain run's
    check does not load them.
    """
    events = sys.modules.get("muster.messages._events")
    return events is not None and isinstance(message, events.ModelClientStreamingChunkEvent)
