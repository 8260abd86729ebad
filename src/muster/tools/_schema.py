"""Turning a pydantic args model into the JSON schema a model provider is sent."""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel

from ..core.internal import ParametersSchema, ToolSchema
from .exceptions import ToolStrictModeError

__all__ = ["build_tool_schema", "inline_refs"]


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``$ref``s into ``$defs`` by the definitions they point at.

    Providers handle ``$ref`` unevenly (some reject it outright), so nested models are
    inlined. A recursive model cannot be inlined; its references are left in place and
    ``$defs`` is kept so the schema stays valid.
    """
    defs: dict[str, Any] = schema.get("$defs", {})
    if not defs:
        return schema
    kept_recursive: set[str] = set()

    def resolve(node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            node = cast("dict[str, Any]", node)
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref[len("#/$defs/") :]
                if name in stack or name not in defs:
                    kept_recursive.add(name)
                    return node
                target = resolve(defs[name], (*stack, name))
                siblings = {k: resolve(v, stack) for k, v in node.items() if k != "$ref"}
                return {**target, **siblings} if siblings else target
            return {k: resolve(v, stack) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(item, stack) for item in node]
        return node

    result = cast("dict[str, Any]", resolve(schema, ()))
    if kept_recursive:
        result["$defs"] = {name: defs[name] for name in kept_recursive if name in defs}
    return result


def build_tool_schema(args_type: type[BaseModel], name: str, description: str, strict: bool) -> ToolSchema:
    """Build a tool's schema, enforcing strict mode.

    Raises:
        ToolStrictModeError: ``strict`` is set but some argument has a default or the
            model allows extra properties.
    """
    model_schema = inline_refs(args_type.model_json_schema())
    properties: dict[str, Any] = model_schema.get("properties", {})
    required: list[str] = list(model_schema.get("required", []))
    additional = bool(model_schema.get("additionalProperties", False))
    if strict:
        optional = [prop for prop in properties if prop not in required]
        if optional or additional:
            raise ToolStrictModeError(name, optional, additional)
    parameters = ParametersSchema(
        type="object", properties=properties, required=required, additionalProperties=additional
    )
    if "$defs" in model_schema:
        # Only recursive models get here; the TypedDict has no key for it, but providers need it.
        cast("dict[str, Any]", parameters)["$defs"] = model_schema["$defs"]
    return ToolSchema(name=name, description=description, parameters=parameters, strict=strict)
