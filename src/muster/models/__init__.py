"""LLM message types and the ChatCompletionClient contract (AutoGen: ``autogen_core.models``).

Providers live in sub-packages imported on demand (``muster.models.openai``,
``muster.models.anthropic``, ``muster.models.replay``, ``muster.models.cache``) so
that importing this package never pulls in an SDK. The tool results and ``LLMMessage`` load
on first access to their names (``models/_llm_message.py``).
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

from ._model_client import ChatCompletionClient
from ._types import (
    AssistantMessage,
    ChatCompletionTokenLogprob,
    CreateResult,
    FinishReasons,
    ModelCapabilities,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    TopLogprob,
    UserMessage,
    validate_model_info,
)

if TYPE_CHECKING:
    from ._llm_message import FunctionExecutionResult, FunctionExecutionResultMessage, LLMMessage

__all__ = [
    "AssistantMessage",
    "ChatCompletionClient",
    "ChatCompletionTokenLogprob",
    "CreateResult",
    "FinishReasons",
    "FunctionExecutionResult",
    "FunctionExecutionResultMessage",
    "LLMMessage",
    "ModelCapabilities",
    "ModelFamily",
    "ModelInfo",
    "RequestUsage",
    "SystemMessage",
    "TopLogprob",
    "UserMessage",
    "validate_model_info",
]

_EXPORTS = dict.fromkeys(
    ("FunctionExecutionResult", "FunctionExecutionResultMessage", "LLMMessage"), "._llm_message"
)
"""Name -> sub-module that defines it; imported on first access (see ``lazy_exports``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
