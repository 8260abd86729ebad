"""What the models Ollama serves can do, by model name (the part before ``:tag``)."""

from __future__ import annotations

from muster.models import ModelFamily, ModelInfo

__all__ = ["get_model_info", "get_token_limit"]

_TOOLS = frozenset(
    {"command-r", "llama3", "llama3.1", "llama3.2", "llama3.3", "mistral", "mistral-nemo", "mixtral",
     "qwen2", "qwen2.5", "qwen2.5-coder", "qwen3", "granite3.1-dense", "granite3.2", "smollm2"}
)  # fmt: skip
_VISION = frozenset({"llama3.2-vision", "llava", "llava-llama3", "qwen2.5vl", "gemma3", "minicpm-v"})
_TEXT = frozenset(
    {"codegemma", "codellama", "deepseek-coder", "deepseek-coder-v2", "dolphin-llama3", "dolphin-mistral",
     "dolphin-mixtral", "gemma", "gemma2", "llama2", "llama2-uncensored", "orca-mini", "phi", "phi3", "phi3.5",
     "phi4", "qwen", "starcoder2", "tinyllama", "wizardlm2", "yi", "zephyr", "deepseek-r1"}
)  # fmt: skip
_TOKEN_LIMITS = {"llama3": 8192, "llama2": 4096, "gemma": 8192, "phi3": 4096, "mistral": 32768}
_DEFAULT_TOKEN_LIMIT = 128_000


def _base(model: str) -> str:
    return model.split(":", 1)[0].rsplit("/", 1)[-1]


def get_model_info(model: str) -> ModelInfo | None:
    """Capabilities of a known model (``"llama3.2"``, ``"qwen2.5:14b"``...), else ``None``."""
    name = _base(model)
    if name not in _TOOLS | _VISION | _TEXT:
        return None
    return ModelInfo(
        vision=name in _VISION,
        function_calling=name in _TOOLS,
        json_output=True,
        family=ModelFamily.R1 if name == "deepseek-r1" else ModelFamily.UNKNOWN,
        structured_output=True,
    )


def get_token_limit(model: str) -> int:
    """The context window, for ``remaining_tokens`` (128k when unknown)."""
    return _TOKEN_LIMITS.get(_base(model), _DEFAULT_TOKEN_LIMIT)
