"""Counting prompt tokens for OpenAI models: exact with tiktoken when possible, else estimated.

tiktoken downloads its BPE tables from the internet the first time an encoding is
used, and on a machine without internet that download can hang for a long time. So
muster only loads an encoding that is already on disk (in tiktoken's cache:
``$TIKTOKEN_CACHE_DIR``, ``$DATA_GYM_CACHE_DIR`` or ``<tmp>/data-gym-cache``) or
already loaded in this process, and otherwise uses the documented approximation of
:mod:`muster.models._token_estimate`. Set ``MUSTER_TIKTOKEN_DOWNLOAD=1`` to let
tiktoken fetch missing tables (machines with internet access). The decision is made
once per encoding per process.

The per-message framing (3 tokens per message, 1 per name, 3 to prime the reply)
follows OpenAI's published counting recipe; tool definitions are counted as the
tokens of their JSON, which is close to, but not exactly, what OpenAI injects.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

from muster.core import Image
from muster.core.internal import Tool, ToolSchema
from muster.models._llm_message import FunctionExecutionResultMessage, LLMMessage
from muster.models._token_estimate import (
    IMAGE_TOKENS,
    estimate_messages_tokens,
    estimate_tools_tokens,
)
from muster.models._types import AssistantMessage, SystemMessage, UserMessage

__all__ = ["count_openai_tokens", "encoding_for_model"]

_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_encodings: dict[str, Any] = {}
_lock = threading.Lock()


def _encoding_name(model: str) -> str:
    # Every model since gpt-4o uses o200k_base; older GPT-4/3.5 use cl100k_base.
    if model.startswith(("gpt-4-", "gpt-3.5")) or model == "gpt-4":
        return "cl100k_base"
    return "o200k_base"


def _cached_on_disk(name: str) -> bool:
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:
        return False
    key = hashlib.sha1(_BLOB_URL.format(name=name).encode()).hexdigest()
    return os.path.exists(os.path.join(cache_dir, key))


def _already_loaded(name: str) -> Any:
    registry = sys.modules.get("tiktoken.registry")
    encodings = getattr(registry, "ENCODINGS", None)
    return encodings.get(name) if isinstance(encodings, dict) else None


def encoding_for_model(model: str) -> Any:
    """A tiktoken ``Encoding`` for ``model``, or ``None`` when it cannot be had offline."""
    name = _encoding_name(model)
    if name in _encodings:
        return _encodings[name]
    with _lock:
        if name in _encodings:
            return _encodings[name]
        encoding = _already_loaded(name)
        if encoding is None and (_cached_on_disk(name) or os.environ.get("MUSTER_TIKTOKEN_DOWNLOAD") == "1"):
            try:
                import tiktoken

                encoding = tiktoken.get_encoding(name)
            except Exception:  # not installed, corrupt cache, no network: estimate instead
                encoding = None
        _encodings[name] = encoding
        return encoding


def _count_text(encoding: Any, text: str) -> int:
    return len(encoding.encode(text, disallowed_special=()))


def _count_message(encoding: Any, message: LLMMessage) -> int:
    tokens = 3
    if isinstance(message, SystemMessage):
        return tokens + _count_text(encoding, message.content)
    if isinstance(message, FunctionExecutionResultMessage):
        return sum(
            3 + _count_text(encoding, r.content) + _count_text(encoding, r.call_id) for r in message.content
        )
    if isinstance(message, UserMessage):
        tokens += 1  # the name field
    if isinstance(message, AssistantMessage) and message.thought:
        tokens += _count_text(encoding, message.thought)
    content = message.content
    if isinstance(content, str):
        return tokens + _count_text(encoding, content)
    for part in content:
        if isinstance(part, str):
            tokens += _count_text(encoding, part)
        elif isinstance(part, Image):
            tokens += IMAGE_TOKENS
        else:
            tokens += _count_text(encoding, part.name) + _count_text(encoding, part.arguments) + 3
    return tokens


def count_openai_tokens(
    model: str, messages: Sequence[LLMMessage], tools: Sequence[Tool | ToolSchema]
) -> int:
    """Prompt tokens of ``messages`` plus ``tools`` for ``model``."""
    encoding = encoding_for_model(model)
    if encoding is None:
        return estimate_messages_tokens(messages) + estimate_tools_tokens(tools)
    total = 3 + sum(_count_message(encoding, m) for m in messages)
    for tool in tools:
        schema = tool.schema if isinstance(tool, Tool) else tool
        total += 8 + _count_text(encoding, json.dumps(schema, separators=(",", ":")))
    return total
