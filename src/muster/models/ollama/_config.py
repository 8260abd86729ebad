"""Config models of the Ollama client (AutoGen's names and defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from muster.models import ModelCapabilities, ModelInfo

__all__ = ["BaseOllamaClientConfigurationConfigModel", "CreateArgumentsConfigModel"]


class CreateArgumentsConfigModel(BaseModel):
    """What every request carries."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    model: str
    """The model name as Ollama knows it (``"llama3.2"``, ``"qwen2.5:14b"``)."""
    host: str | None = None
    """The server; defaults to ``$OLLAMA_HOST``, else ``http://127.0.0.1:11434``."""
    response_format: Any = None
    """A JSON schema (dict) for structured output; a pydantic class in the constructor."""


class BaseOllamaClientConfigurationConfigModel(CreateArgumentsConfigModel):
    """Spec of :class:`~muster.models.ollama.OllamaChatCompletionClient`."""

    follow_redirects: bool = True
    timeout: Any = None
    """Seconds (or an ``httpx.Timeout``) for each request."""
    headers: Mapping[str, str] | None = None
    model_capabilities: ModelCapabilities | None = None
    model_info: ModelInfo | None = None
    """Required for models the client does not know."""
    options: Mapping[str, Any] | None = None
    """Ollama's model options (``temperature``, ``num_ctx``, ``seed``...)."""
