"""A fluent way to build a DiGraph from the agents themselves."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Literal, Self

from muster.base import ChatAgent

from ._digraph import DiGraph, DiGraphEdge, DiGraphNode, EdgeCondition
from .exceptions import GraphValidationError

__all__ = ["DiGraphBuilder"]


class DiGraphBuilder:
    """Builds a validated :class:`DiGraph` and remembers the agents, in insertion order.

    Nodes and edges accept an agent or its name. ``builder.get_participants()`` gives the
    agents to pass to :class:`GraphFlow` alongside ``builder.build()``::

        builder = DiGraphBuilder()
        builder.add_node(writer).add_node(reviewer)
        builder.add_edge(writer, reviewer)
        builder.add_edge(reviewer, writer, condition="REVISE")
        flow = GraphFlow(builder.get_participants(), graph=builder.build())
    """

    def __init__(self) -> None:
        self.nodes: dict[str, DiGraphNode] = {}
        self.agents: dict[str, ChatAgent] = {}
        self._default_start_node: str | None = None

    @staticmethod
    def _name(node: str | ChatAgent) -> str:
        return node if isinstance(node, str) else node.name

    def add_node(self, agent: ChatAgent, activation: Literal["all", "any"] = "all") -> Self:
        """Add ``agent`` as a node; adding the same name again is a no-op."""
        if agent.name not in self.nodes:
            self.nodes[agent.name] = DiGraphNode(name=agent.name, edges=[], activation=activation)
            self.agents[agent.name] = agent
        return self

    def add_edge(
        self,
        source: str | ChatAgent,
        target: str | ChatAgent,
        condition: str | EdgeCondition | None = None,
        activation_group: str | None = None,
        activation_condition: Literal["all", "any"] | None = None,
    ) -> Self:
        """Add an edge; both ends must already be nodes.

        Args:
            source: Where the edge starts.
            target: Where it leads.
            condition: ``None`` (always), a substring of the source's message, or a predicate.
            activation_group: Groups edges into ``target``; defaults to the target's name.
            activation_condition: ``"all"`` (default) or ``"any"`` edges of the group.

        Raises:
            GraphValidationError: ``source`` or ``target`` was not added yet.
        """
        source_name, target_name = self._name(source), self._name(target)
        if source_name not in self.nodes:
            raise GraphValidationError(
                f"Source node '{source_name}' must be added before adding an edge.", (source_name,)
            )
        if target_name not in self.nodes:
            raise GraphValidationError(
                f"Target node '{target_name}' must be added before adding an edge.", (target_name,)
            )
        self.nodes[source_name].edges.append(
            DiGraphEdge(
                target=target_name,
                condition=condition,
                activation_group=activation_group or target_name,
                activation_condition=activation_condition or "all",
            )
        )
        return self

    def add_conditional_edges(
        self, source: str | ChatAgent, condition_to_target: Mapping[str, str | ChatAgent]
    ) -> Self:
        """Add one keyword-conditioned edge per entry (deprecated in AutoGen; use add_edge)."""
        warnings.warn(
            "add_conditional_edges will be changed in the future to support callable conditions. "
            "For now, please use add_edge if you need to specify custom conditions.",
            DeprecationWarning,
            stacklevel=2,
        )
        for keyword, target in condition_to_target.items():
            self.add_edge(source, target, condition=keyword)
        return self

    def set_entry_point(self, name: str | ChatAgent) -> Self:
        """Start the flow at this node instead of at every parentless node.

        Needed when the first node is also the target of a loop edge (it then has a parent).

        Raises:
            GraphValidationError: the node was not added yet.
        """
        node_name = self._name(name)
        if node_name not in self.nodes:
            raise GraphValidationError(
                f"Start node '{node_name}' must be added before setting as entry point.", (node_name,)
            )
        self._default_start_node = node_name
        return self

    def build(self) -> DiGraph:
        """A validated graph (a deep copy, so later builder calls do not change it).

        Raises:
            GraphValidationError: see :meth:`DiGraph.graph_validate`.
        """
        graph = DiGraph(
            nodes={name: node.model_copy(deep=True) for name, node in self.nodes.items()},
            default_start_node=self._default_start_node,
        )
        graph.graph_validate()
        return graph

    def get_participants(self) -> list[ChatAgent]:
        """The agents added, in insertion order."""
        return list(self.agents.values())
