"""Our LLM messages, tools and output options in Ollama's ``/api/chat`` format."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from muster.core import Image
from muster.core.internal import Tool, ToolSchema
from muster.models import (
    AssistantMessage,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelInfo,
    SystemMessage,
    UserMessage,
)

__all__ = ["to_ollama_format", "to_ollama_messages", "to_ollama_tools"]


def _user(message: UserMessage, vision: bool) -> dict[str, Any]:
    if isinstance(message.content, str):
        return {"role": "user", "content": message.content}
    texts: list[str] = []
    images: list[str] = []
    for part in message.content:
        if isinstance(part, Image):
            if not vision:
                raise ValueError("this model does not support images (model_info['vision'] is False)")
            images.append(part.to_base64())
        else:
            texts.append(part)
    out: dict[str, Any] = {"role": "user", "content": "\n".join(texts)}
    if images:
        out["images"] = images
    return out


def _assistant(message: AssistantMessage) -> dict[str, Any]:
    if isinstance(message.content, str):
        return {"role": "assistant", "content": message.content}
    calls = []
    for call in message.content:
        try:
            arguments = json.loads(call.arguments) if call.arguments else {}
        except json.JSONDecodeError:
            arguments = {"__raw__": call.arguments}  # the model wrote broken JSON; pass it back as is
        calls.append({"function": {"name": call.name, "arguments": arguments}})
    return {"role": "assistant", "content": message.thought or "", "tool_calls": calls}


def to_ollama_messages(messages: Sequence[LLMMessage], *, vision: bool) -> list[dict[str, Any]]:
    """The ``messages`` of a chat request; each tool result is one ``tool`` message."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            out.append({"role": "system", "content": message.content})
        elif isinstance(message, UserMessage):
            out.append(_user(message, vision))
        elif isinstance(message, AssistantMessage):
            out.append(_assistant(message))
        elif isinstance(message, FunctionExecutionResultMessage):
            for result in message.content:
                out.append({"role": "tool", "content": result.content, "tool_name": result.name})
        else:
            raise TypeError(f"cannot send a {type(message).__name__} to Ollama")
    return out


def to_ollama_tools(tools: Sequence[Tool | ToolSchema]) -> list[dict[str, Any]]:
    """Tools in the function-calling shape Ollama shares with OpenAI."""
    out: list[dict[str, Any]] = []
    for tool in tools:
        schema: ToolSchema = tool.schema if isinstance(tool, Tool) else tool
        function: dict[str, Any] = {"name": schema["name"], "description": schema.get("description", "")}
        function["parameters"] = dict(schema.get("parameters") or {"type": "object", "properties": {}})
        out.append({"type": "function", "function": function})
    return out


def to_ollama_format(json_output: bool | type[BaseModel] | None, model_info: ModelInfo) -> Any:
    """The ``format`` field: ``"json"``, a JSON schema, or ``None`` to leave it out."""
    if json_output is None or json_output is False:
        return None
    if json_output is True:
        if not model_info["json_output"]:
            raise ValueError("this model does not support JSON output (model_info['json_output'] is False)")
        return "json"
    if isinstance(json_output, type) and issubclass(json_output, BaseModel):
        if not model_info.get("structured_output", False):
            raise ValueError(
                "this model does not support structured output (model_info['structured_output'] is False)"
            )
        return json_output.model_json_schema()
    raise TypeError(f"json_output must be a bool or a pydantic model class, not {json_output!r}")
