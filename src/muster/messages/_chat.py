"""The built-in chat messages besides TextMessage: stop, handoff, tool-call summary, multimodal."""

from __future__ import annotations

from typing import Literal

from muster.core import FunctionCall, Image
from muster.models import FunctionExecutionResult, LLMMessage, UserMessage

from . import BaseChatMessage, BaseTextChatMessage

__all__ = ["HandoffMessage", "MultiModalMessage", "StopMessage", "ToolCallSummaryMessage"]


class StopMessage(BaseTextChatMessage):
    """Asks the team to stop; ``content`` says why."""

    type: Literal["StopMessage"] = "StopMessage"


class HandoffMessage(BaseTextChatMessage):
    """Hands the conversation to ``target`` (Swarm), optionally carrying model context."""

    target: str
    context: list[LLMMessage] = []
    type: Literal["HandoffMessage"] = "HandoffMessage"


class ToolCallSummaryMessage(BaseTextChatMessage):
    """The final message of an agent turn that ended with tool calls and no reflection."""

    tool_calls: list[FunctionCall]
    results: list[FunctionExecutionResult]
    type: Literal["ToolCallSummaryMessage"] = "ToolCallSummaryMessage"


class MultiModalMessage(BaseChatMessage):
    """Text and images."""

    content: list[str | Image]
    type: Literal["MultiModalMessage"] = "MultiModalMessage"

    def _render(self, image_placeholder: str) -> str:
        return "\n".join(c if isinstance(c, str) else image_placeholder for c in self.content)

    def to_model_text(self, image_placeholder: str | None = "[image]") -> str:
        """Text with each image replaced by ``image_placeholder`` (dropped when ``None``)."""
        if image_placeholder is None:
            return "\n".join(c for c in self.content if isinstance(c, str))
        return self._render(image_placeholder)

    def to_text(self, iterm: bool = False) -> str:
        """Text with images shown as ``<image>``; ``iterm=True`` inlines them for iTerm2."""
        if not iterm:
            return self._render("<image>")
        parts = []
        for c in self.content:
            if isinstance(c, str):
                parts.append(c)
            else:
                parts.append(f"\033]1337;File=inline=1:{c.to_base64()}\a\n")
        return "\n".join(parts)

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=list(self.content), source=self.source)
