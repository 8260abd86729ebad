"""A tokenizer-free estimate of prompt size, used when no exact tokenizer is at hand.

The estimate is about four characters of English text per token (what OpenAI and
Anthropic both quote as a rule of thumb), plus a few tokens of framing per message and
a flat charge per image. It over-counts code a little and under-counts non-Latin text;
it is meant for budgeting (rate limits, context trimming), never for billing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from muster.core import Image
from muster.core.internal import Tool, ToolSchema

from ._llm_message import FunctionExecutionResultMessage, LLMMessage
from ._types import AssistantMessage, UserMessage

__all__ = [
    "IMAGE_TOKENS",
    "MESSAGE_OVERHEAD_TOKENS",
    "estimate_messages_tokens",
    "estimate_text_tokens",
    "estimate_tools_tokens",
]

MESSAGE_OVERHEAD_TOKENS = 4
"""Role and separators around each message."""
IMAGE_TOKENS = 765
"""One 1024x1024 image at OpenAI's high detail; Anthropic charges about as much."""


def estimate_text_tokens(text: str) -> int:
    """About one token per four characters, at least one for non-empty text."""
    return (len(text) + 3) // 4


def _content_tokens(content: str | Sequence[Any]) -> int:
    if isinstance(content, str):
        return estimate_text_tokens(content)
    total = 0
    for part in content:
        if isinstance(part, str):
            total += estimate_text_tokens(part)
        elif isinstance(part, Image):
            total += IMAGE_TOKENS
        else:  # a FunctionCall
            total += estimate_text_tokens(part.name) + estimate_text_tokens(part.arguments) + 3
    return total


def estimate_messages_tokens(messages: Sequence[LLMMessage]) -> int:
    """Estimated prompt tokens for ``messages``."""
    total = 3  # the reply's priming tokens
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS
        if isinstance(message, FunctionExecutionResultMessage):
            for result in message.content:
                total += estimate_text_tokens(result.content) + MESSAGE_OVERHEAD_TOKENS
        elif isinstance(message, UserMessage | AssistantMessage):
            total += _content_tokens(message.content)
            if isinstance(message, AssistantMessage) and message.thought:
                total += estimate_text_tokens(message.thought)
        else:
            total += estimate_text_tokens(message.content)
    return total


def _schema_of(tool: Tool | ToolSchema) -> Mapping[str, Any]:
    return tool.schema if isinstance(tool, Tool) else tool


def estimate_tools_tokens(tools: Sequence[Tool | ToolSchema]) -> int:
    """Estimated prompt tokens the tool definitions add."""
    return sum(
        estimate_text_tokens(json.dumps(_schema_of(tool), separators=(",", ":"))) + 8 for tool in tools
    )
