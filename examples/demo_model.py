"""The model behind muster's demos and examples: a real one if configured, else a replay.

Examples call :func:`demo_model_client` so they run anywhere: offline (and in CI)
they replay scripted replies; with a key or a local server they talk to a real model.

Environment:
    MUSTER_MODEL_PROVIDER=ollama (or OLLAMA_HOST set, and no OpenAI setting): use a model
        served by Ollama through its native API (``pip install 'muster[ollama]'``), at
        ``$OLLAMA_HOST`` or ``http://127.0.0.1:11434``; the model defaults to ``llama3.2``.
    OPENAI_API_KEY: use OpenAI's API.
    MUSTER_MODEL_BASE_URL or OPENAI_BASE_URL: use an OpenAI-compatible server
        (vLLM, Ollama, llama.cpp, LM Studio), e.g. ``http://localhost:11434/v1``.
    MUSTER_MODEL: the model name (default ``gpt-4o-mini``, or ``llama3.2`` for Ollama).
"""

from __future__ import annotations

import os

from muster.models import ChatCompletionClient, CreateResult, ModelFamily, ModelInfo

__all__ = ["DEFAULT_DEMO_MODEL", "DEFAULT_OLLAMA_MODEL", "demo_model_client", "describe_model"]

DEFAULT_DEMO_MODEL = "gpt-4o-mini"
DEFAULT_OLLAMA_MODEL = "llama3.2"

# What a demo assumes of a model it knows nothing about (a local server's model, or
# the replay client): tools and JSON yes, images and strict schemas no.
_GENERIC_INFO = ModelInfo(
    vision=False,
    function_calling=True,
    json_output=True,
    family=ModelFamily.UNKNOWN,
    structured_output=False,
)


def demo_model_client(replies: list[str | CreateResult], *, model: str | None = None) -> ChatCompletionClient:
    """A real OpenAI(-compatible) client when configured, else one replaying ``replies``.

    Args:
        replies: What the replay client answers, in order, when no model is configured.
        model: Model name; defaults to ``$MUSTER_MODEL``, then ``gpt-4o-mini``.
    """
    base_url = os.environ.get("MUSTER_MODEL_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
    api_key = os.environ.get("OPENAI_API_KEY")
    provider = os.environ.get("MUSTER_MODEL_PROVIDER", "").lower()
    if provider == "ollama" or (not provider and os.environ.get("OLLAMA_HOST") and not (api_key or base_url)):
        from muster.models.ollama import OllamaChatCompletionClient
        from muster.models.ollama._model_info import get_model_info as get_ollama_info

        name = model or os.environ.get("MUSTER_MODEL") or DEFAULT_OLLAMA_MODEL
        info = None if get_ollama_info(name) is not None else _GENERIC_INFO
        return OllamaChatCompletionClient(model=name, model_info=info)
    if api_key or base_url:
        from muster.models.openai import OpenAIChatCompletionClient
        from muster.models.openai._model_info import get_model_info

        name = model or os.environ.get("MUSTER_MODEL") or DEFAULT_DEMO_MODEL
        info = None if get_model_info(name) is not None else _GENERIC_INFO
        return OpenAIChatCompletionClient(model=name, api_key=api_key, base_url=base_url, model_info=info)

    from muster.models.replay import ReplayChatCompletionClient

    return ReplayChatCompletionClient(replies, model_info=_GENERIC_INFO)


def describe_model(client: ChatCompletionClient) -> str:
    """One line saying which model answers and how to switch to a real one."""
    from muster.models.replay import ReplayChatCompletionClient

    if isinstance(client, ReplayChatCompletionClient):
        return (
            "Using scripted replies (no model configured). To use a real model, set OPENAI_API_KEY, "
            "or MUSTER_MODEL_PROVIDER=ollama for a model served by Ollama, or "
            "MUSTER_MODEL_BASE_URL=http://localhost:11434/v1 for a local OpenAI-compatible "
            "server; choose the model with MUSTER_MODEL."
        )
    config = client.dump_component().config
    if client.dump_component().provider.endswith("OllamaChatCompletionClient"):
        where = "Ollama at " + (
            config.get("host") or os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
        )
        return f"Using model {config.get('model', '?')!r} from {where}."
    where = config.get("base_url") or "the OpenAI API"
    return f"Using model {config.get('model', '?')!r} at {where}."
