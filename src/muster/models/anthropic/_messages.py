"""Our LLM messages and tools in the Anthropic Messages API wire format.

Anthropic differs from chat completions in three ways that matter here: system
instructions are a separate ``system`` parameter (so every SystemMessage is pulled out
and merged, in order), tool results travel inside a *user* turn, and consecutive turns
of the same role must be merged because the API expects user and assistant to alternate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from muster.core import Image
from muster.core.internal import Tool, ToolSchema
from muster.models._llm_message import FunctionExecutionResultMessage, LLMMessage
from muster.models._types import AssistantMessage, SystemMessage, UserMessage

__all__ = ["json_instruction", "to_anthropic_messages", "to_anthropic_tool_choice", "to_anthropic_tools"]


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _user_blocks(message: UserMessage, vision: bool) -> list[dict[str, Any]]:
    if isinstance(message.content, str):
        return [_text_block(message.content)] if message.content else []
    blocks: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, str):
            if part:
                blocks.append(_text_block(part))
        elif isinstance(part, Image):
            if not vision:
                raise ValueError("this model does not accept images (model_info['vision'] is False)")
            blocks.append(
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": part.mime_type, "data": part.to_base64()},
                }
            )
    return blocks


def _call_input(arguments: str) -> Any:
    # Tool calls are stored as the JSON text the model wrote; Anthropic wants an object.
    try:
        parsed = json.loads(arguments) if arguments else {}
    except ValueError:
        return {"_raw_arguments": arguments}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def _assistant_blocks(message: AssistantMessage) -> list[dict[str, Any]]:
    if isinstance(message.content, str):
        return [_text_block(message.content)] if message.content else []
    blocks = [_text_block(message.thought)] if message.thought else []
    blocks += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": _call_input(call.arguments)}
        for call in message.content
    ]
    return blocks


def to_anthropic_messages(
    messages: Sequence[LLMMessage], *, vision: bool = True
) -> tuple[str | None, list[dict[str, Any]]]:
    """The ``system`` text (``None`` if there is none) and the ``messages`` array."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []

    def add(role: Literal["user", "assistant"], blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})

    for message in messages:
        if isinstance(message, SystemMessage):
            system.append(message.content)
        elif isinstance(message, UserMessage):
            add("user", _user_blocks(message, vision))
        elif isinstance(message, AssistantMessage):
            add("assistant", _assistant_blocks(message))
        elif isinstance(message, FunctionExecutionResultMessage):
            add(
                "user",
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": result.call_id,
                        "content": result.content,
                        "is_error": bool(result.is_error),
                    }
                    for result in message.content
                ],
            )
        else:
            raise TypeError(f"unsupported message type {type(message).__name__}")
    return ("\n\n".join(system) if system else None), turns


def _schema(tool: Tool | ToolSchema) -> ToolSchema:
    return tool.schema if isinstance(tool, Tool) else tool


def to_anthropic_tools(tools: Sequence[Tool | ToolSchema]) -> list[dict[str, Any]]:
    """Tool definitions (``input_schema`` is the parameters' JSON schema)."""
    wire: list[dict[str, Any]] = []
    for tool in tools:
        schema = _schema(tool)
        definition: dict[str, Any] = {
            "name": schema["name"],
            "input_schema": dict(schema.get("parameters", {"type": "object", "properties": {}})),
        }
        if "description" in schema:
            definition["description"] = schema["description"]
        wire.append(definition)
    return wire


def to_anthropic_tool_choice(
    tool_choice: Tool | Literal["auto", "required", "none"], tools: Sequence[Tool | ToolSchema]
) -> dict[str, Any]:
    """``auto``/``required``/``none`` map to ``auto``/``any``/``none``; a Tool forces that tool."""
    if isinstance(tool_choice, str):
        mapping = {"auto": "auto", "required": "any", "none": "none"}
        if tool_choice not in mapping:
            raise ValueError(f"tool_choice must be 'auto', 'required', 'none' or a Tool, not {tool_choice!r}")
        return {"type": mapping[tool_choice]}
    name = tool_choice.schema["name"]
    if name not in {_schema(t)["name"] for t in tools}:
        raise ValueError(f"tool_choice names tool {name!r}, which is not in tools")
    return {"type": "tool", "name": name}


def json_instruction(json_output: bool | type[BaseModel] | None) -> str | None:
    """System-prompt text asking for JSON (Anthropic has no JSON mode), or ``None``."""
    if json_output is None or json_output is False:
        return None
    if json_output is True:
        return "Respond with a single valid JSON object and nothing else."
    schema = json.dumps(json_output.model_json_schema(), separators=(",", ":"))
    return f"Respond with a single JSON object, and nothing else, that conforms to this JSON schema: {schema}"
