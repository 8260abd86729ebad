"""Contracts shared by agents and teams (AutoGen: ``autogen_agentchat.base``)."""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._handoff import Handoff
    from ._task import ChatAgent, Response, TaskResult, TaskRunner, normalize_task
    from ._team import Team
    from ._termination import AndTerminationCondition, OrTerminationCondition, TerminationCondition
    from .exceptions import TerminatedException

__all__ = [
    "AndTerminationCondition",
    "ChatAgent",
    "Handoff",
    "OrTerminationCondition",
    "Response",
    "TaskResult",
    "TaskRunner",
    "Team",
    "TerminatedException",
    "TerminationCondition",
    "normalize_task",
]

_EXPORTS = {
    "ChatAgent": "._task",
    "Response": "._task",
    "Handoff": "._handoff",
    "TaskResult": "._task",
    "TaskRunner": "._task",
    "normalize_task": "._task",
    "Team": "._team",
    "AndTerminationCondition": "._termination",
    "OrTerminationCondition": "._termination",
    "TerminationCondition": "._termination",
    "TerminatedException": ".exceptions",
}
"""Public name -> sub-module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
