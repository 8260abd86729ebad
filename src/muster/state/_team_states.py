"""Snapshots of teams, their participant containers and group-chat managers.

Same conventions as ``_states``: AutoGen's field names, defaults and ``type`` tags, and
messages stored as the dicts their ``dump()`` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ._states import BaseState

__all__ = [
    "BaseGroupChatManagerState",
    "ChatAgentContainerState",
    "MagenticOneOrchestratorState",
    "RoundRobinManagerState",
    "SelectorManagerState",
    "SwarmManagerState",
    "TeamState",
]


class TeamState(BaseState):
    """A team: the state of each participant container and of the manager, keyed by name."""

    agent_states: Mapping[str, Any] = Field(default_factory=dict)
    type: str = Field(default="TeamState")


class BaseGroupChatManagerState(BaseState):
    """What every group-chat manager keeps: the shared thread, turn counts, run status.

    ``message_thread`` and ``current_turn`` are AutoGen's; the other fields make a resume
    exact and default to "nothing in progress", so a state saved by AutoGen still loads.
    """

    message_thread: list[Mapping[str, Any]] = Field(default_factory=list)
    current_turn: int = Field(default=0)
    turn_index: int = Field(default=0)
    """The index the next turn boundary of the current run will have."""
    run_status: str = Field(default="idle")
    """``"active"`` while a run is unfinished (running, cancelled, failed or saved mid-way)."""
    next_speakers: list[str] = Field(default_factory=list)
    """Participants selected for the next turn that have not answered yet."""
    termination_state: Mapping[str, Any] | None = Field(default=None)
    """The termination condition's progress (its ``save_state()``), if the team has one."""
    type: str = Field(default="BaseGroupChatManagerState")


class ChatAgentContainerState(BaseState):
    """A participant inside a team: its agent's state and the messages not yet shown to it."""

    agent_state: Mapping[str, Any] = Field(default_factory=dict)
    message_buffer: list[Mapping[str, Any]] = Field(default_factory=list)
    type: str = Field(default="ChatAgentContainerState")


class RoundRobinManagerState(BaseGroupChatManagerState):
    """RoundRobinGroupChat's manager: whose turn is next."""

    next_speaker_index: int = Field(default=0)
    type: str = Field(default="RoundRobinManagerState")


class SelectorManagerState(BaseGroupChatManagerState):
    """SelectorGroupChat's manager: who spoke last (to forbid repeats when asked to)."""

    previous_speaker: str | None = Field(default=None)
    type: str = Field(default="SelectorManagerState")


class SwarmManagerState(BaseGroupChatManagerState):
    """Swarm's manager: the agent that currently holds the conversation."""

    current_speaker: str = Field(default="")
    type: str = Field(default="SwarmManagerState")


class MagenticOneOrchestratorState(BaseGroupChatManagerState):
    """MagenticOne's orchestrator: the task ledger and its progress counters."""

    task: str = Field(default="")
    facts: str = Field(default="")
    plan: str = Field(default="")
    n_rounds: int = Field(default=0)
    n_stalls: int = Field(default=0)
    type: str = Field(default="MagenticOneOrchestratorState")
