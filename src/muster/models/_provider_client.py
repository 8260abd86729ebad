"""What every SDK-backed provider client shares: the call machinery and usage bookkeeping.

OpenAI (and Azure) and Anthropic differ in wire formats only; limits, retries, usage
totals and the token estimate for the limiter are the same and live here once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from muster.core.internal import Tool, ToolSchema

from ._llm_message import LLMMessage
from ._model_client import ChatCompletionClient
from ._provider_call import ProviderCaller, Translate
from ._retry import RetryPolicy
from ._token_estimate import estimate_messages_tokens, estimate_tools_tokens
from ._types import ModelCapabilities, ModelFamily, ModelInfo, RequestUsage, validate_model_info
from .exceptions import ModelConfigurationError
from .limits import RateLimiter
from .usage import UsageTracker

__all__ = ["ProviderClientBase", "resolve_model_info"]


def resolve_model_info(
    model: str,
    model_info: ModelInfo | None,
    capabilities: ModelCapabilities | None,
    *,
    known: Callable[[str], ModelInfo | None],
    provider: str,
) -> ModelInfo:
    """The user's ``model_info`` (checked), else the deprecated ``model_capabilities``, else ours.

    Every provider client resolves what a model can do the same way; only the table of
    models it knows (``known``) differs.

    Raises:
        ModelConfigurationError: the model is unknown and no ``model_info`` was given.
    """
    if model_info is not None:
        validate_model_info(model_info)
        return model_info
    if capabilities is not None:
        return ModelInfo(
            vision=capabilities.get("vision", False),
            function_calling=capabilities.get("function_calling", False),
            json_output=capabilities.get("json_output", False),
            family=ModelFamily.UNKNOWN,
            structured_output=False,
        )
    found = known(model)
    if found is None:
        raise ModelConfigurationError(
            f"model {model!r} is not a model muster knows {provider} to serve: pass model_info=ModelInfo("
            "vision=..., function_calling=..., json_output=..., family=..., structured_output=...) to say what it can do"
        )
    return found


class ProviderClientBase(ChatCompletionClient):
    """Base of the provider clients: sets up the caller, the tracker and the usage totals."""

    def _init_provider(
        self,
        *,
        provider: str,
        translate: Translate,
        retry_policy: RetryPolicy | None,
        rate_limiter: RateLimiter | None,
        usage_tracker: UsageTracker | None,
    ) -> None:
        self.usage_tracker = usage_tracker if usage_tracker is not None else UsageTracker()
        """Totals of calls, tokens and USD cost for this client (shared if passed in)."""
        self.rate_limiter = rate_limiter
        self._caller: ProviderCaller[Any] = ProviderCaller(
            provider=provider,
            translate=translate,
            retry=retry_policy or RetryPolicy(),
            rate_limiter=rate_limiter,
            usage_tracker=self.usage_tracker,
        )
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._actual_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    def _estimate(self, messages: Sequence[LLMMessage], tools: Sequence[Tool | ToolSchema]) -> int:
        # Only a token budget needs the estimate; skip the work otherwise.
        if self.rate_limiter is None or self.rate_limiter.tokens_per_minute is None:
            return 0
        return estimate_messages_tokens(messages) + estimate_tools_tokens(tools)

    def _add_usage(self, usage: RequestUsage) -> None:
        # Fresh objects, not in-place sums: callers may hold the previous totals.
        self._total_usage = RequestUsage(
            prompt_tokens=self._total_usage.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._total_usage.completion_tokens + usage.completion_tokens,
        )
        self._actual_usage = RequestUsage(
            prompt_tokens=self._actual_usage.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._actual_usage.completion_tokens + usage.completion_tokens,
        )

    def actual_usage(self) -> RequestUsage:
        """Tokens used by calls that reached the model."""
        return self._actual_usage

    def total_usage(self) -> RequestUsage:
        """Tokens used by all calls of this client."""
        return self._total_usage
