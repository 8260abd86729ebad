"""A model context that keeps the start and the end of a conversation and elides the middle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.core import Component, FunctionCall
from muster.models import AssistantMessage, LLMMessage, UserMessage

from ._chat_completion_context import ChatCompletionContext, drop_leading_tool_results
from .exceptions import InvalidContextSizeError

__all__ = ["HeadAndTailChatCompletionContext", "HeadAndTailChatCompletionContextConfig"]


class HeadAndTailChatCompletionContextConfig(BaseModel):
    """Declarative config of :class:`HeadAndTailChatCompletionContext`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    head_size: int
    tail_size: int
    initial_messages: list[LLMMessage] | None = None


def _is_tool_call_request(message: LLMMessage) -> bool:
    return (
        isinstance(message, AssistantMessage)
        and isinstance(message.content, list)
        and all(isinstance(item, FunctionCall) for item in message.content)
    )


class HeadAndTailChatCompletionContext(
    ChatCompletionContext, Component[HeadAndTailChatCompletionContextConfig]
):
    """Returns the first ``head_size`` and last ``tail_size`` messages with a marker between.

    The head keeps the task statement and early instructions, the tail the recent
    exchange. When messages are left out, a ``UserMessage`` from ``"System"`` saying
    ``"Skipped N messages."`` stands in for them, N being the count beyond head and
    tail. Tool calls are never split from their results: a tool-call request ending the
    head and a tool result starting the tail are dropped from the view.

    Args:
        head_size: How many of the first messages to keep; must be positive.
        tail_size: How many of the last messages to keep; must be positive.
        initial_messages: Messages the context starts with.

    Raises:
        InvalidContextSizeError: (a ``ValueError``) a size is not positive.
    """

    component_config_schema = HeadAndTailChatCompletionContextConfig
    component_provider_override = "muster.model_context.HeadAndTailChatCompletionContext"

    def __init__(
        self, head_size: int, tail_size: int, initial_messages: Sequence[LLMMessage] | None = None
    ) -> None:
        super().__init__(initial_messages)
        if head_size <= 0:
            raise InvalidContextSizeError("head_size", head_size)
        if tail_size <= 0:
            raise InvalidContextSizeError("tail_size", tail_size)
        self._head_size = head_size
        self._tail_size = tail_size

    async def get_messages(self) -> list[LLMMessage]:
        """Head, a skipped-messages marker and tail; everything when nothing is skipped."""
        num_skipped = len(self._messages) - self._head_size - self._tail_size
        if num_skipped <= 0:
            return list(self._messages)
        head = self._messages[: self._head_size]
        if _is_tool_call_request(head[-1]):
            head = head[:-1]
        tail = drop_leading_tool_results(self._messages[-self._tail_size :])
        marker = UserMessage(content=f"Skipped {num_skipped} messages.", source="System")
        return [*head, marker, *tail]

    def _to_config(self) -> HeadAndTailChatCompletionContextConfig:
        return HeadAndTailChatCompletionContextConfig(
            head_size=self._head_size, tail_size=self._tail_size, initial_messages=self._initial_messages
        )

    @classmethod
    def _from_config(cls, config: HeadAndTailChatCompletionContextConfig) -> Self:
        return cls(
            head_size=config.head_size, tail_size=config.tail_size, initial_messages=config.initial_messages
        )
