"""The cache key of a chat-completion request: a stable hash of everything that changes the answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from muster.core.internal import Tool, ToolSchema
from muster.models._llm_message import LLMMessage

__all__ = ["cache_key"]

_KEY_FORMAT_VERSION = 2
"""Bumped whenever the key payload changes, so old entries miss instead of colliding."""


def _tool_schema(tool: Tool | ToolSchema) -> Any:
    # A ToolSchema is a plain dict; anything else is a Tool whose schema we ask for.
    return tool if isinstance(tool, dict) else tool.schema


def cache_key(
    messages: Sequence[LLMMessage],
    tools: Sequence[Tool | ToolSchema],
    tool_choice: Tool | Literal["auto", "required", "none"],
    json_output: bool | type[BaseModel] | None,
    extra_create_args: Mapping[str, Any],
) -> str:
    """The SHA-256 of every request argument that can change the model's answer.

    The hashed text is one JSON document, equal for equal requests across processes and
    runs (the key must be stable for Redis/disk stores to be shared). ``tool_choice`` is
    included, unlike AutoGen: forcing a tool, or forbidding tools, changes the reply, so
    it must not share an entry with ``"auto"``.

    The messages, the bulk of every key, are each serialised by their own model's
    serializer (pydantic's Rust one, what ``model_dump_json`` calls, without its Python
    wrapper), with the model's declared field order: our message models hold no dicts, so
    that order is as deterministic as sorted keys, and building Python dicts only for
    ``json.dumps`` to walk and sort them cost most of a cache hit. Each message's own
    serializer, rather than one for ``list[LLMMessage]``, keeps a subclass's extra fields
    in the key. The other arguments are small and may hold free-form dicts (tool schemas,
    extra args), so they keep sorted-key JSON; the common "no tools, no options" request
    reuses a constant.
    """
    if (
        not tools
        and isinstance(tool_choice, str)
        and tool_choice == "auto"
        and json_output is None
        and not extra_create_args
    ):
        options = _DEFAULT_OPTIONS_JSON
    else:
        options = _options_json(tools, tool_choice, json_output, extra_create_args)
    parts = [type(message).__pydantic_serializer__.to_json(message) for message in messages]
    text = b"".join((options, b',"messages":[', b",".join(parts), b"]}"))
    return hashlib.sha256(text).hexdigest()


def _options_json(
    tools: Sequence[Tool | ToolSchema],
    tool_choice: Tool | Literal["auto", "required", "none"],
    json_output: bool | type[BaseModel] | None,
    extra_create_args: Mapping[str, Any],
) -> bytes:
    """The opening of the hashed document: the format version and every argument but the messages."""
    if isinstance(json_output, type):
        output_spec: Any = {"schema": json_output.model_json_schema()}
    else:
        output_spec = json_output
    payload = {
        "v": _KEY_FORMAT_VERSION,
        "tools": [_tool_schema(tool) for tool in tools],
        "tool_choice": tool_choice if isinstance(tool_choice, str) else {"tool": tool_choice.name},
        "json_output": output_spec,
        # Unknown objects fall back to repr: an unstable repr only costs a miss, never a wrong hit.
        "extra_create_args": to_jsonable_python(dict(extra_create_args), fallback=repr),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Drop the closing brace: the messages are appended as the document's last member.
    return text[:-1].encode("utf-8")


_DEFAULT_OPTIONS_JSON = _options_json([], "auto", None, {})
