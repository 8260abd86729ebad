"""Schemas generated from function signatures and args models."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, ConfigDict, Field

from muster.core import CancellationToken
from muster.tools import BaseTool, FunctionTool
from muster.tools._schema import inline_refs
from muster.tools.exceptions import ToolDefinitionError, ToolStrictModeError


class Address(BaseModel):
    street: str
    zip_code: int


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []


def typed(
    name: str,
    count: int,
    ratio: float,
    flag: bool,
    tags: list[str],
    mode: Literal["fast", "slow"] = "fast",
    limit: Optional[int] = 10,  # noqa: UP045 - the typing spelling must work too
    extra: dict[str, int] | None = None,
) -> str:
    return name


def params(tool: FunctionTool) -> dict[str, Any]:
    return dict(tool.schema["parameters"]["properties"])


def test_basic_types_map_to_json_schema_types() -> None:
    props = params(FunctionTool(typed, description="d"))
    assert props["name"]["type"] == "string"
    assert props["count"]["type"] == "integer"
    assert props["ratio"]["type"] == "number"
    assert props["flag"]["type"] == "boolean"
    assert props["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "title": "Tags",
        "description": "tags",
    }
    assert props["mode"]["enum"] == ["fast", "slow"]


def test_required_lists_only_parameters_without_defaults_and_defaults_are_kept() -> None:
    schema = FunctionTool(typed, description="d").schema
    params_schema = schema["parameters"]
    assert params_schema["required"] == ["name", "count", "ratio", "flag", "tags"]
    props = params_schema["properties"]
    assert props["mode"]["default"] == "fast"
    assert props["limit"]["default"] == 10
    assert {"type": "null"} in props["limit"]["anyOf"]
    assert params_schema["additionalProperties"] is False
    assert schema["name"] == "typed"
    assert schema["description"] == "d"
    assert schema["strict"] is False


def test_implicit_optional_default_none_is_nullable() -> None:
    async def get_weather(city: str, date: str = None) -> str:  # type: ignore[assignment]
        return city

    tool = FunctionTool(get_weather, description="weather")
    date = params(tool)["date"]
    assert date["default"] is None
    assert {"type": "string"} in date["anyOf"] and {"type": "null"} in date["anyOf"]
    assert tool.schema["parameters"]["required"] == ["city"]


def test_annotated_string_becomes_the_description_and_name_is_the_fallback() -> None:
    def f(city: Annotated[str, "City name, e.g. Paris"], days: int = 1) -> str:
        return city

    props = params(FunctionTool(f, description="d"))
    assert props["city"]["description"] == "City name, e.g. Paris"
    assert props["days"]["description"] == "days"


def test_annotated_pydantic_field_constraints_and_description_are_honoured() -> None:
    def f(n: Annotated[int, Field(ge=1, le=5, description="how many")]) -> int:
        return n

    props = params(FunctionTool(f, description="d"))
    assert props["n"]["minimum"] == 1 and props["n"]["maximum"] == 5
    assert props["n"]["description"] == "how many"


def test_nested_models_are_inlined_without_refs() -> None:
    def ship(to: Address, fragile: bool = False) -> str:
        return to.street

    schema = FunctionTool(ship, description="d").schema
    assert "$ref" not in repr(schema) and "$defs" not in repr(schema)
    assert params(FunctionTool(ship, description="d"))["to"]["properties"]["zip_code"]["type"] == "integer"


def test_recursive_models_keep_their_defs() -> None:
    def walk(root: TreeNode) -> int:
        return root.value

    params_schema: dict[str, Any] = dict(FunctionTool(walk, description="d").schema["parameters"])
    assert "TreeNode" in params_schema["$defs"]
    assert params_schema["properties"]["root"]["properties"]["value"]["type"] == "integer"


def test_inline_refs_leaves_schemas_without_defs_untouched() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert inline_refs(schema) is schema


def test_parameter_names_clashing_with_pydantic_attributes_work() -> None:
    def f(json: str, schema: int, _private: int = 3) -> str:
        return f"{json}-{schema}-{_private}"

    tool = FunctionTool(f, description="d")
    assert set(params(tool)) == {"json", "schema", "_private"}


async def test_clashing_parameter_names_are_passed_through_by_their_real_names() -> None:
    def f(json: str, model_config: int, _private: int = 3) -> str:
        return f"{json}-{model_config}-{_private}"

    tool = FunctionTool(f, description="d")
    assert await tool.run_json({"json": "a", "model_config": 2}, CancellationToken()) == "a-2-3"


def test_cancellation_token_parameter_is_not_in_the_schema() -> None:
    async def by_name(x: int, cancellation_token: CancellationToken) -> int:
        return x

    async def by_type(x: int, tok: CancellationToken) -> int:
        return x

    for func in (by_name, by_type):
        assert set(params(FunctionTool(func, description="d"))) == {"x"}


def test_var_args_are_left_out_of_the_schema() -> None:
    def f(a: int, *rest: int, **options: str) -> int:
        return a

    assert set(params(FunctionTool(f, description="d"))) == {"a"}


def test_missing_annotation_is_a_definition_error() -> None:
    def f(a, b: int) -> int:  # type: ignore[no-untyped-def]
        return b

    with pytest.raises(ToolDefinitionError, match="'a'") as info:
        FunctionTool(f, description="d")
    assert isinstance(info.value, ValueError)
    assert info.value.tool_name == "f"


def test_unresolvable_hint_is_a_definition_error() -> None:
    def f(a: NoSuchType) -> int:  # type: ignore[name-defined]  # noqa: F821
        return 1

    with pytest.raises(ToolDefinitionError, match="NoSuchType"):
        FunctionTool(f, description="d")


def test_strict_requires_every_argument_required() -> None:
    def f(a: int, b: int = 2, c: str = "x") -> int:
        return a

    tool = FunctionTool(f, description="d", strict=True)
    with pytest.raises(ToolStrictModeError) as info:
        _ = tool.schema
    assert info.value.optional == ["b", "c"]
    assert "'b', 'c'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_strict_schema_when_all_required() -> None:
    def f(a: int, b: str) -> int:
        return a

    schema = FunctionTool(f, description="d", strict=True).schema
    assert schema["strict"] is True
    assert schema["parameters"]["required"] == ["a", "b"]
    assert schema["parameters"]["additionalProperties"] is False


class OpenArgs(BaseModel):
    model_config = ConfigDict(extra="allow")
    a: int


class OpenTool(BaseTool[OpenArgs, int]):
    def __init__(self, strict: bool) -> None:
        super().__init__(OpenArgs, int, "open", "accepts extras", strict=strict)

    async def run(self, args: OpenArgs, cancellation_token: CancellationToken) -> int:
        return args.a


def test_strict_rejects_additional_properties() -> None:
    assert OpenTool(strict=False).schema["parameters"]["additionalProperties"] is True
    with pytest.raises(ToolStrictModeError, match="additional properties") as info:
        _ = OpenTool(strict=True).schema
    assert info.value.allows_additional is True


def test_schema_is_computed_once_and_copies_do_not_leak() -> None:
    tool = FunctionTool(typed, description="d")
    first = tool.schema
    first["name"] = "mutated"
    second = tool.schema
    assert second["name"] == "typed"
    assert second["parameters"] is tool.schema["parameters"]  # cached, not rebuilt


def test_return_type_and_args_type() -> None:
    def f(a: int) -> Annotated[str, "greeting"]:
        return "x"

    def g(a: int):  # type: ignore[no-untyped-def]
        return a

    def h(a: int) -> None:
        return None

    tool = FunctionTool(f, description="d")
    assert tool.return_type() is str
    assert tool.args_type().model_validate({"a": 1}).a == 1  # type: ignore[attr-defined]
    assert tool.state_type() is None
    assert FunctionTool(g, description="d").return_type() is Any
    assert FunctionTool(h, description="d").return_type() is type(None)
