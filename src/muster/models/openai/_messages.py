"""Our LLM messages, tools and output options in the chat-completions wire format."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel

from muster.core import Image
from muster.core.internal import Tool, ToolSchema
from muster.models._llm_message import FunctionExecutionResultMessage, LLMMessage
from muster.models._types import AssistantMessage, ModelInfo, SystemMessage, UserMessage

__all__ = [
    "ToolChoice",
    "json_schema_response_format",
    "settings_for_config",
    "split_legacy_response_format",
    "strict_json_schema",
    "to_openai_messages",
    "to_openai_response_format",
    "to_openai_tool_choice",
    "to_openai_tools",
]

ToolChoice = Tool | Literal["auto", "required", "none"]

_VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_INVALID_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def _wire_name(source: str) -> str:
    # OpenAI rejects names outside [a-zA-Z0-9_-]{1,64}; agent names with spaces or dots
    # are common, so map them rather than fail the whole request.
    if _VALID_NAME.match(source):
        return source
    return _INVALID_NAME_CHARS.sub("_", source)[:64] or "user"


def _user_message(
    message: UserMessage, *, include_name: bool, name_prefix: bool, vision: bool
) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": "user"}
    if include_name:
        wire["name"] = _wire_name(message.source)
    prefix = f"{message.source}:\n" if name_prefix else ""
    if isinstance(message.content, str):
        wire["content"] = prefix + message.content
        return wire
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(message.content):
        if isinstance(part, str):
            parts.append({"type": "text", "text": (prefix if index == 0 else "") + part})
        elif isinstance(part, Image):
            if not vision:
                raise ValueError("this model does not accept images (model_info['vision'] is False)")
            parts.append(part.to_openai_format())
        else:  # pragma: no cover - the pydantic model admits only str and Image
            raise TypeError(f"unsupported user content part {type(part).__name__}")
    wire["content"] = parts
    return wire


def _assistant_message(message: AssistantMessage) -> dict[str, Any]:
    if isinstance(message.content, str):
        return {"role": "assistant", "content": message.content}
    wire: dict[str, Any] = {
        "role": "assistant",
        "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.content
        ],
    }
    if message.thought:
        wire["content"] = message.thought
    return wire


def to_openai_messages(
    messages: Sequence[LLMMessage],
    *,
    include_name: bool = True,
    name_prefix: bool = False,
    vision: bool = True,
) -> list[dict[str, Any]]:
    """The ``messages`` array of a chat-completions request.

    Args:
        messages: The conversation.
        include_name: Send each user message's ``source`` as its ``name``.
        name_prefix: Also write ``"<source>:\\n"`` before the user's text.
        vision: Whether images may be sent (else a ``ValueError``).
    """
    wire: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            wire.append({"role": "system", "content": message.content})
        elif isinstance(message, UserMessage):
            wire.append(
                _user_message(message, include_name=include_name, name_prefix=name_prefix, vision=vision)
            )
        elif isinstance(message, AssistantMessage):
            wire.append(_assistant_message(message))
        elif isinstance(message, FunctionExecutionResultMessage):
            wire.extend(
                {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
                for result in message.content
            )
        else:
            raise TypeError(f"unsupported message type {type(message).__name__}")
    return wire


def _schema(tool: Tool | ToolSchema) -> ToolSchema:
    return tool.schema if isinstance(tool, Tool) else tool


def to_openai_tools(tools: Sequence[Tool | ToolSchema]) -> list[dict[str, Any]]:
    """Function-tool definitions; a schema's ``strict`` flag is passed through."""
    wire: list[dict[str, Any]] = []
    for tool in tools:
        schema = _schema(tool)
        name = schema["name"]
        if not _VALID_NAME.match(name):
            raise ValueError(f"tool name {name!r} must match [a-zA-Z0-9_-]{{1,64}} for OpenAI")
        function: dict[str, Any] = {
            "name": name,
            "parameters": dict(schema.get("parameters", {"type": "object", "properties": {}})),
            "strict": schema.get("strict", False),
        }
        if "description" in schema:
            function["description"] = schema["description"]
        wire.append({"type": "function", "function": function})
    return wire


def to_openai_tool_choice(tool_choice: ToolChoice, tools: Sequence[Tool | ToolSchema]) -> Any:
    """The ``tool_choice`` value; forcing a tool requires it to be among ``tools``."""
    if isinstance(tool_choice, str):
        if tool_choice not in ("auto", "required", "none"):
            raise ValueError(f"tool_choice must be 'auto', 'required', 'none' or a Tool, not {tool_choice!r}")
        return tool_choice
    name = tool_choice.schema["name"]
    if name not in {_schema(t)["name"] for t in tools}:
        raise ValueError(f"tool_choice names tool {name!r}, which is not in tools")
    return {"type": "function", "function": {"name": name}}


def strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` that OpenAI's strict structured output accepts.

    Strict mode wants every object closed (``additionalProperties: false``) with all
    its properties required, and no ``default`` values; optional fields stay
    expressible because pydantic already makes them nullable.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "default":
                    continue
                if key in ("properties", "$defs") and isinstance(value, dict):
                    # A mapping of names to schemas: a field may well be called "default".
                    out[key] = {name: walk(sub) for name, sub in value.items()}
                else:
                    out[key] = walk(value)
            if out.get("type") == "object" and "properties" in out:
                out["additionalProperties"] = False
                out["required"] = list(out["properties"])
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def to_openai_response_format(json_output: bool | type[BaseModel] | None, model_info: ModelInfo) -> Any:
    """The ``response_format`` for ``json_output``, or ``None`` to leave it unset."""
    if json_output is None:
        return None
    if json_output is True:
        if not model_info["json_output"]:
            raise ValueError("this model does not support JSON output (model_info['json_output'] is False)")
        return {"type": "json_object"}
    if json_output is False:
        return {"type": "text"}
    if isinstance(json_output, type) and issubclass(json_output, BaseModel):
        if not model_info.get("structured_output", False):
            raise ValueError(
                "this model does not support structured output (model_info['structured_output'] is False)"
            )
        return json_schema_response_format(json_output)
    raise TypeError(f"json_output must be a bool or a pydantic model class, not {json_output!r}")


def json_schema_response_format(model: type[BaseModel]) -> dict[str, Any]:
    """The strict ``json_schema`` ``response_format`` that makes the model answer as ``model``."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": model.__name__,
            "schema": strict_json_schema(model.model_json_schema()),
            "strict": True,
        },
    }


def _is_model_class(value: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(value, type) and issubclass(value, BaseModel)


def split_legacy_response_format(
    args: dict[str, Any], json_output: bool | type[BaseModel] | None
) -> bool | type[BaseModel] | None:
    """Move a pydantic class given as ``response_format`` over to ``json_output``.

    AutoGen accepts ``response_format=SomeModel`` (in the constructor or in
    ``extra_create_args``) as the older spelling of ``json_output=SomeModel``; the SDK
    would reject the class, so it leaves ``args`` here and becomes the structured-output
    request. A class there overrides ``json_output=True``/``False``, as in AutoGen.

    Raises:
        ValueError: both ``response_format`` and ``json_output`` name a model class.
    """
    legacy = args.get("response_format")
    if not _is_model_class(legacy):
        return json_output
    del args["response_format"]
    if _is_model_class(json_output):
        raise ValueError(
            "response_format and json_output cannot both be pydantic model classes; pass json_output only"
        )
    return legacy


def settings_for_config(settings: dict[str, Any]) -> dict[str, Any]:
    """Constructor settings ready for the config model: a model class becomes its JSON schema."""
    fmt = settings.get("response_format")
    if _is_model_class(fmt):
        return {**settings, "response_format": json_schema_response_format(fmt)}
    return settings
