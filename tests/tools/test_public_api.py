"""The public surface of muster.tools and its error messages."""

from __future__ import annotations

import subprocess
import sys

import pytest

import muster.tools
from muster.core.exceptions import MusterError
from muster.tools.exceptions import (
    ToolArgumentsError,
    ToolDefinitionError,
    ToolError,
    ToolNotFoundError,
    ToolOverrideConflictError,
    ToolStrictModeError,
    ToolTimeoutError,
)

EXPECTED = {
    "AgentTool",
    "BaseStreamTool",
    "BaseTool",
    "BaseToolWithState",
    "FunctionTool",
    "ImageResultContent",
    "ParametersSchema",
    "StaticStreamWorkbench",
    "StaticWorkbench",
    "StreamTool",
    "TeamTool",
    "TextResultContent",
    "Tool",
    "ToolOverride",
    "ToolResult",
    "ToolSchema",
    "Workbench",
}


def test_all_lists_the_autogen_names() -> None:
    assert set(muster.tools.__all__) == EXPECTED
    for name in EXPECTED - {"AgentTool", "TeamTool"}:
        assert getattr(muster.tools, name) is not None


def test_protocol_types_are_the_core_ones() -> None:
    from muster.core import _tool_protocol

    assert muster.tools.Tool is _tool_protocol.Tool
    assert muster.tools.ToolSchema is _tool_protocol.ToolSchema
    assert muster.tools.ParametersSchema is _tool_protocol.ParametersSchema


def test_importing_tools_does_not_import_agents_or_teams_or_sdks() -> None:
    code = (
        "import sys, muster.tools\n"
        "bad = [m for m in sys.modules if m.split('.')[:2] in (['muster','agents'], ['muster','teams'])"
        " or m.split('.')[0] in ('openai', 'anthropic', 'redis', 'yaml', 'psutil', 'diskcache')]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchTool"):
        _ = muster.tools.NoSuchTool  # type: ignore[attr-defined]


def test_error_hierarchy_and_messages() -> None:
    timeout = ToolTimeoutError("get_weather", 3.0)
    assert str(timeout) == "Tool 'get_weather' timed out after 3.0 s"
    assert (timeout.tool_name, timeout.timeout) == ("get_weather", 3.0)
    assert isinstance(timeout, TimeoutError)

    missing = ToolNotFoundError("mul", ["add", "sub"])
    assert str(missing) == "Tool 'mul' not found. Available tools: add, sub"
    assert missing.available == ["add", "sub"] and isinstance(missing, LookupError)
    assert str(ToolNotFoundError("x", [])).endswith("Available tools: none")

    args = ToolArgumentsError("add", [("b", "Field required"), ("a", "bad")])
    assert str(args) == "Invalid arguments for tool 'add': b: Field required; a: bad"

    conflict = ToolOverrideConflictError("sum", ["add", "plus"])
    assert (
        str(conflict)
        == "Tool name 'sum' would be used by 'add' and 'plus'; exposed tool names must be unique"
    )

    for cls in (ToolArgumentsError, ToolDefinitionError, ToolNotFoundError, ToolOverrideConflictError):
        assert issubclass(cls, ToolError)
    assert issubclass(ToolStrictModeError, ToolDefinitionError)
    assert issubclass(ToolError, MusterError)


def test_agent_and_team_tools_are_imported_lazily_from_their_layers() -> None:
    """A fresh interpreter: the tools layer loads neither agents nor teams until asked."""
    code = (
        "import sys, muster.tools\n"
        "assert 'muster.agents._agent_tool' not in sys.modules\n"
        "assert 'muster.teams._team_tool' not in sys.modules\n"
        "from muster.agents._agent_tool import AgentTool\n"
        "from muster.teams._team_tool import TeamTool\n"
        "assert muster.tools.AgentTool is AgentTool and muster.tools.TeamTool is TeamTool\n"
        "assert 'AgentTool' in dir(muster.tools) and 'TeamTool' in dir(muster.tools)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
