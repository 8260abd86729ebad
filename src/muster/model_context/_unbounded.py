"""A model context that shows the model the whole conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from muster.core import Component
from muster.core.internal import LazyClassAttribute

from ._chat_completion_context import ChatCompletionContext

if TYPE_CHECKING:
    from muster.models import LLMMessage

    from ._unbounded_config import UnboundedChatCompletionContextConfig

__all__ = ["UnboundedChatCompletionContext", "UnboundedChatCompletionContextConfig"]


def __getattr__(name: str) -> Any:
    # The config model lives in its own module, loaded by the first dump or load of a spec.
    if name == "UnboundedChatCompletionContextConfig":
        from ._unbounded_config import UnboundedChatCompletionContextConfig

        return UnboundedChatCompletionContextConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class UnboundedChatCompletionContext(
    ChatCompletionContext, Component["UnboundedChatCompletionContextConfig"]
):
    """Keeps and returns every message: the default when no context is given to an agent."""

    if TYPE_CHECKING:
        component_config_schema = UnboundedChatCompletionContextConfig
    else:  # defined when first read, by a dump or a load (start-up, docs/performance.md)
        component_config_schema = LazyClassAttribute(
            "muster.model_context._unbounded_config", "UnboundedChatCompletionContextConfig"
        )
    component_provider_override = "muster.model_context.UnboundedChatCompletionContext"

    async def get_messages(self) -> list[LLMMessage]:
        """Every stored message."""
        return list(self._messages)

    def _to_config(self) -> UnboundedChatCompletionContextConfig:
        from ._unbounded_config import UnboundedChatCompletionContextConfig

        return UnboundedChatCompletionContextConfig(initial_messages=self._initial_messages)

    @classmethod
    def _from_config(cls, config: UnboundedChatCompletionContextConfig) -> Self:
        return cls(initial_messages=config.initial_messages)
