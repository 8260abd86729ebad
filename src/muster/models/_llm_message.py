"""Tool results fed back to a model, and ``LLMMessage``, the union of every message a model is sent.

Apart from the other LLM types and loaded on first use (``from muster.models import
LLMMessage`` works as before): defining a pydantic class costs about 0.3 ms of start-up even
with its schema build deferred, and a run whose model calls no tool never makes a tool
result. The union needs the result message, so it lives here too; code that only annotates
with it imports it under ``TYPE_CHECKING`` (docs/performance.md, "Start-up").
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._types import AssistantMessage, SystemMessage, UserMessage

__all__ = ["FunctionExecutionResult", "FunctionExecutionResultMessage", "LLMMessage"]


class FunctionExecutionResult(BaseModel):
    """The outcome of one tool call, fed back to the model."""

    model_config = ConfigDict(defer_build=True)

    content: str
    name: str
    call_id: str
    is_error: bool | None = None


class FunctionExecutionResultMessage(BaseModel):
    """The results of a batch of tool calls."""

    model_config = ConfigDict(defer_build=True)

    content: list[FunctionExecutionResult]
    type: Literal["FunctionExecutionResultMessage"] = "FunctionExecutionResultMessage"


LLMMessage = Annotated[
    SystemMessage | UserMessage | AssistantMessage | FunctionExecutionResultMessage,
    Field(discriminator="type"),
]
"""Any message that can be sent to a model."""
