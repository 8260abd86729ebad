"""What muster knows about OpenAI's models: capabilities and context windows.

Names resolve like prices do: an exact entry, else the longest entry the name extends
with a dash, so dated snapshots (``gpt-4o-2024-08-06``) inherit their family's data.
Models not listed here (local servers, new releases) need ``model_info=`` from the user.
"""

from __future__ import annotations

from muster.models._types import ModelFamily, ModelInfo

__all__ = ["DEFAULT_TOKEN_LIMIT", "get_model_info", "get_token_limit", "is_reasoning_family", "resolve_model"]

DEFAULT_TOKEN_LIMIT = 128_000
"""Context window assumed for models we have no data for (the common size today)."""


def _info(family: str, *, vision: bool = True, tools: bool = True, structured: bool = True) -> ModelInfo:
    return ModelInfo(
        vision=vision,
        function_calling=tools,
        json_output=tools,
        family=family,
        structured_output=structured,
        multiple_system_messages=True,
    )


# (model info, context window in tokens)
_MODELS: dict[str, tuple[ModelInfo, int]] = {
    "gpt-5": (_info(ModelFamily.GPT_5), 400_000),
    "gpt-5-mini": (_info(ModelFamily.GPT_5), 400_000),
    "gpt-5-nano": (_info(ModelFamily.GPT_5), 400_000),
    "gpt-5-chat": (_info(ModelFamily.GPT_5), 128_000),
    "gpt-4.1": (_info(ModelFamily.GPT_41), 1_047_576),
    "gpt-4.1-mini": (_info(ModelFamily.GPT_41), 1_047_576),
    "gpt-4.1-nano": (_info(ModelFamily.GPT_41), 1_047_576),
    "gpt-4.5-preview": (_info(ModelFamily.GPT_45), 128_000),
    "gpt-4o": (_info(ModelFamily.GPT_4O), 128_000),
    "gpt-4o-mini": (_info(ModelFamily.GPT_4O), 128_000),
    "gpt-4-turbo": (_info(ModelFamily.GPT_4, structured=False), 128_000),
    "gpt-4": (_info(ModelFamily.GPT_4, vision=False, structured=False), 8_192),
    "gpt-4-32k": (_info(ModelFamily.GPT_4, vision=False, structured=False), 32_768),
    "gpt-3.5-turbo": (_info(ModelFamily.GPT_35, vision=False, structured=False), 16_385),
    "o1": (_info(ModelFamily.O1), 200_000),
    "o1-mini": (_info(ModelFamily.O1, vision=False, tools=False, structured=False), 128_000),
    "o1-preview": (_info(ModelFamily.O1, vision=False, tools=False, structured=False), 128_000),
    "o3": (_info(ModelFamily.O3), 200_000),
    "o3-mini": (_info(ModelFamily.O3, vision=False), 200_000),
    "o4-mini": (_info(ModelFamily.O4), 200_000),
}

_REASONING_FAMILIES = frozenset({ModelFamily.O1, ModelFamily.O3, ModelFamily.O4, ModelFamily.GPT_5})


def resolve_model(model: str) -> str | None:
    """The table entry ``model`` falls under, or ``None`` if unknown."""
    if model in _MODELS:
        return model
    best: str | None = None
    for name in _MODELS:
        if model.startswith(name + "-") and (best is None or len(name) > len(best)):
            best = name
    return best


def get_model_info(model: str) -> ModelInfo | None:
    """Capabilities of a known model (a copy the caller may change), else ``None``."""
    entry = resolve_model(model)
    return ModelInfo(**_MODELS[entry][0]) if entry is not None else None


def get_token_limit(model: str) -> int:
    """Context window of ``model``; :data:`DEFAULT_TOKEN_LIMIT` when unknown."""
    entry = resolve_model(model)
    return _MODELS[entry][1] if entry is not None else DEFAULT_TOKEN_LIMIT


def is_reasoning_family(family: str) -> bool:
    """Reasoning models take ``max_completion_tokens`` instead of ``max_tokens``."""
    return family in _REASONING_FAMILIES
