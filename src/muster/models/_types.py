"""The model contract's value types: messages to and from a model, what a call returns, what a model can do.

The tool results and the ``LLMMessage`` union are in ``_llm_message``, defined on first use.
``ModelInfo``, ``ModelCapabilities`` and ``ModelFamily`` (what a model can do, so agents can
adapt: vision, tools, JSON, structured output) share this module with the messages (they
used to have one of their own) because every client and agent loads both, and a module costs
a process about 0.3 ms to find and load (docs/performance.md, "Start-up").

No ``from __future__ import annotations``: pydantic turns each string annotation into a
``ForwardRef`` and evaluates it when the class is made, and a TypedDict compiles each (11
compiles for ``ModelInfo`` and ``ModelCapabilities``, about 0.1 ms); native annotations are
plain name lookups. It also makes ``multiple_system_messages`` optional in
``ModelInfo.__optional_keys__`` (a string ``NotRequired[...]`` is not seen as one), as in AutoGen.
"""

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, NotRequired

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypedDict

from muster.core import FunctionCall, Image

__all__ = [
    "AssistantMessage",
    "ChatCompletionTokenLogprob",
    "CreateResult",
    "FinishReasons",
    "ModelCapabilities",
    "ModelFamily",
    "ModelInfo",
    "RequestUsage",
    "SystemMessage",
    "TopLogprob",
    "UserMessage",
    "validate_model_info",
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


class _FamilyLiteral:
    """``ModelFamily.ANY``, the ``Literal`` of every family constant, built on first read.

    Building a 33-value ``Literal`` costs about 0.1 ms, in every process that imports an
    agent, and only annotations read it. The first read builds it from the class's constants,
    in their order (what mypy sees is the same list written out), and puts it in the class
    in place of this descriptor.
    """

    def __get__(self, instance: object, owner: type[Any]) -> Any:
        families = tuple(
            value for name, value in vars(owner).items() if name.isupper() and isinstance(value, str)
        )
        literal = Literal.__getitem__(families)
        owner.ANY = literal
        return literal


class ModelFamily:
    """Known model families; ``family`` in :class:`ModelInfo` is one of these or any string."""

    GPT_5: Final = "gpt-5"
    GPT_41: Final = "gpt-41"
    GPT_45: Final = "gpt-45"
    GPT_4O: Final = "gpt-4o"
    O1: Final = "o1"
    O3: Final = "o3"
    O4: Final = "o4"
    GPT_4: Final = "gpt-4"
    GPT_35: Final = "gpt-35"
    R1: Final = "r1"
    GEMINI_1_5_FLASH: Final = "gemini-1.5-flash"
    GEMINI_1_5_PRO: Final = "gemini-1.5-pro"
    GEMINI_2_0_FLASH: Final = "gemini-2.0-flash"
    GEMINI_2_5_PRO: Final = "gemini-2.5-pro"
    GEMINI_2_5_FLASH: Final = "gemini-2.5-flash"
    CLAUDE_3_HAIKU: Final = "claude-3-haiku"
    CLAUDE_3_SONNET: Final = "claude-3-sonnet"
    CLAUDE_3_OPUS: Final = "claude-3-opus"
    CLAUDE_3_5_HAIKU: Final = "claude-3-5-haiku"
    CLAUDE_3_5_SONNET: Final = "claude-3-5-sonnet"
    CLAUDE_3_7_SONNET: Final = "claude-3-7-sonnet"
    CLAUDE_4_OPUS: Final = "claude-4-opus"
    CLAUDE_4_SONNET: Final = "claude-4-sonnet"
    LLAMA_3_3_8B: Final = "llama-3.3-8b"
    LLAMA_3_3_70B: Final = "llama-3.3-70b"
    LLAMA_4_SCOUT: Final = "llama-4-scout"
    LLAMA_4_MAVERICK: Final = "llama-4-maverick"
    CODESRAL: Final = "codestral"
    OPEN_CODESRAL_MAMBA: Final = "open-codestral-mamba"
    MISTRAL: Final = "mistral"
    MINISTRAL: Final = "ministral"
    PIXTRAL: Final = "pixtral"
    UNKNOWN: Final = "unknown"

    if TYPE_CHECKING:
        ANY = Literal[
            "gpt-5", "gpt-41", "gpt-45", "gpt-4o", "o1", "o3", "o4", "gpt-4", "gpt-35", "r1",
            "gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.5-pro", "gemini-2.5-flash",
            "claude-3-haiku", "claude-3-sonnet", "claude-3-opus", "claude-3-5-haiku", "claude-3-5-sonnet",
            "claude-3-7-sonnet", "claude-4-opus", "claude-4-sonnet", "llama-3.3-8b", "llama-3.3-70b",
            "llama-4-scout", "llama-4-maverick", "codestral", "open-codestral-mamba", "mistral",
            "ministral", "pixtral", "unknown",
        ]  # fmt: skip
    else:  # the same Literal, built on first read (see _FamilyLiteral)
        ANY = _FamilyLiteral()

    def __new__(cls, *args: Any, **kwargs: Any) -> "ModelFamily":
        raise TypeError(f"{cls.__name__} is a namespace of constants and cannot be instantiated")

    @staticmethod
    def is_claude(family: str) -> bool:
        """Anthropic Claude models."""
        return family.startswith("claude-")

    @staticmethod
    def is_gemini(family: str) -> bool:
        """Google Gemini models."""
        return family.startswith("gemini-")

    @staticmethod
    def is_openai(family: str) -> bool:
        """OpenAI GPT and o-series models."""
        return family in {"gpt-5", "gpt-41", "gpt-45", "gpt-4o", "o1", "o3", "o4", "gpt-4", "gpt-35"}

    @staticmethod
    def is_llama(family: str) -> bool:
        """Meta Llama models."""
        return family.startswith("llama-")

    @staticmethod
    def is_mistral(family: str) -> bool:
        """Mistral models."""
        return family in {"codestral", "open-codestral-mamba", "mistral", "ministral", "pixtral"}


class ModelCapabilities(TypedDict, total=False):
    """Deprecated: use :class:`ModelInfo`."""

    vision: bool
    function_calling: bool
    json_output: bool


class ModelInfo(TypedDict):
    """Capabilities of a model, used by agents to decide what to send it."""

    vision: bool
    function_calling: bool
    json_output: bool
    family: str
    structured_output: bool
    multiple_system_messages: NotRequired[bool]


_REQUIRED_FIELDS = ("vision", "function_calling", "json_output", "family")


def validate_model_info(model_info: ModelInfo) -> None:
    """Check that a user-supplied ModelInfo has the fields agents rely on.

    Raises:
        ValueError: a required field is missing (the message names it).
    """
    missing = [name for name in _REQUIRED_FIELDS if name not in model_info]
    if missing:
        raise ValueError(
            f"model_info is missing required field(s) {', '.join(missing)}; see muster.models.ModelInfo"
        )
    if "structured_output" not in model_info:
        warnings.warn(
            "model_info has no 'structured_output' field; it will default to False",
            UserWarning,
            stacklevel=2,
        )
