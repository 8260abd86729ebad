"""A model context that shows the model the whole conversation."""

from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.core import Component
from muster.models import LLMMessage

from ._chat_completion_context import ChatCompletionContext

__all__ = ["UnboundedChatCompletionContext", "UnboundedChatCompletionContextConfig"]


class UnboundedChatCompletionContextConfig(BaseModel):
    """Declarative config of :class:`UnboundedChatCompletionContext`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    initial_messages: list[LLMMessage] | None = None


class UnboundedChatCompletionContext(ChatCompletionContext, Component[UnboundedChatCompletionContextConfig]):
    """Keeps and returns every message: the default when no context is given to an agent."""

    component_config_schema = UnboundedChatCompletionContextConfig
    component_provider_override = "muster.model_context.UnboundedChatCompletionContext"

    async def get_messages(self) -> list[LLMMessage]:
        """Every stored message."""
        return list(self._messages)

    def _to_config(self) -> UnboundedChatCompletionContextConfig:
        return UnboundedChatCompletionContextConfig(initial_messages=self._initial_messages)

    @classmethod
    def _from_config(cls, config: UnboundedChatCompletionContextConfig) -> Self:
        return cls(initial_messages=config.initial_messages)
