"""The group-chat manager that walks a DiGraph: who is ready to run, and when the flow is done."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from muster.base.exceptions import StateError
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage
from muster.state import BaseGroupChatManagerState

from .._group_chat._base_group_chat_manager import BaseGroupChatManager
from .._group_chat._wiring import GroupChatWiring
from ._digraph import DiGraph

__all__ = ["GRAPH_COMPLETE_MESSAGE", "GraphFlowManager", "GraphFlowManagerState"]

GRAPH_COMPLETE_MESSAGE = "Digraph execution is complete"
"""The stop reason of a flow that ran out of nodes to run (AutoGen's wording)."""


class GraphFlowManagerState(BaseGroupChatManagerState):
    """Where a flow stands: pending edge counts, "any" groups already fired, the ready queue."""

    remaining: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Per target and activation group, edges still to fire before an "all" group is met."""
    enqueued_any: dict[str, dict[str, bool]] = Field(default_factory=dict)
    """Per target and "any" group, whether the target is already queued by that group."""
    ready: list[str] = Field(default_factory=list)
    """Nodes to run next, in order."""
    triggered: dict[str, list[str]] = Field(default_factory=dict)
    """Per queued node, the groups that queued it (re-armed when it runs). Not in AutoGen's
    state; absent there, which only matters for a flow saved mid-way through a loop."""
    type: str = Field(default="GraphManagerState")


class GraphFlowManager(BaseGroupChatManager):
    """Runs the graph's ready nodes, in parallel when several are ready at once.

    After a node speaks, each outgoing edge whose condition holds for its message counts
    down its target's activation group; a group that is met ("all" edges fired, or "any"
    one) queues the target. When a node is picked to run its groups are re-armed, which is
    what lets loops run a node again. When nothing is queued the flow is complete: the run
    stops with :data:`GRAPH_COMPLETE_MESSAGE` and the next run starts from the start nodes.
    A stop by the termination condition or ``max_turns`` instead keeps the queue, so the
    next run continues where the flow was interrupted.
    """

    state_type = GraphFlowManagerState

    def __init__(self, wiring: GroupChatWiring, graph: DiGraph) -> None:
        super().__init__(wiring)
        graph.graph_validate()
        self._graph = graph
        self._edges = {name: node.edges for name, node in graph.nodes.items()}
        self._activation: dict[str, dict[str, Literal["all", "any"]]] = {}
        for node in graph.nodes.values():
            for edge in node.edges:
                self._activation.setdefault(edge.target, {}).setdefault(
                    edge.activation_group, edge.activation_condition
                )
        self._initial_remaining = graph.get_remaining_map()
        self._remaining: dict[str, dict[str, int]] = {}
        self._enqueued_any: dict[str, dict[str, bool]] = {}
        self._ready: deque[str] = deque()
        self._triggered: dict[str, set[str]] = {}
        self._restart_flow()

    def _restart_flow(self) -> None:
        """Put the flow back at its start nodes with every activation group armed."""
        self._remaining = {t: dict(groups) for t, groups in self._initial_remaining.items()}
        self._enqueued_any = {
            target: {group: False for group, cond in groups.items() if cond == "any"}
            for target, groups in self._activation.items()
        }
        # Sorted so that runs (and saved states) do not depend on set iteration order.
        self._ready = deque(sorted(self._graph.get_start_nodes()))
        self._triggered = {}

    def _node_of(self, message: BaseChatMessage) -> str | None:
        if message.source in self._graph.nodes:
            return message.source
        # A nested team's result ends with a message from one of *its* agents; when one
        # node alone is speaking, the turn is that node's.
        if len(self._active_speakers) == 1 and self._active_speakers[0] in self._graph.nodes:
            return self._active_speakers[0]
        return None

    async def update_message_thread(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        await super().update_message_thread(messages)
        last = next((m for m in reversed(messages) if isinstance(m, BaseChatMessage)), None)
        if last is None:
            return
        node = self._node_of(last)
        if node is None:
            return
        for edge in self._edges[node]:
            if not edge.check_condition(last):
                continue
            target, group = edge.target, edge.activation_group
            if self._activation[target][group] == "all":
                self._remaining[target][group] -= 1
                if self._remaining[target][group] == 0:
                    self._ready.append(target)
                    self._triggered.setdefault(target, set()).add(group)
            elif not self._enqueued_any[target][group]:
                self._enqueued_any[target][group] = True
                self._ready.append(target)
                self._triggered.setdefault(target, set()).add(group)

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
        speakers: list[str] = []
        while self._ready:
            speaker = self._ready.popleft()
            # Two groups can queue the same node before it runs; it still runs once.
            if speaker not in speakers:
                speakers.append(speaker)
            self._rearm(speaker)
        return speakers

    def _rearm(self, node: str) -> None:
        for group in self._triggered.pop(node, set()):
            if self._activation[node][group] == "any":
                self._enqueued_any[node][group] = False
            else:
                self._remaining[node][group] = self._initial_remaining[node][group]

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any task (or none) can start a flow."""

    async def _apply_termination_condition(
        self, delta: Sequence[BaseAgentEvent | BaseChatMessage], increment_turn_count: bool = False
    ) -> bool:
        if not self._ready:
            # Natural end: the next run walks the graph again from the start.
            self._restart_flow()
            await self._finish_run(StopMessage(content=GRAPH_COMPLETE_MESSAGE, source=self._name))
            return True
        return await super()._apply_termination_condition(delta, increment_turn_count)

    async def reset(self) -> None:
        await self._reset_base()
        self._restart_flow()

    def _state_fields(self) -> dict[str, Any]:
        # Copies: a snapshot handed to a turn hook must not change as the flow goes on.
        return {
            "remaining": {target: dict(groups) for target, groups in self._remaining.items()},
            "enqueued_any": {target: dict(flags) for target, flags in self._enqueued_any.items()},
            "ready": list(self._ready),
            "triggered": {node: sorted(groups) for node, groups in self._triggered.items()},
        }

    def _check_state(self, state: Any) -> None:
        nodes = self._graph.nodes
        for field_name, names in (
            ("ready", state.ready),
            ("triggered", state.triggered),
            ("remaining", state.remaining),
            ("enqueued_any", state.enqueued_any),
        ):
            unknown = [n for n in names if n not in nodes]
            if unknown:
                raise StateError(f"{self._name}.{field_name}: {unknown} are not nodes of the graph")
        for field_name, groups_by_node in (
            ("remaining", state.remaining),
            ("enqueued_any", state.enqueued_any),
            ("triggered", state.triggered),
        ):
            for node, groups in groups_by_node.items():
                unknown = [g for g in groups if g not in self._activation.get(node, {})]
                if unknown:
                    raise StateError(f"{self._name}.{field_name}.{node}: no activation groups {unknown}")
        for node, groups in state.remaining.items():
            for group, count in groups.items():
                if not 0 <= count <= self._initial_remaining.get(node, {}).get(group, 0):
                    raise StateError(f"{self._name}.remaining.{node}.{group}: {count} is out of range")

    def _apply_state(self, state: Any) -> None:
        self._restart_flow()
        # Merge over the armed defaults so a state saved by an older graph version (or by
        # AutoGen, without "triggered") still leaves every group defined.
        for target, groups in state.remaining.items():
            self._remaining.setdefault(target, {}).update(groups)
        for target, flags in state.enqueued_any.items():
            self._enqueued_any.setdefault(target, {}).update(flags)
        self._ready = deque(state.ready)
        self._triggered = {node: set(groups) for node, groups in state.triggered.items()}
