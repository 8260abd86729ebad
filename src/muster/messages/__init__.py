"""Chat messages and events exchanged by agents and teams (AutoGen: ``autogen_agentchat.messages``).

Two families: *chat messages* (``BaseChatMessage``) are what agents say to each other and
what a team's transcript is made of; *events* (``BaseAgentEvent``) report what happened
inside an agent (tool calls, streaming chunks, thoughts) for observers such as the console.
Every concrete class is a pydantic model with a ``type`` discriminator, so transcripts
round-trip through JSON for persistence and the HTTP API.

The bases and ``TextMessage`` load with the package; every other class loads on first access
to its name (``from muster.messages import ThoughtEvent`` works as before). Defining a
pydantic class costs about 0.3 ms even with a deferred schema build, and a plain agent run
uses none of the events: see docs/performance.md, "Start-up".
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

from ._base import BaseAgentEvent, BaseChatMessage, BaseMessage, BaseTextChatMessage, TextMessage

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
