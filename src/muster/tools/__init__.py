"""Tools an agent can call, and workbenches that hold them.

AutoGen: ``autogen_core.tools`` plus ``autogen_agentchat.tools``. Each name loads its module
on first access (see ``muster.core.internal``), so an agent without tools never loads
``FunctionTool``'s signature machinery. ``AgentTool`` and ``TeamTool`` are implemented in
``muster.agents`` and ``muster.teams``, which sit below this package in the layer order;
loading them lazily also means that importing ``muster.tools`` never imports agents or teams.
"""

from typing import TYPE_CHECKING, Any

from ..core.internal import lazy_exports

if TYPE_CHECKING:
    from ..core.internal import ParametersSchema, Tool, ToolSchema
    from ._base import BaseStreamTool, BaseTool, BaseToolWithState, StreamTool
    from ._function_tool import FunctionTool
    from ._result import ImageResultContent, TextResultContent, ToolResult
    from ._static_workbench import StaticStreamWorkbench, StaticWorkbench
    from ._workbench import ToolOverride, Workbench

__all__ = [
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
]

_EXPORTS = {
    "AgentTool": "muster.agents._agent_tool",
    "BaseStreamTool": "._base",
    "BaseTool": "._base",
    "BaseToolWithState": "._base",
    "FunctionTool": "._function_tool",
    "ImageResultContent": "._result",
    "ParametersSchema": "muster.core.internal",
    "StaticStreamWorkbench": "._static_workbench",
    "StaticWorkbench": "._static_workbench",
    "StreamTool": "._base",
    "TeamTool": "muster.teams._team_tool",
    "TextResultContent": "._result",
    "Tool": "muster.core.internal",
    "ToolOverride": "._workbench",
    "ToolResult": "._result",
    "ToolSchema": "muster.core.internal",
    "Workbench": "._workbench",
}
"""Public name -> module that defines it; imported on first access (see ``muster.core.internal``)."""

_load, _names = lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    # Visible to mypy (unlike other lazy packages) because AgentTool and TeamTool cannot be
    # imported for it from here without importing agents and teams: those two are ``Any``.
    return _load(name)


def __dir__() -> list[str]:
    return _names()
