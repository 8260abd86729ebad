"""Tool bases agents and teams build on; not part of the user API.

Each package's ``internal`` module is its contract with the rest of muster (see
docs/architecture.md, "Imports between packages"): AutoGen keeps these in private modules
too, so they stay out of ``muster.tools.__all__`` and may change without notice. Names load
on first access: the assistant needs ``StreamWorkbench`` but not the task-runner tool.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._task_runner_tool import TaskRunnerTool, TaskRunnerToolArgs
    from ._workbench import StreamWorkbench

__all__ = ["StreamWorkbench", "TaskRunnerTool", "TaskRunnerToolArgs"]

_EXPORTS = {
    "TaskRunnerTool": "muster.tools._task_runner_tool",
    "TaskRunnerToolArgs": "muster.tools._task_runner_tool",
    "StreamWorkbench": "muster.tools._workbench",
}
"""Name -> sub-module that defines it; imported on first access (see ``lazy_exports``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
