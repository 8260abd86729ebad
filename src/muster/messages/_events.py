"""The built-in events: what happened inside an agent (tool calls, chunks, thoughts, memory, code)."""

from __future__ import annotations

from typing import Literal

from muster.code_executor import CodeBlock, CodeResult
from muster.core import FunctionCall
from muster.memory import MemoryContent
from muster.models import FunctionExecutionResult

from . import BaseAgentEvent

__all__ = [
    "CodeExecutionEvent",
    "CodeGenerationEvent",
    "MemoryQueryEvent",
    "ModelClientStreamingChunkEvent",
    "SelectSpeakerEvent",
    "ThoughtEvent",
    "ToolCallExecutionEvent",
    "ToolCallRequestEvent",
    "UserInputRequestedEvent",
]


class ToolCallRequestEvent(BaseAgentEvent):
    """The model asked for these tool calls."""

    content: list[FunctionCall]
    type: Literal["ToolCallRequestEvent"] = "ToolCallRequestEvent"

    def to_text(self) -> str:
        return str(self.content)


class ToolCallExecutionEvent(BaseAgentEvent):
    """The tool calls ran; these are their results."""

    content: list[FunctionExecutionResult]
    type: Literal["ToolCallExecutionEvent"] = "ToolCallExecutionEvent"

    def to_text(self) -> str:
        return str(self.content)


class UserInputRequestedEvent(BaseAgentEvent):
    """A UserProxyAgent is waiting for human input (``request_id`` pairs it with the answer)."""

    request_id: str
    content: Literal[""] = ""
    type: Literal["UserInputRequestedEvent"] = "UserInputRequestedEvent"

    def to_text(self) -> str:
        return str(self.content)


class MemoryQueryEvent(BaseAgentEvent):
    """Memories retrieved and added to the model context."""

    content: list[MemoryContent]
    type: Literal["MemoryQueryEvent"] = "MemoryQueryEvent"

    def to_text(self) -> str:
        return str(self.content)


class ModelClientStreamingChunkEvent(BaseAgentEvent):
    """One streamed text chunk; ``full_message_id`` names the message it will become."""

    content: str
    full_message_id: str | None = None
    type: Literal["ModelClientStreamingChunkEvent"] = "ModelClientStreamingChunkEvent"

    def to_text(self) -> str:
        return self.content


class ThoughtEvent(BaseAgentEvent):
    """Reasoning the model produced alongside its answer."""

    content: str
    type: Literal["ThoughtEvent"] = "ThoughtEvent"

    def to_text(self) -> str:
        return self.content


class SelectSpeakerEvent(BaseAgentEvent):
    """A group chat manager picked the next speaker(s)."""

    content: list[str]
    type: Literal["SelectSpeakerEvent"] = "SelectSpeakerEvent"

    def to_text(self) -> str:
        return str(self.content)


class CodeGenerationEvent(BaseAgentEvent):
    """A model produced code blocks to execute."""

    retry_attempt: int
    content: str
    code_blocks: list[CodeBlock]
    type: Literal["CodeGenerationEvent"] = "CodeGenerationEvent"

    def to_text(self) -> str:
        return self.content


class CodeExecutionEvent(BaseAgentEvent):
    """Generated code ran with this result."""

    retry_attempt: int
    result: CodeResult
    type: Literal["CodeExecutionEvent"] = "CodeExecutionEvent"

    def to_text(self) -> str:
        return self.result.output
