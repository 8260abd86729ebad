"""Declarative configs of the OpenAI-family clients (what ``dump_component`` writes).

Secrets are :class:`~pydantic.SecretStr` so they never print, and the clients leave
them out of dumped specs altogether: a spec is safe to commit, and loading one without
a key falls back to the provider's environment variable.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr
from typing_extensions import TypedDict

from muster.core import ComponentModel
from muster.models._types import ModelCapabilities, ModelInfo

__all__ = [
    "AzureOpenAIClientConfigurationConfigModel",
    "BaseOpenAIClientConfigurationConfigModel",
    "CreateArgumentsConfigModel",
    "JSONSchema",
    "OpenAIClientConfigurationConfigModel",
    "ResponseFormat",
    "StreamOptions",
]


class JSONSchema(TypedDict, total=False):
    """The ``json_schema`` member of a structured-output ``response_format``."""

    name: str
    description: str
    schema: dict[str, Any]
    strict: bool | None


class ResponseFormat(TypedDict, total=False):
    """``{"type": "text" | "json_object" | "json_schema", "json_schema": ...}``."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchema


class StreamOptions(TypedDict):
    """Options for streamed calls."""

    include_usage: bool


class CreateArgumentsConfigModel(BaseModel):
    """Sampling and output parameters sent with every request."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    frequency_penalty: float | None = None
    logit_bias: dict[str, int] | None = None
    max_tokens: int | None = None
    n: int | None = None
    presence_penalty: float | None = None
    response_format: ResponseFormat | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    user: str | None = None
    stream_options: StreamOptions | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None


class BaseOpenAIClientConfigurationConfigModel(CreateArgumentsConfigModel):
    """What every OpenAI-family client needs besides the endpoint."""

    model: str
    api_key: SecretStr | None = None
    timeout: float | None = None
    max_retries: int | None = None
    model_capabilities: ModelCapabilities | None = None
    model_info: ModelInfo | None = None
    add_name_prefixes: bool | None = None
    include_name_in_message: bool | None = None
    default_headers: dict[str, str] | None = None


class OpenAIClientConfigurationConfigModel(BaseOpenAIClientConfigurationConfigModel):
    """Config of :class:`~muster.models.openai.OpenAIChatCompletionClient`."""

    organization: str | None = None
    base_url: str | None = None


class AzureOpenAIClientConfigurationConfigModel(BaseOpenAIClientConfigurationConfigModel):
    """Config of :class:`~muster.models.openai.AzureOpenAIChatCompletionClient`."""

    azure_endpoint: str
    azure_deployment: str | None = None
    api_version: str
    azure_ad_token: SecretStr | None = None
    azure_ad_token_provider: ComponentModel | None = None
