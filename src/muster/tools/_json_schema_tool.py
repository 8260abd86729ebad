"""Tools whose arguments are described by a JSON schema from elsewhere (an MCP server, a spec).

The schema the model sees is the given one, unchanged: a round trip through pydantic would
lose what pydantic cannot express. Arguments are still validated, against a pydantic model
built from the schema's common constructs (types, enums, nested objects, arrays, unions,
required and optional properties); constructs it does not know accept any value and are
left to the tool's owner (the MCP server, the HTTP endpoint) to check.
"""

from __future__ import annotations

import re
from abc import ABC
from collections.abc import Mapping
from typing import Any, Literal, Union, cast

from pydantic import BaseModel, ConfigDict, Field, create_model

from muster.core.internal import ParametersSchema, ToolSchema

from ._base import BaseTool
from ._schema import inline_refs

__all__ = ["JsonSchemaTool", "args_model_from_json_schema"]

_SCALARS: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}


class _Args(BaseModel):
    # Extra keys pass through: the schema may allow them, and the tool's owner decides.
    model_config = ConfigDict(extra="allow", defer_build=True)


def _model_name(title: str) -> str:
    cleaned = re.sub(r"\W", "_", title).strip("_") or "Args"
    return cleaned[0].upper() + cleaned[1:]


def _python_type(schema: Any, title: str) -> Any:
    if not isinstance(schema, dict):
        return Any
    node = cast("dict[str, Any]", schema)
    if "enum" in node and node["enum"]:
        return Literal[tuple(node["enum"])]
    if "const" in node:
        return Literal[node["const"]]
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            members = tuple(_python_type(sub, f"{title}_{i}") for i, sub in enumerate(node[key]))
            return Union[members] if members else Any  # noqa: UP007 - built from a runtime tuple
    kind = node.get("type")
    if isinstance(kind, list):
        members = tuple(_python_type({**node, "type": k}, title) for k in kind)
        return Union[members] if members else Any  # noqa: UP007
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        return list[_python_type(node.get("items"), f"{title}_item")]  # type: ignore[misc]
    if kind == "object" or "properties" in node:
        if not node.get("properties"):
            return dict[str, Any]
        return args_model_from_json_schema(node, title)
    return Any


def args_model_from_json_schema(schema: Mapping[str, Any], title: str = "Args") -> type[BaseModel]:
    """A pydantic model that validates what ``schema`` (an object schema) describes.

    Optional properties default to ``None`` unless the schema gives a default; callers
    dump with ``exclude_unset=True`` so absent arguments stay absent on the wire.
    """
    resolved = inline_refs(dict(schema))
    properties: dict[str, Any] = resolved.get("properties") or {}
    required = set(resolved.get("required") or [])
    fields: dict[str, Any] = {}
    for name, prop in properties.items():
        tp = _python_type(prop, f"{title}_{name}")
        description = prop.get("description") if isinstance(prop, dict) else None
        if name in required:
            fields[name] = (tp, Field(description=description))
        else:
            default = prop.get("default") if isinstance(prop, dict) else None
            fields[name] = (tp | None, Field(default=default, description=description))
    return create_model(_model_name(title), __base__=_Args, **fields)


class JsonSchemaTool(BaseTool[BaseModel, Any], ABC):
    """A tool presented to the model with a JSON schema it was given, not one pydantic built.

    Args:
        input_schema: The JSON schema of the arguments (an object schema).
        name: The tool name.
        description: What the tool does.
        return_type: What :meth:`run` returns.
    """

    def __init__(
        self, input_schema: Mapping[str, Any], name: str, description: str, return_type: type[Any] = object
    ) -> None:
        self._input_schema = dict(input_schema)
        super().__init__(
            args_model_from_json_schema(self._input_schema, name), return_type, name, description
        )

    @property
    def schema(self) -> ToolSchema:
        """The given schema under this tool's name and description."""
        parameters = ParametersSchema(
            type="object",
            properties=self._input_schema.get("properties", {}),
            required=list(self._input_schema.get("required", [])),
            additionalProperties=bool(self._input_schema.get("additionalProperties", False)),
        )
        if "$defs" in self._input_schema:
            cast("dict[str, Any]", parameters)["$defs"] = self._input_schema["$defs"]
        return ToolSchema(name=self.name, description=self.description, parameters=parameters)

    @staticmethod
    def arguments_of(args: BaseModel) -> dict[str, Any]:
        """The arguments the model gave, without the optional ones it left out."""
        return args.model_dump(mode="json", exclude_unset=True)
