"""Teams: group chats of agents running on the core runtime (AutoGen: ``autogen_agentchat.teams``)."""

from __future__ import annotations

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
