"""The declarative config of UnboundedChatCompletionContext, loaded by the first dump or load of a spec."""

from pydantic import BaseModel, ConfigDict

from muster.models import LLMMessage

__all__ = ["UnboundedChatCompletionContextConfig"]


class UnboundedChatCompletionContextConfig(BaseModel):
    """Declarative config of :class:`UnboundedChatCompletionContext`."""

    # Schema built on first use, not at import: see docs/performance.md, "Start-up".
    model_config = ConfigDict(defer_build=True)

    initial_messages: list[LLMMessage] | None = None
