"""A model context that shows the model only the most recent messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.core import Component
from muster.models import LLMMessage

from ._chat_completion_context import ChatCompletionContext, drop_leading_tool_results
from .exceptions import InvalidContextSizeError

__all__ = ["BufferedChatCompletionContext", "BufferedChatCompletionContextConfig"]


class BufferedChatCompletionContextConfig(BaseModel):
    """Declarative config of :class:`BufferedChatCompletionContext`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    buffer_size: int
    initial_messages: list[LLMMessage] | None = None


class BufferedChatCompletionContext(ChatCompletionContext, Component[BufferedChatCompletionContextConfig]):
    """Returns at most the last ``buffer_size`` messages, bounding prompt size in long chats.

    Every message is still stored (and saved with the state); only the view is cut. If
    the cut leaves a tool-result message first, it is dropped too, since its tool call
    is gone, so the view may hold ``buffer_size - 1`` messages.

    Args:
        buffer_size: How many recent messages to return; must be positive.
        initial_messages: Messages the context starts with.

    Raises:
        InvalidContextSizeError: (a ``ValueError``) ``buffer_size`` is not positive.
    """

    component_config_schema = BufferedChatCompletionContextConfig
    component_provider_override = "muster.model_context.BufferedChatCompletionContext"

    def __init__(self, buffer_size: int, initial_messages: Sequence[LLMMessage] | None = None) -> None:
        super().__init__(initial_messages)
        if buffer_size <= 0:
            raise InvalidContextSizeError("buffer_size", buffer_size)
        self._buffer_size = buffer_size

    @property
    def buffer_size(self) -> int:
        """How many recent messages the view holds at most."""
        return self._buffer_size

    async def get_messages(self) -> list[LLMMessage]:
        """The last ``buffer_size`` messages, minus a leading orphaned tool result."""
        return drop_leading_tool_results(self._messages[-self._buffer_size :])

    def _to_config(self) -> BufferedChatCompletionContextConfig:
        return BufferedChatCompletionContextConfig(
            buffer_size=self._buffer_size, initial_messages=self._initial_messages
        )

    @classmethod
    def _from_config(cls, config: BufferedChatCompletionContextConfig) -> Self:
        return cls(buffer_size=config.buffer_size, initial_messages=config.initial_messages)
