"""Rebuilding dumped messages by their ``type`` (MessageFactory), and AutoGen's deprecated unions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from . import BaseAgentEvent, BaseChatMessage, TextMessage
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

__all__ = ["AgentEvent", "ChatMessage", "MessageFactory"]


ChatMessage = Annotated[
    TextMessage | MultiModalMessage | StopMessage | ToolCallSummaryMessage | HandoffMessage,
    Field(discriminator="type"),
]
"""Deprecated union of the built-in chat messages; prefer :class:`BaseChatMessage`."""

AgentEvent = Annotated[
    ToolCallRequestEvent
    | ToolCallExecutionEvent
    | MemoryQueryEvent
    | UserInputRequestedEvent
    | ModelClientStreamingChunkEvent
    | ThoughtEvent
    | SelectSpeakerEvent
    | CodeGenerationEvent
    | CodeExecutionEvent,
    Field(discriminator="type"),
]
"""Deprecated union of the built-in events; prefer :class:`BaseAgentEvent`."""

_BUILTIN_TYPES: tuple[type[BaseChatMessage | BaseAgentEvent], ...] = (
    TextMessage,
    MultiModalMessage,
    StopMessage,
    ToolCallSummaryMessage,
    HandoffMessage,
    ToolCallRequestEvent,
    ToolCallExecutionEvent,
    MemoryQueryEvent,
    UserInputRequestedEvent,
    ModelClientStreamingChunkEvent,
    ThoughtEvent,
    SelectSpeakerEvent,
    CodeGenerationEvent,
    CodeExecutionEvent,
)


class MessageFactory:
    """Rebuilds messages from dumped dicts by their ``type``; custom types are registered."""

    def __init__(self) -> None:
        self._message_types: dict[str, type[BaseChatMessage | BaseAgentEvent]] = {
            cls.__name__: cls for cls in _BUILTIN_TYPES
        }

    def is_registered(self, message_type: type[BaseAgentEvent | BaseChatMessage]) -> bool:
        """Whether ``message_type`` can be rebuilt by this factory."""
        return message_type.__name__ in self._message_types

    def register(self, message_type: type[BaseAgentEvent | BaseChatMessage]) -> None:
        """Register a custom message or event class (by class name)."""
        if not (issubclass(message_type, BaseChatMessage) or issubclass(message_type, BaseAgentEvent)):
            raise ValueError(f"{message_type!r} must subclass BaseChatMessage or BaseAgentEvent")
        if self.is_registered(message_type):
            raise ValueError(f"Message type {message_type.__name__} is already registered")
        self._message_types[message_type.__name__] = message_type

    def create(self, data: Mapping[str, Any]) -> BaseAgentEvent | BaseChatMessage:
        """Rebuild a message; raises ValueError naming an unknown or missing ``type``."""
        message_type = data.get("type")
        if not isinstance(message_type, str):
            raise ValueError("message data has no 'type' field")
        cls = self._message_types.get(message_type)
        if cls is None:
            raise ValueError(
                f"Unknown message type {message_type!r}; register it with MessageFactory.register"
            )
        return cls.load(data)
