"""The declarative config of ReplayChatCompletionClient, loaded by the first dump or load of a spec."""

from pydantic import BaseModel, ConfigDict

from ._types import CreateResult, ModelInfo

__all__ = ["ReplayChatCompletionClientConfig"]


class ReplayChatCompletionClientConfig(BaseModel):
    """Declarative config of :class:`ReplayChatCompletionClient`."""

    # Schema built on first use, not at import: see docs/performance.md, "Start-up".
    model_config = ConfigDict(defer_build=True)

    chat_completions: list[str | CreateResult]
    """The scripted replies, in order."""
    model_info: ModelInfo | None = None
    """Capabilities to advertise; ``None`` means a plain text model of unknown family."""
