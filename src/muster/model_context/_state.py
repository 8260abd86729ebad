"""The saved form of a model context, loaded by the first ``load_state``."""

from pydantic import BaseModel, ConfigDict, Field

from muster.models import LLMMessage

__all__ = ["ChatCompletionContextState"]


class ChatCompletionContextState(BaseModel):
    """The saved form of a context: every message it holds, oldest first."""

    # Schema built on first use, not at import: see docs/performance.md, "Start-up".
    model_config = ConfigDict(defer_build=True)

    messages: list[LLMMessage] = Field(default_factory=list)
