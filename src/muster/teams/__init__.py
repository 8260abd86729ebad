"""Teams: group chats of agents running on the core runtime (AutoGen: ``autogen_agentchat.teams``)."""

from __future__ import annotations

import importlib
from typing import Any

from ._group_chat._base_group_chat import BaseGroupChat
from ._group_chat._round_robin_group_chat import RoundRobinGroupChat

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
]

# Written in parallel by another engineer; resolved on first use until they land.
_LAZY: dict[str, str] = {
    "DiGraph": "muster.teams._graph",
    "DiGraphBuilder": "muster.teams._graph",
    "DiGraphEdge": "muster.teams._graph",
    "DiGraphNode": "muster.teams._graph",
    "GraphFlow": "muster.teams._graph",
    "MagenticOneGroupChat": "muster.teams._magentic_one",
    "SelectorGroupChat": "muster.teams._group_chat._selector_group_chat",
    "Swarm": "muster.teams._group_chat._swarm_group_chat",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'muster.teams' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
