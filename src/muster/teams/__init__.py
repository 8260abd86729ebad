"""Teams: group chats of agents running on the core runtime (AutoGen: ``autogen_agentchat.teams``).

Each team type loads on first access (see ``muster.core.internal``): ``import muster.teams``
costs almost nothing, and a round robin never pays for GraphFlow or MagenticOne.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._checkpoint import TurnCheckpoint, apply_state_delta, state_delta
    from ._graph import DiGraph, DiGraphBuilder, DiGraphEdge, DiGraphNode, GraphFlow
    from ._group_chat._base_group_chat import BaseGroupChat
    from ._group_chat._round_robin_group_chat import RoundRobinGroupChat
    from ._group_chat._run_control import TurnHook
    from ._group_chat._selector_group_chat import SelectorGroupChat
    from ._group_chat._swarm_group_chat import Swarm
    from ._magentic_one import MagenticOneGroupChat

__all__ = [
    "BaseGroupChat",
    "DiGraph",
    "DiGraphBuilder",
    "DiGraphEdge",
    "DiGraphNode",
    "GraphFlow",
    "MagenticOneGroupChat",
    "RoundRobinGroupChat",
    "SelectorGroupChat",
    "Swarm",
    "TurnCheckpoint",
    "TurnHook",
    "apply_state_delta",
    "state_delta",
]

_EXPORTS = {
    "BaseGroupChat": "._group_chat._base_group_chat",
    "DiGraph": "._graph._digraph",
    "DiGraphBuilder": "._graph._builder",
    "DiGraphEdge": "._graph._digraph",
    "DiGraphNode": "._graph._digraph",
    "GraphFlow": "._graph._graph_flow",
    "MagenticOneGroupChat": "._magentic_one._magentic_one_group_chat",
    "RoundRobinGroupChat": "._group_chat._round_robin_group_chat",
    "SelectorGroupChat": "._group_chat._selector_group_chat",
    "Swarm": "._group_chat._swarm_group_chat",
    "TurnCheckpoint": "._checkpoint",
    "TurnHook": "._group_chat._run_control",
    "apply_state_delta": "._checkpoint",
    "state_delta": "._checkpoint",
}
"""Public name -> sub-module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
