"""What muster knows about Claude models: capabilities and context windows."""

from __future__ import annotations

from muster.models._types import ModelFamily, ModelInfo

__all__ = ["DEFAULT_TOKEN_LIMIT", "get_model_info", "get_token_limit"]

DEFAULT_TOKEN_LIMIT = 200_000
"""Every current Claude model has a 200k-token context window."""

# Entries are name prefixes: Claude model ids end in a date or "-latest".
_FAMILIES: tuple[tuple[str, str], ...] = (
    ("claude-3-haiku", ModelFamily.CLAUDE_3_HAIKU),
    ("claude-3-sonnet", ModelFamily.CLAUDE_3_SONNET),
    ("claude-3-opus", ModelFamily.CLAUDE_3_OPUS),
    ("claude-3-5-haiku", ModelFamily.CLAUDE_3_5_HAIKU),
    ("claude-3-5-sonnet", ModelFamily.CLAUDE_3_5_SONNET),
    ("claude-3-7-sonnet", ModelFamily.CLAUDE_3_7_SONNET),
    ("claude-opus-4", ModelFamily.CLAUDE_4_OPUS),
    ("claude-sonnet-4", ModelFamily.CLAUDE_4_SONNET),
    ("claude-haiku-4", "claude-4-haiku"),
)


def get_model_info(model: str) -> ModelInfo | None:
    """Capabilities of a known Claude model, else ``None``."""
    for prefix, family in _FAMILIES:
        if model == prefix or model.startswith(prefix + "-"):
            return ModelInfo(
                vision=True,
                function_calling=True,
                json_output=True,
                family=family,
                structured_output=False,
                multiple_system_messages=False,
            )
    return None


def get_token_limit(model: str) -> int:
    """Context window of ``model``."""
    return DEFAULT_TOKEN_LIMIT
