"""The client for OpenAI's API and any OpenAI-compatible server (vLLM, Ollama, LM Studio...)."""

from __future__ import annotations

import os
from typing import Any, Literal, Self

import openai
from pydantic import BaseModel

from muster.core import Component
from muster.models._retry import RetryPolicy
from muster.models._secrets import reveal
from muster.models._types import ModelCapabilities, ModelInfo
from muster.models.exceptions import ModelConfigurationError
from muster.models.limits import RateLimiter
from muster.models.usage import UsageTracker

from ._base_client import BaseOpenAIChatCompletionClient, create_args_from
from ._config import OpenAIClientConfigurationConfigModel, ResponseFormat, StreamOptions
from ._messages import settings_for_config

__all__ = ["OpenAIChatCompletionClient"]

_NO_KEY_NEEDED = "not-needed"
"""Sent to local servers that ignore the key, because the SDK insists on having one."""


class OpenAIChatCompletionClient(
    BaseOpenAIChatCompletionClient, Component[OpenAIClientConfigurationConfigModel]
):
    """Chat completions from OpenAI, or from any server speaking its API.

    For a model muster does not know (anything served locally), say what it can do::

        client = OpenAIChatCompletionClient(
            model="llama3.1",
            base_url="http://localhost:11434/v1",
            model_info=ModelInfo(vision=False, function_calling=True, json_output=True,
                                 family="unknown", structured_output=True),
        )

    Args:
        model: The model name, e.g. ``"gpt-4o-mini"``.
        api_key: Defaults to ``$OPENAI_API_KEY``; optional when ``base_url`` points at a
            local server that ignores keys.
        base_url: Defaults to ``$OPENAI_BASE_URL``, else OpenAI's API.
        organization: OpenAI organisation id.
        timeout: Seconds to wait for a connection or for the next bytes of a reply.
        max_retries: Retries of transient failures (default 2), with jittered backoff.
        model_info: Required for models muster does not know.
        include_name_in_message: Send user messages' ``source`` as ``name``.
        default_headers: Extra HTTP headers on every request.
        rate_limiter: A :class:`~muster.models.limits.RateLimiter` shared with other clients.
        usage_tracker: A :class:`~muster.models.usage.UsageTracker` to total usage and cost.
        retry_policy: Full control over retries (overrides ``max_retries``).

    The remaining keyword arguments are request parameters sent with every call
    (``temperature``, ``max_tokens``, ``response_format``, ``parallel_tool_calls``...).
    """

    component_type = "model"
    component_config_schema = OpenAIClientConfigurationConfigModel
    component_provider_override = "muster.models.openai.OpenAIChatCompletionClient"

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        model_capabilities: ModelCapabilities | None = None,
        model_info: ModelInfo | None = None,
        add_name_prefixes: bool = False,
        include_name_in_message: bool = True,
        default_headers: dict[str, str] | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict[str, int] | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        response_format: ResponseFormat | type[BaseModel] | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        stream_options: StreamOptions | None = None,
        parallel_tool_calls: bool | None = None,
        reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None,
        rate_limiter: RateLimiter | None = None,
        usage_tracker: UsageTracker | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        settings = dict(locals())
        for name in ("self", "__class__", "rate_limiter", "usage_tracker", "retry_policy", "api_key"):
            settings.pop(name, None)
        # Kept (without the key) so dump_component writes back what the user set.
        self._settings = {k: v for k, v in settings.items() if v is not None}
        resolved_base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if resolved_base_url is None:
                raise ModelConfigurationError(
                    "no OpenAI API key: pass api_key= or set OPENAI_API_KEY "
                    "(or set base_url to a local server that needs none)"
                )
            key = _NO_KEY_NEEDED
        sdk_client = openai.AsyncOpenAI(
            api_key=key,
            base_url=resolved_base_url,
            organization=organization,
            timeout=timeout if timeout is not None else openai.NOT_GIVEN,
            max_retries=0,
            default_headers=default_headers,
        )
        super().__init__(
            sdk_client,
            create_args=create_args_from(self._settings),
            model_capabilities=model_capabilities,
            model_info=model_info,
            add_name_prefixes=add_name_prefixes,
            include_name_in_message=include_name_in_message,
            retry_policy=retry_policy or RetryPolicy(max_retries=2 if max_retries is None else max_retries),
            rate_limiter=rate_limiter,
            usage_tracker=usage_tracker,
            provider="openai",
        )

    def _to_config(self) -> OpenAIClientConfigurationConfigModel:
        # The API key is left out on purpose: specs get shared and committed.
        return OpenAIClientConfigurationConfigModel(**settings_for_config(self._settings))

    @classmethod
    def _from_config(cls, config: OpenAIClientConfigurationConfigModel) -> Self:
        settings: dict[str, Any] = config.model_dump(exclude_none=True, exclude={"api_key"})
        return cls(api_key=reveal(config.api_key), **settings)
