"""GraphFlow: teams whose turn order is a directed graph (AutoGen: ``autogen_agentchat.teams``)."""

from ._builder import DiGraphBuilder
from ._digraph import DiGraph, DiGraphEdge, DiGraphNode, EdgeCondition
from ._graph_flow import GraphFlow, GraphFlowConfig
from ._manager import GRAPH_COMPLETE_MESSAGE, GraphFlowManager, GraphFlowManagerState
from .exceptions import GraphValidationError

__all__ = [
    "GRAPH_COMPLETE_MESSAGE",
    "DiGraph",
    "DiGraphBuilder",
    "DiGraphEdge",
    "DiGraphNode",
    "EdgeCondition",
    "GraphFlow",
    "GraphFlowConfig",
    "GraphFlowManager",
    "GraphFlowManagerState",
    "GraphValidationError",
]
