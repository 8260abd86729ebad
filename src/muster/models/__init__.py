"""LLM message types and the ChatCompletionClient contract (AutoGen: ``autogen_core.models``).

Providers live in sub-packages imported on demand (``muster.models.openai``,
``muster.models.anthropic``, ``muster.models.replay``, ``muster.models.cache``) so
that importing this package never pulls in an SDK.
"""

from ._model_client import ChatCompletionClient
from ._model_info import ModelCapabilities, ModelFamily, ModelInfo, validate_model_info
from ._types import (
    AssistantMessage,
    ChatCompletionTokenLogprob,
    CreateResult,
    FinishReasons,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
    SystemMessage,
    TopLogprob,
    UserMessage,
)

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
