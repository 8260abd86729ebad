"""The client for Anthropic's Claude models."""

from __future__ import annotations

import os
from typing import Any, Self

import anthropic

from muster.core import Component
from muster.models._provider_client import resolve_model_info
from muster.models._retry import RetryPolicy
from muster.models._secrets import reveal
from muster.models._types import ModelCapabilities, ModelInfo
from muster.models.exceptions import ModelConfigurationError
from muster.models.limits import RateLimiter
from muster.models.usage import UsageTracker

from ._base_client import BaseAnthropicChatCompletionClient
from ._config import (
    AnthropicClientConfigurationConfigModel,
    CreateArgumentsConfigModel,
    ResponseFormat,
    ThinkingConfig,
)

__all__ = ["AnthropicChatCompletionClient"]

_CREATE_ARG_NAMES = frozenset(CreateArgumentsConfigModel.model_fields)


class AnthropicChatCompletionClient(
    BaseAnthropicChatCompletionClient, Component[AnthropicClientConfigurationConfigModel]
):
    """Chat completions from Claude (Anthropic Messages API).

    Args:
        model: e.g. ``"claude-3-5-sonnet-20241022"``, ``"claude-sonnet-4-20250514"``.
        api_key: Defaults to ``$ANTHROPIC_API_KEY``.
        base_url: Another endpoint (a proxy, or a test server).
        max_tokens: Reply length cap; the API requires one (default 4096).
        timeout: Seconds to wait for a connection or the next bytes of a reply.
        max_retries: Retries of transient failures (default 2).
        thinking: Extended thinking, ``{"type": "enabled", "budget_tokens": N}``.
        model_info: Required for models muster does not know.
        rate_limiter, usage_tracker, retry_policy: As for the OpenAI clients.
    """

    component_type = "model"
    component_config_schema = AnthropicClientConfigurationConfigModel
    component_provider_override = "muster.models.anthropic.AnthropicChatCompletionClient"

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        max_tokens: int | None = 4096,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        stop_sequences: list[str] | None = None,
        response_format: ResponseFormat | None = None,
        metadata: dict[str, str] | None = None,
        thinking: ThinkingConfig | None = None,
        model_capabilities: ModelCapabilities | None = None,
        model_info: ModelInfo | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        default_headers: dict[str, str] | None = None,
        rate_limiter: RateLimiter | None = None,
        usage_tracker: UsageTracker | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        settings = dict(locals())
        for name in ("self", "__class__", "rate_limiter", "usage_tracker", "retry_policy", "api_key"):
            settings.pop(name, None)
        self._settings = {k: v for k, v in settings.items() if v is not None}
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise ModelConfigurationError("no Anthropic API key: pass api_key= or set ANTHROPIC_API_KEY")
        if model_info is None and model_capabilities is not None:
            model_info = resolve_model_info(
                model, None, model_capabilities, known=lambda _: None, provider="Anthropic"
            )
        sdk_client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=base_url,
            timeout=timeout if timeout is not None else anthropic.NOT_GIVEN,
            max_retries=0,
            default_headers=default_headers,
        )
        create_args = {k: v for k, v in self._settings.items() if k in _CREATE_ARG_NAMES}
        create_args.setdefault("max_tokens", 4096)  # the Messages API requires a cap
        super().__init__(
            sdk_client,
            create_args=create_args,
            model_info=model_info,
            retry_policy=retry_policy or RetryPolicy(max_retries=2 if max_retries is None else max_retries),
            rate_limiter=rate_limiter,
            usage_tracker=usage_tracker,
        )

    def _to_config(self) -> AnthropicClientConfigurationConfigModel:
        # The API key is left out on purpose: specs get shared and committed.
        return AnthropicClientConfigurationConfigModel(**self._settings)

    @classmethod
    def _from_config(cls, config: AnthropicClientConfigurationConfigModel) -> Self:
        settings: dict[str, Any] = config.model_dump(exclude_none=True, exclude={"api_key"})
        return cls(api_key=reveal(config.api_key), **settings)
