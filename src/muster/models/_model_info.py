"""What a model can do, so agents can adapt (vision, tools, JSON, structured output)."""

# No ``from __future__ import annotations``: a TypedDict turns every string annotation into a
# ``ForwardRef``, compiling each (11 compiles at import, about 0.1 ms); native annotations are
# plain name lookups. It also makes ``multiple_system_messages`` optional in
# ``ModelInfo.__optional_keys__`` (a string ``NotRequired[...]`` is not seen as one), as in AutoGen.
import warnings
from typing import TYPE_CHECKING, Any, Final, Literal, NotRequired

from typing_extensions import TypedDict

__all__ = ["ModelCapabilities", "ModelFamily", "ModelInfo", "validate_model_info"]


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
