"""Snapshots of agents, teams and group-chat managers, as saved by ``save_state``.

Each model keeps AutoGen's field names, defaults and ``type`` tags so a state saved by
AutoGen loads here and vice versa. Messages inside a state are stored as the dicts their
``dump()`` returns, not as message objects, so a snapshot is plain JSON from top to bottom
and can be written anywhere (a file, Redis, a database) without custom encoders.

The module imports nothing from muster on purpose: agents (which sit above teams in the
layer order) and teams both use these models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssistantAgentState",
    "BaseGroupChatManagerState",
    "BaseState",
    "ChatAgentContainerState",
    "MagenticOneOrchestratorState",
    "RoundRobinManagerState",
    "SelectorManagerState",
    "SocietyOfMindAgentState",
    "SwarmManagerState",
    "TeamState",
]


class BaseState(BaseModel):
    """The root of every saved state; ``type`` names the concrete model, ``version`` its format."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    type: str = Field(default="BaseState")
    version: str = Field(default="1.0.0")


class AssistantAgentState(BaseState):
    """An AssistantAgent's model context and, in muster, the contents of its memories."""

    llm_context: Mapping[str, Any] = Field(default_factory=lambda: {"messages": []})
    """The model context's state, as saved by the context's own ``save_state``."""
    memory_states: list[Mapping[str, Any]] | None = Field(default=None)
    """One saved state per memory, in the agent's ``memory`` order. Not in AutoGen: the
    agent leaves it out of the saved dict when it has no memories (so that state is exactly
    AutoGen's), and ``None`` on load, as in an AutoGen state, leaves the memories as they are."""
    type: str = Field(default="AssistantAgentState")


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


class SocietyOfMindAgentState(BaseState):
    """A SocietyOfMindAgent: the saved state of the team inside it and, in muster, its model context."""

    inner_team_state: Mapping[str, Any] = Field(default_factory=dict)
    llm_context: Mapping[str, Any] | None = Field(default=None)
    """The earlier requests the agent replays to its inner team. Not in AutoGen 0.7, whose
    states lack it: ``None`` on load leaves the context as it is."""
    type: str = Field(default="SocietyOfMindAgentState")
