"""Declarative configs of the Anthropic client (what ``dump_component`` writes).

The API key is a :class:`~pydantic.SecretStr` and is never written to a dumped spec;
loading a spec without one falls back to ``$ANTHROPIC_API_KEY``.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from pydantic import BaseModel, ConfigDict, SecretStr
from typing_extensions import TypedDict

from muster.models._types import ModelCapabilities, ModelInfo

__all__ = [
    "AnthropicClientConfiguration",
    "AnthropicClientConfigurationConfigModel",
    "CreateArgumentsConfigModel",
    "ResponseFormat",
    "ThinkingConfig",
]


class ResponseFormat(TypedDict):
    """``{"type": "text" | "json_object"}``; JSON is requested through the system prompt."""

    type: Literal["text", "json_object"]


class ThinkingConfig(TypedDict):
    """Extended thinking: ``{"type": "enabled", "budget_tokens": 2048}``."""

    type: Literal["enabled", "disabled"]
    budget_tokens: NotRequired[int]


class CreateArgumentsConfigModel(BaseModel):
    """Request parameters sent with every call."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    model: str
    max_tokens: int | None = 4096
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] | None = None
    response_format: ResponseFormat | None = None
    metadata: dict[str, str] | None = None
    thinking: ThinkingConfig | None = None


class AnthropicClientConfigurationConfigModel(CreateArgumentsConfigModel):
    """Config of :class:`~muster.models.anthropic.AnthropicChatCompletionClient`."""

    api_key: SecretStr | None = None
    base_url: str | None = None
    model_capabilities: ModelCapabilities | None = None
    model_info: ModelInfo | None = None
    timeout: float | None = None
    max_retries: int | None = None
    default_headers: dict[str, str] | None = None


class AnthropicClientConfiguration(TypedDict, total=False):
    """Keyword arguments of the client, as a TypedDict (AutoGen code builds these dicts)."""

    model: str
    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    stop_sequences: list[str] | None
    response_format: ResponseFormat | None
    metadata: dict[str, str] | None
    thinking: ThinkingConfig | None
    api_key: str
    base_url: str | None
    model_capabilities: ModelCapabilities
    model_info: ModelInfo
    timeout: float | None
    max_retries: int | None
    default_headers: dict[str, str] | None
