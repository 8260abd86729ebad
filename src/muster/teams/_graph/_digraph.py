"""The execution graph of a GraphFlow: nodes are agents, edges say who runs after whom."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic.json_schema import SkipJsonSchema

from muster.messages import BaseChatMessage

from .exceptions import GraphValidationError

__all__ = ["DiGraph", "DiGraphEdge", "DiGraphNode", "EdgeCondition"]

EdgeCondition = Callable[[BaseChatMessage], bool]
"""A predicate over the message the source node produced; the edge is followed when True."""


class DiGraphEdge(BaseModel):
    """A directed edge to ``target``, optionally followed only when a condition holds.

    A string condition holds when it occurs in the source's message text; a callable gets
    the message itself. Callables cannot be serialised: they move to
    :attr:`condition_function` and ``condition`` becomes ``None`` in dumps, so a dumped
    graph with callable edges loads back with those edges unconditional.
    """

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    target: str
    """The node this edge leads to."""
    condition: str | SkipJsonSchema[EdgeCondition] | None = Field(default=None)
    """``None`` (always followed), a substring of the source's message, or a predicate."""
    condition_function: SkipJsonSchema[EdgeCondition | None] = Field(default=None, exclude=True)
    """The predicate, when the condition was a callable; never serialised."""
    activation_group: str = Field(default="")
    """Edges into the same target and group are counted together to activate it; defaults to
    the target's name. Give the edges of a loop back into a node their own group so the loop
    does not wait for the node's first-time parents."""
    activation_condition: Literal["all", "any"] = "all"
    """Within a group: run the target once *all* its edges fired, or as soon as *any* did."""

    @model_validator(mode="after")
    def _split_callable_condition(self) -> DiGraphEdge:
        if callable(self.condition):
            self.condition_function = self.condition
            # Bypass validate_assignment-style hooks: this is normalisation, not user input.
            object.__setattr__(self, "condition", None)
        if not self.activation_group:
            self.activation_group = self.target
        return self

    @property
    def is_conditional(self) -> bool:
        """Whether the edge is followed only when its condition holds."""
        return self.condition is not None or self.condition_function is not None

    def check_condition(self, message: BaseChatMessage) -> bool:
        """Whether this edge is followed after the source node said ``message``."""
        if self.condition_function is not None:
            return self.condition_function(message)
        if isinstance(self.condition, str):
            return self.condition in message.to_model_text()
        return True


class DiGraphNode(BaseModel):
    """A node: the agent (by name) and its outgoing edges."""

    model_config = ConfigDict(defer_build=True)

    name: str
    edges: list[DiGraphEdge] = []
    activation: Literal["all", "any"] = "all"
    """Kept for AutoGen spec compatibility; activation is decided per edge group
    (:attr:`DiGraphEdge.activation_condition`)."""


class DiGraph(BaseModel):
    """The whole graph: nodes by name and, optionally, the node to start from."""

    model_config = ConfigDict(defer_build=True)

    nodes: dict[str, DiGraphNode]
    default_start_node: str | None = None
    _has_cycles: bool | None = PrivateAttr(default=None)

    def get_parents(self) -> dict[str, list[str]]:
        """Each node's parents (sources of edges into it), in node order."""
        self._check_targets_exist()
        parents: dict[str, list[str]] = {name: [] for name in self.nodes}
        for node in self.nodes.values():
            for edge in node.edges:
                parents[edge.target].append(node.name)
        return parents

    def get_start_nodes(self) -> set[str]:
        """The entry points: the default start node if set, else every node with no parent."""
        if self.default_start_node:
            return {self.default_start_node}
        return {name for name, parents in self.get_parents().items() if not parents}

    def get_leaf_nodes(self) -> set[str]:
        """The nodes with no outgoing edge; reaching only these ends the flow."""
        return {name for name, node in self.nodes.items() if not node.edges}

    def get_remaining_map(self) -> dict[str, dict[str, int]]:
        """For each target and activation group, how many edges lead into it."""
        remaining: dict[str, dict[str, int]] = {}
        for node in self.nodes.values():
            for edge in node.edges:
                groups = remaining.setdefault(edge.target, {})
                groups[edge.activation_group] = groups.get(edge.activation_group, 0) + 1
        return remaining

    def has_cycles_with_exit(self) -> bool:
        """Whether the graph has a cycle; every cycle must contain a conditional edge.

        A cycle made only of unconditional edges would run forever, so it is rejected.

        Raises:
            GraphValidationError: a cycle has no conditional edge (the message shows its path).
        """
        self._check_targets_exist()
        visited: set[str] = set()
        on_path: list[str] = []
        found = False

        def visit(name: str) -> None:
            nonlocal found
            visited.add(name)
            on_path.append(name)
            for edge in self.nodes[name].edges:
                if edge.target in on_path:
                    cycle = on_path[on_path.index(edge.target) :]
                    edges = [e for n in cycle for e in self.nodes[n].edges]
                    if not any(e.is_conditional for e in edges):
                        path = [*cycle, cycle[0]]
                        raise GraphValidationError(
                            f"Cycle detected without exit condition: {' -> '.join(path)}", tuple(path)
                        )
                    found = True
                elif edge.target not in visited:
                    visit(edge.target)
            on_path.pop()

        for name in self.nodes:
            if name not in visited:
                visit(name)
        return found

    def get_has_cycles(self) -> bool:
        """Whether the graph loops (computed once; raises like :meth:`has_cycles_with_exit`)."""
        if self._has_cycles is None:
            self._has_cycles = self.has_cycles_with_exit()
        return self._has_cycles

    def graph_validate(self) -> None:
        """Check the graph can run; GraphFlow and DiGraphBuilder.build call it.

        Raises:
            GraphValidationError: no nodes; an edge or the start node names an unknown node;
                no start or no leaf node; a node mixes conditional and unconditional edges
                (one branch would always run alongside the chosen one); edges into one
                target and group disagree on "all"/"any"; a cycle without exit condition.
        """
        if not self.nodes:
            raise GraphValidationError("Graph has no nodes.")
        for key, node in self.nodes.items():
            if key != node.name:
                raise GraphValidationError(
                    f"Node registered as '{key}' is named '{node.name}'.", (key, node.name)
                )
        self._check_targets_exist()
        if self.default_start_node is not None and self.default_start_node not in self.nodes:
            raise GraphValidationError(
                f"Start node '{self.default_start_node}' is not a node of the graph.",
                (self.default_start_node,),
            )
        if not self.get_start_nodes():
            raise GraphValidationError("Graph must have at least one start node")
        if not self.get_leaf_nodes():
            raise GraphValidationError("Graph must have at least one leaf node")
        for node in self.nodes.values():
            kinds = {edge.is_conditional for edge in node.edges}
            if kinds == {True, False}:
                raise GraphValidationError(
                    f"Node '{node.name}' has a mix of conditional and unconditional edges.", (node.name,)
                )
        self._check_activation_conditions()
        self._has_cycles = self.has_cycles_with_exit()

    def _check_targets_exist(self) -> None:
        for node in self.nodes.values():
            for edge in node.edges:
                if edge.target not in self.nodes:
                    raise GraphValidationError(
                        f"Edge from '{node.name}' points to unknown node '{edge.target}'.",
                        (node.name, edge.target),
                    )

    def _check_activation_conditions(self) -> None:
        seen: dict[tuple[str, str], tuple[str, str]] = {}  # (target, group) -> (condition, source)
        for node in self.nodes.values():
            for edge in node.edges:
                key = (edge.target, edge.activation_group)
                if key not in seen:
                    seen[key] = (edge.activation_condition, node.name)
                    continue
                condition, source = seen[key]
                if condition != edge.activation_condition:
                    raise GraphValidationError(
                        f"Conflicting activation conditions for target '{edge.target}' group "
                        f"'{edge.activation_group}': '{condition}' (from node '{source}') and "
                        f"'{edge.activation_condition}' (from node '{node.name}')",
                        (source, node.name, edge.target),
                    )
