"""Flattening message content to text, for models and consoles that cannot take images."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from muster.core import FunctionCall, Image
from muster.models import FunctionExecutionResult, LLMMessage, UserMessage

__all__ = ["content_to_str", "remove_images"]

_IMAGE_PLACEHOLDER = "<image>"


def content_to_str(
    content: str | BaseModel | Sequence[str | Image | FunctionCall | FunctionExecutionResult],
) -> str:
    """Render the content of any LLM message (or a structured output) as one string.

    Strings pass through, pydantic models become their JSON, and lists are joined one
    item per line with each image shown as ``<image>`` and anything else (tool calls,
    tool results) through ``str``.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, BaseModel):
        return content.model_dump_json()
    parts: list[str] = []
    for item in content:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, Image):
            parts.append(_IMAGE_PLACEHOLDER)
        else:
            parts.append(str(item))
    return "\n".join(parts)


def remove_images(messages: Sequence[LLMMessage]) -> list[LLMMessage]:
    """Return ``messages`` with every multi-part user message flattened to text.

    Used before calling a model without vision: such a model rejects image parts, so
    each image becomes an ``<image>`` placeholder line. Other messages are passed on
    as the same objects (no copies), which keeps this cheap on every model call.
    """
    result: list[LLMMessage] = []
    for message in messages:
        if isinstance(message, UserMessage) and not isinstance(message.content, str):
            result.append(UserMessage(content=content_to_str(message.content), source=message.source))
        else:
            result.append(message)
    return result
