"""Dumping and loading tools and workbenches as declarative specs."""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any

import pytest

from muster.core import CancellationToken, ComponentModel
from muster.core.exceptions import ComponentLoadError
from muster.tools import (
    BaseTool,
    FunctionTool,
    StaticStreamWorkbench,
    StaticWorkbench,
    ToolOverride,
    Workbench,
)
from muster.tools._imports import Alias, ImportFromModule, import_to_str


def multiply(a: int, b: Annotated[int, "the factor"] = 2) -> int:
    """Multiply two numbers."""
    return a * b


class Helpers:
    @staticmethod
    def shout(text: str) -> str:
        return text.upper()


async def cancellable(x: int, cancellation_token: CancellationToken) -> bool:
    return cancellation_token.is_cancelled()


# Written by AutoGen 0.7.5's FunctionTool.dump_component() (data, checked in as JSON).
AUTOGEN_FUNCTION_SPEC = json.loads(
    '{"provider":"autogen_core.tools.FunctionTool","component_type":"tool","version":1,'
    '"component_version":1,"description":"Create custom tools by wrapping standard Python functions.",'
    '"label":"FunctionTool","config":{"source_code":"def add(a: int, b: int = 2) -> str:\\n'
    '    return json.dumps(a + b)\\n","name":"add","description":"Add","global_imports":["json",'
    '{"module":"math","imports":["sqrt",{"name":"pi","alias":"PI"}]}],"has_cancellation_support":false}}'
)


async def test_module_level_function_round_trips_by_import_path_without_executing_code() -> None:
    tool = FunctionTool(multiply, description="Multiply.", name="times")
    spec = tool.dump_component()
    assert spec.provider == "muster.tools.FunctionTool"
    assert spec.component_type == "tool"
    assert spec.config["import_path"] == f"{multiply.__module__}:multiply"
    assert "def multiply" in spec.config["source_code"]
    loaded = FunctionTool.load_component(spec)  # no warning: nothing is executed
    assert loaded._func is multiply
    assert loaded.name == "times" and loaded.description == "Multiply."
    assert loaded.schema == tool.schema
    assert await loaded.run_json({"a": 3}, CancellationToken()) == 6


async def test_static_method_round_trips_by_qualified_import_path() -> None:
    spec = FunctionTool(Helpers.shout, description="Shout.").dump_component()
    assert spec.config["import_path"].endswith(":Helpers.shout")
    loaded = BaseTool.load_component(spec)
    assert await loaded.run_json({"text": "hi"}, CancellationToken()) == "HI"


async def test_local_function_round_trips_by_source_with_a_warning() -> None:
    def local_add(a: int, b: int = 1) -> str:
        return json.dumps({"sum": a + b})

    tool = FunctionTool(local_add, description="Adds.", global_imports=["json"], strict=False)
    spec = tool.dump_component()
    assert "import_path" not in spec.config
    assert spec.config["source_code"].startswith("def local_add(")
    with pytest.warns(UserWarning, match="executes that code"):
        loaded = FunctionTool.load_component(spec.model_dump())
    assert loaded.schema == tool.schema
    assert await loaded.run_json({"a": 2}, CancellationToken()) == '{"sum": 3}'


async def test_autogen_spec_loads_with_its_imports() -> None:
    with pytest.warns(UserWarning):
        tool = BaseTool.load_component(AUTOGEN_FUNCTION_SPEC)
    assert isinstance(tool, FunctionTool)
    assert tool.name == "add"
    assert await tool.run_json({"a": 1}, CancellationToken()) == "3"


async def test_broken_import_path_falls_back_to_source_or_fails_clearly() -> None:
    spec = FunctionTool(multiply, description="m").dump_component().model_dump()
    spec["config"]["import_path"] = "no_such_module_xyz:multiply"
    with pytest.warns(UserWarning):
        tool = FunctionTool.load_component(spec)
    assert await tool.run_json({"a": 2, "b": 5}, CancellationToken()) == 10
    spec["config"]["source_code"] = ""
    with pytest.raises(ComponentLoadError, match="no_such_module_xyz"):
        FunctionTool.load_component(spec)
    spec["config"]["import_path"] = "missing-colon"
    with pytest.raises(ComponentLoadError, match="expected 'package.module:function'"):
        FunctionTool.load_component(spec)


@pytest.mark.parametrize(
    ("source", "imports", "message"),
    [
        ("x = 1\n", [], "defines no top-level function"),
        ("def f(:\n", [], "defines no top-level function"),
        ("def f(a: int) -> int:\n    return a\n", ["no_such_module_xyz"], "global import"),
        ("raise RuntimeError('at import')\ndef f(a: int) -> int:\n    return a\n", [], "failed to run"),
    ],
)
def test_bad_source_specs_raise_component_load_error(source: str, imports: list[Any], message: str) -> None:
    spec = {
        "provider": "muster.tools.FunctionTool",
        "config": {"source_code": source, "name": "f", "description": "d", "global_imports": imports},
    }
    with pytest.warns(UserWarning), pytest.raises(ComponentLoadError, match=message):
        FunctionTool.load_component(spec)


def test_functions_without_a_portable_form_cannot_be_dumped() -> None:
    class Box:
        def get(self, key: str) -> str:
            return key

    with pytest.raises(TypeError, match="cannot be dumped"):
        FunctionTool(Box().get, description="d").dump_component()
    with pytest.raises(TypeError, match="cannot be dumped"):
        FunctionTool(functools.partial(multiply, b=3), description="d").dump_component()


async def test_strict_and_cancellation_support_survive_the_round_trip() -> None:
    spec = FunctionTool(cancellable, description="c", strict=True).dump_component()
    assert spec.config["has_cancellation_support"] is True
    assert spec.config["strict"] is True
    loaded = FunctionTool.load_component(spec)
    assert loaded.schema["strict"] is True
    token = CancellationToken()
    assert await loaded.run_json({"x": 1}, token) is False


async def test_static_workbench_round_trip_keeps_tools_overrides_and_timeout() -> None:
    workbench = StaticWorkbench(
        [FunctionTool(multiply, description="m")], {"multiply": ToolOverride(name="times")}, timeout=2.5
    )
    spec = workbench.dump_component()
    assert spec.provider == "muster.tools.StaticWorkbench" and spec.component_type == "workbench"
    loaded = Workbench.load_component(ComponentModel.model_validate_json(spec.model_dump_json()))
    assert isinstance(loaded, StaticWorkbench) and not isinstance(loaded, StaticStreamWorkbench)
    assert [s["name"] for s in await loaded.list_tools()] == ["times"]
    assert (await loaded.call_tool("times", {"a": 4})).to_text() == "8"
    assert loaded._timeout == 2.5
    stream_spec = StaticStreamWorkbench([FunctionTool(multiply, description="m")]).dump_component()
    assert isinstance(Workbench.load_component(stream_spec), StaticStreamWorkbench)


async def test_autogen_workbench_spec_loads() -> None:
    spec = {
        "provider": "autogen_core.tools.StaticWorkbench",
        "component_type": "workbench",
        "config": {"tools": [AUTOGEN_FUNCTION_SPEC], "tool_overrides": {"add": {"name": "plus"}}},
    }
    with pytest.warns(UserWarning):
        workbench = Workbench.load_component(spec)
    assert (await workbench.call_tool("plus", {"a": 40})).to_text() == "42"


def test_import_statements_render() -> None:
    assert import_to_str("json") == "import json"
    assert import_to_str(Alias(name="numpy", alias="np")) == "import numpy as np"
    assert (
        import_to_str(ImportFromModule(module="math", imports=["sqrt", Alias(name="pi", alias="PI")]))  # type: ignore[arg-type]
        == "from math import sqrt, pi as PI"
    )
