"""Snapshots of agents as saved by ``save_state``, and ``BaseState``, the root of every saved state.

Each model keeps AutoGen's field names, defaults and ``type`` tags so a state saved by
AutoGen loads here and vice versa. Messages inside a state are stored as the dicts their
``dump()`` returns, not as message objects, so a snapshot is plain JSON from top to bottom
and can be written anywhere (a file, Redis, a database) without custom encoders.

The module imports nothing from muster on purpose: agents (which sit above teams in the
layer order) and teams both use these models. Team and manager states live in
``_team_states``, so an application without teams never defines them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AssistantAgentState", "BaseState", "SocietyOfMindAgentState"]


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


class SocietyOfMindAgentState(BaseState):
    """A SocietyOfMindAgent: the saved state of the team inside it and, in muster, its model context."""

    inner_team_state: Mapping[str, Any] = Field(default_factory=dict)
    llm_context: Mapping[str, Any] | None = Field(default=None)
    """The earlier requests the agent replays to its inner team. Not in AutoGen 0.7, whose
    states lack it: ``None`` on load leaves the context as it is."""
    type: str = Field(default="SocietyOfMindAgentState")
