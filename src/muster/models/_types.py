"""Messages exchanged with a chat-completion model, and what a model call returns.

The tool results and the ``LLMMessage`` union are in ``_llm_message``, defined on first use.
"""

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from muster.core import FunctionCall, Image

__all__ = [
    "AssistantMessage",
    "ChatCompletionTokenLogprob",
    "CreateResult",
    "FinishReasons",
    "RequestUsage",
    "SystemMessage",
    "TopLogprob",
    "UserMessage",
]


class SystemMessage(BaseModel):
    """Instructions for the model from the developer."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    content: str
    type: Literal["SystemMessage"] = "SystemMessage"


class UserMessage(BaseModel):
    """Input from a user or another agent: text, or a list mixing text and images."""

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    content: str | list[str | Image]
    source: str
    """The name of the agent (or user) that sent it."""
    type: Literal["UserMessage"] = "UserMessage"


class AssistantMessage(BaseModel):
    """A model's earlier reply: text, or the tool calls it asked for."""

    model_config = ConfigDict(defer_build=True)

    content: str | list[FunctionCall]
    thought: str | None = None
    """Reasoning text that came with the reply (reasoning models, or text before tool calls)."""
    source: str
    type: Literal["AssistantMessage"] = "AssistantMessage"


# A dataclass whose methods are written out: ``@dataclass`` generates and compiles them at
# import (about 0.25 ms per class, in every process). They are exactly what the decorator
# would generate (tests/core/test_handwritten_dataclasses.py).
@dataclass(init=False, repr=False, eq=False)
class RequestUsage:
    """Tokens a call consumed."""

    prompt_tokens: int
    completion_tokens: int

    def __init__(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens

    def __repr__(self) -> str:
        return (
            f"{type(self).__qualname__}(prompt_tokens={self.prompt_tokens!r}, "
            f"completion_tokens={self.completion_tokens!r})"
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.prompt_tokens, self.completion_tokens) == (other.prompt_tokens, other.completion_tokens)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


FinishReasons = Literal["stop", "length", "function_calls", "content_filter", "unknown"]


class TopLogprob(BaseModel):
    """An alternative token and its log-probability."""

    model_config = ConfigDict(defer_build=True)

    logprob: float
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(BaseModel):
    """A produced token with its log-probability and alternatives."""

    model_config = ConfigDict(defer_build=True)

    token: str
    logprob: float
    top_logprobs: list[TopLogprob] | None = None
    bytes: list[int] | None = None


class CreateResult(BaseModel):
    """The result of one model call."""

    model_config = ConfigDict(defer_build=True)

    finish_reason: FinishReasons
    content: str | list[FunctionCall]
    usage: RequestUsage
    cached: bool
    """True when a cache answered and no tokens were spent."""
    logprobs: list[ChatCompletionTokenLogprob] | None = None
    thought: str | None = None
