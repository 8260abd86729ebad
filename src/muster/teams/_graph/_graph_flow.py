"""GraphFlow: a team whose turn order is a directed graph of agents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.base import ChatAgent, Team, TerminationCondition
from muster.core import AgentRuntime, Component, ComponentModel
from muster.messages import BaseAgentEvent, BaseChatMessage

from .._group_chat._base_group_chat import BaseGroupChat
from .._group_chat._specs import load_participants, load_termination
from .._group_chat._wiring import GroupChatWiring
from ._digraph import DiGraph
from ._manager import GraphFlowManager
from .exceptions import GraphValidationError

__all__ = ["GraphFlow", "GraphFlowConfig"]


class GraphFlowConfig(BaseModel):
    """Spec of a :class:`GraphFlow`; callable edge conditions are not part of it."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str | None = None
    description: str | None = None
    participants: list[ComponentModel]
    termination_condition: ComponentModel | None = None
    max_turns: int | None = None
    graph: DiGraph


class GraphFlow(BaseGroupChat, Component[GraphFlowConfig]):
    """A team that runs its agents in the order a :class:`DiGraph` prescribes.

    Sequences, parallel fan-out (several ready nodes run at once), joins ("all" parents
    or "any" parent), conditional branches (edge conditions on the last message) and loops
    with exit conditions are all expressed in the graph; build it with
    :class:`DiGraphBuilder`. Each agent sees the messages produced since its previous turn
    (wrap it in a :class:`~muster.agents.MessageFilterAgent` to narrow that). The run ends
    when no node is left to run (stop reason ``"Digraph execution is complete"``), or
    earlier on the termination condition or ``max_turns``; a run stopped early continues
    from the interrupted point on the next ``run()``.

    Args:
        participants: The agents (or teams) named by the graph's nodes.
        graph: The execution graph.
        name: The team's name; defaults to ``"GraphFlow"``.
        description: What the team does; defaults to ``"A team of agents"``.
        termination_condition: Stop early when it fires.
        max_turns: Stop after this many turns (a parallel step is one turn).
        runtime: A caller-managed runtime to run on (default: an embedded one per run).
        custom_message_types: Extra message classes the participants exchange.

    Raises:
        GraphValidationError: (a ``ValueError``) the graph is malformed or names a node that
            is not a participant. A graph that loops without a termination condition or
            ``max_turns`` is refused when the team first runs, not here: AutoGen does the
            same and its docs build such a team to show the error.
    """

    component_config_schema = GraphFlowConfig
    component_provider_override = "muster.teams.GraphFlow"

    DEFAULT_NAME = "GraphFlow"
    DEFAULT_DESCRIPTION = "A team of agents"

    def __init__(
        self,
        participants: list[ChatAgent] | list[ChatAgent | Team],
        graph: DiGraph,
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
    ) -> None:
        for participant in participants:
            if not isinstance(participant, ChatAgent | Team):
                raise TypeError(f"Participant {participant!r} must be a ChatAgent or a Team.")
        # Checked here rather than when the manager is first built, so a bad graph fails at
        # construction instead of in the middle of the first run.
        graph.graph_validate()
        names = {p.name for p in participants}
        unknown = sorted(set(graph.nodes) - names)
        if unknown:
            raise GraphValidationError(
                f"Graph nodes {unknown} are not participants; participants are {sorted(names)}.",
                tuple(unknown),
            )
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=list(participants),
            group_chat_manager_name="GraphManager",
            group_chat_manager_class=GraphFlowManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
        )
        self._graph = graph

    @property
    def graph(self) -> DiGraph:
        """The execution graph."""
        return self._graph

    def _create_group_chat_manager_factory(self, wiring: GroupChatWiring) -> Callable[[], GraphFlowManager]:
        graph = self._graph

        def _factory() -> GraphFlowManager:
            # Checked when the team first runs, as AutoGen does, as the typed error (still a
            # ValueError): AutoGen's docs build such a graph to show the refusal.
            if graph.get_has_cycles() and wiring.termination_condition is None and wiring.max_turns is None:
                raise GraphValidationError(
                    "A termination condition is required for cyclic graphs without a maximum turn limit."
                )
            return GraphFlowManager(wiring, graph)

        return _factory

    def _to_config(self) -> GraphFlowConfig:
        fields = self._common_config_fields()
        del fields["emit_team_events"]  # GraphFlow's spec, like AutoGen's, has no such field
        return GraphFlowConfig(**fields, graph=self._graph)

    @classmethod
    def _from_config(cls, config: GraphFlowConfig) -> Self:
        return cls(
            load_participants(config.participants),
            graph=config.graph,
            name=config.name,
            description=config.description,
            termination_condition=load_termination(config.termination_condition),
            max_turns=config.max_turns,
        )
