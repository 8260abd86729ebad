"""The client for Azure OpenAI deployments."""

from __future__ import annotations

import os
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Self

import openai
from pydantic import BaseModel

from muster import __version__
from muster.core import Component, ComponentLoader, is_component_instance
from muster.models._retry import RetryPolicy
from muster.models._secrets import reveal
from muster.models._types import ModelCapabilities, ModelInfo
from muster.models.exceptions import ModelConfigurationError
from muster.models.limits import RateLimiter
from muster.models.usage import UsageTracker

from ._base_client import BaseOpenAIChatCompletionClient, create_args_from
from ._config import AzureOpenAIClientConfigurationConfigModel, ResponseFormat, StreamOptions
from ._messages import settings_for_config

__all__ = ["AZURE_OPENAI_USER_AGENT", "AzureOpenAIChatCompletionClient"]

AZURE_OPENAI_USER_AGENT = f"muster-python/{__version__}"
"""User-Agent sent to Azure, so Azure-side telemetry can tell muster traffic apart."""

AzureADTokenProvider = Callable[[], str | Awaitable[str]]


class AzureOpenAIChatCompletionClient(
    BaseOpenAIChatCompletionClient, Component[AzureOpenAIClientConfigurationConfigModel]
):
    """Chat completions from an Azure OpenAI deployment.

    Requests go to ``{azure_endpoint}/openai/deployments/{azure_deployment}/chat/completions
    ?api-version={api_version}``; ``model`` names the underlying model (``gpt-4o``) so
    muster knows its capabilities, context window and price.

    Authenticate with ``api_key`` (default ``$AZURE_OPENAI_API_KEY``), a fixed
    ``azure_ad_token``, or ``azure_ad_token_provider`` (a callable returning a fresh
    Entra ID token; a provider that is itself a component is written into dumped specs).
    Other arguments are those of :class:`OpenAIChatCompletionClient`.
    """

    component_type = "model"
    component_config_schema = AzureOpenAIClientConfigurationConfigModel
    component_provider_override = "muster.models.openai.AzureOpenAIChatCompletionClient"

    def __init__(
        self,
        *,
        model: str,
        azure_endpoint: str,
        api_version: str,
        azure_deployment: str | None = None,
        api_key: str | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: AzureADTokenProvider | None = None,
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
        for name in (
            "self",
            "__class__",
            "rate_limiter",
            "usage_tracker",
            "retry_policy",
            "api_key",
            "azure_ad_token",
            "azure_ad_token_provider",
        ):
            settings.pop(name, None)
        self._settings = {k: v for k, v in settings.items() if v is not None}
        self._token_provider = azure_ad_token_provider
        key = api_key or os.environ.get("AZURE_OPENAI_API_KEY")
        if not key and not azure_ad_token and azure_ad_token_provider is None:
            raise ModelConfigurationError(
                "no Azure credentials: pass api_key= (or set AZURE_OPENAI_API_KEY), "
                "azure_ad_token= or azure_ad_token_provider="
            )
        headers = {"User-Agent": AZURE_OPENAI_USER_AGENT, **(default_headers or {})}
        sdk_client = openai.AsyncAzureOpenAI(
            azure_endpoint=azure_endpoint,
            azure_deployment=azure_deployment,
            api_version=api_version,
            api_key=key or None,
            azure_ad_token=azure_ad_token,
            azure_ad_token_provider=azure_ad_token_provider,  # type: ignore[arg-type]
            timeout=timeout if timeout is not None else openai.NOT_GIVEN,
            max_retries=0,
            default_headers=headers,
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
            provider="azure",
        )

    def _to_config(self) -> AzureOpenAIClientConfigurationConfigModel:
        # Keys and tokens are never written; a token provider is, if it is a component.
        config = AzureOpenAIClientConfigurationConfigModel(**settings_for_config(self._settings))
        if self._token_provider is not None:
            if is_component_instance(self._token_provider):
                config.azure_ad_token_provider = self._token_provider.dump_component()
            else:
                warnings.warn(
                    "azure_ad_token_provider is a plain callable and is not written to the spec; "
                    "the loaded client will need AZURE_OPENAI_API_KEY or a new provider",
                    UserWarning,
                    stacklevel=3,
                )
        return config

    @classmethod
    def _from_config(cls, config: AzureOpenAIClientConfigurationConfigModel) -> Self:
        settings: dict[str, Any] = config.model_dump(
            exclude_none=True, exclude={"api_key", "azure_ad_token", "azure_ad_token_provider"}
        )
        provider: Any = None
        if config.azure_ad_token_provider is not None:
            provider = ComponentLoader.load_component(config.azure_ad_token_provider)
        return cls(
            api_key=reveal(config.api_key),
            azure_ad_token=reveal(config.azure_ad_token),
            azure_ad_token_provider=provider,
            **settings,
        )
