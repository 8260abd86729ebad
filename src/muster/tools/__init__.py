"""Tools an agent can call, and workbenches that hold them.

AutoGen: ``autogen_core.tools`` plus ``autogen_agentchat.tools``. ``AgentTool`` and
``TeamTool`` are implemented in ``muster.agents`` and ``muster.teams``, which sit below
this package in the layer order; they are imported on first access so that importing
``muster.tools`` never imports agents or teams.
"""

from typing import Any

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

_LAZY = {"AgentTool": "muster.agents._agent_tool", "TeamTool": "muster.teams._team_tool"}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
