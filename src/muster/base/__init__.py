"""Contracts shared by agents and teams (AutoGen: ``autogen_agentchat.base``)."""

from ._chat_agent import ChatAgent, Response
from ._handoff import Handoff
from ._task import TaskResult, TaskRunner
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
]
