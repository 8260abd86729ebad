"""DiGraph, DiGraphEdge and DiGraphBuilder: structure queries, validation errors, serialisation."""

from __future__ import annotations

import pytest
from _teams_testkit import ScriptedAgent
from hypothesis import given
from hypothesis import strategies as st

from muster.messages import BaseChatMessage, TextMessage
from muster.teams import DiGraph, DiGraphBuilder, DiGraphEdge, DiGraphNode, GraphFlow
from muster.teams._graph import GraphFlowConfig, GraphValidationError


def node(name: str, *edges: DiGraphEdge) -> DiGraphNode:
    return DiGraphNode(name=name, edges=list(edges))


def graph(*nodes: DiGraphNode, start: str | None = None) -> DiGraph:
    return DiGraph(nodes={n.name: n for n in nodes}, default_start_node=start)


def msg(text: str) -> TextMessage:
    return TextMessage(content=text, source="A")


def test_edge_conditions() -> None:
    assert DiGraphEdge(target="B").check_condition(msg("anything"))
    keyword = DiGraphEdge(target="B", condition="APPROVE")
    assert keyword.is_conditional
    assert keyword.check_condition(msg("I APPROVE this"))
    assert not keyword.check_condition(msg("approve"))  # substring match is case-sensitive

    def short(m: BaseChatMessage) -> bool:
        return len(m.to_text()) < 5

    predicate = DiGraphEdge(target="B", condition=short)
    assert predicate.condition is None and predicate.condition_function is short
    assert predicate.is_conditional
    assert predicate.check_condition(msg("ok")) and not predicate.check_condition(msg("too long"))
    assert "condition_function" not in predicate.model_dump()
    assert predicate.model_dump()["condition"] is None


def test_activation_group_defaults_to_target() -> None:
    assert DiGraphEdge(target="B").activation_group == "B"
    assert DiGraphEdge(target="B", activation_group="loop").activation_group == "loop"


def test_structure_queries() -> None:
    g = graph(
        node("A", DiGraphEdge(target="B"), DiGraphEdge(target="C")),
        node("B", DiGraphEdge(target="D")),
        node("C", DiGraphEdge(target="D")),
        node("D"),
    )
    assert g.get_parents() == {"A": [], "B": ["A"], "C": ["A"], "D": ["B", "C"]}
    assert g.get_start_nodes() == {"A"}
    assert g.get_leaf_nodes() == {"D"}
    assert g.get_remaining_map() == {"B": {"B": 1}, "C": {"C": 1}, "D": {"D": 2}}
    assert g.has_cycles_with_exit() is False
    g.graph_validate()


def test_default_start_node_overrides_parentless_nodes() -> None:
    g = graph(
        node("A", DiGraphEdge(target="B")),
        node("B", DiGraphEdge(target="A", condition="again"), DiGraphEdge(target="C", condition="done")),
        node("C"),
        start="A",
    )
    g.graph_validate()
    assert g.get_start_nodes() == {"A"}
    assert g.get_has_cycles() is True


@pytest.mark.parametrize(
    ("g", "message"),
    [
        (graph(), "Graph has no nodes."),
        (graph(node("A", DiGraphEdge(target="X"))), "Edge from 'A' points to unknown node 'X'."),
        (graph(node("A"), start="Z"), "Start node 'Z' is not a node of the graph."),
        (
            graph(node("A", DiGraphEdge(target="B")), node("B", DiGraphEdge(target="A"))),
            "Graph must have at least one start node",
        ),
        (
            graph(
                node("A", DiGraphEdge(target="B")),
                node("B", DiGraphEdge(target="C")),
                node("C", DiGraphEdge(target="B")),
                start="A",
            ),
            "Graph must have at least one leaf node",
        ),
        (
            graph(
                node("A", DiGraphEdge(target="B")),
                node("B", DiGraphEdge(target="A")),
                node("C"),
                start="A",
            ),
            "Cycle detected without exit condition: A -> B -> A",
        ),
        (
            graph(
                node("A", DiGraphEdge(target="B"), DiGraphEdge(target="C", condition="x")),
                node("B"),
                node("C"),
            ),
            "Node 'A' has a mix of conditional and unconditional edges.",
        ),
        (
            graph(
                node("A", DiGraphEdge(target="C", activation_condition="all")),
                node("B", DiGraphEdge(target="C", activation_condition="any")),
                node("C"),
            ),
            "Conflicting activation conditions for target 'C' group 'C': 'all' (from node 'A') and 'any' (from node 'B')",
        ),
        (
            DiGraph(nodes={"A": DiGraphNode(name="B")}),
            "Node registered as 'A' is named 'B'.",
        ),
    ],
)
def test_validation_errors(g: DiGraph, message: str) -> None:
    with pytest.raises(GraphValidationError) as info:
        g.graph_validate()
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)  # AutoGen raises ValueError: ported handlers still catch it


def test_cycle_error_names_the_path() -> None:
    g = graph(
        node("S", DiGraphEdge(target="A")),
        node("A", DiGraphEdge(target="B")),
        node("B", DiGraphEdge(target="C")),
        node("C", DiGraphEdge(target="A")),
        node("L"),
    )
    with pytest.raises(GraphValidationError) as info:
        g.graph_validate()
    assert info.value.nodes == ("A", "B", "C", "A")


def test_builder_builds_a_validated_copy_and_keeps_participant_order() -> None:
    a, b, c = ScriptedAgent("A"), ScriptedAgent("B"), ScriptedAgent("C")
    builder = DiGraphBuilder()
    builder.add_node(a).add_node(b).add_node(c).add_node(a)  # re-adding is a no-op
    builder.add_edge(a, "B").add_edge(
        "B", c, condition="go", activation_group="g", activation_condition="any"
    )
    builder.add_edge(b, a, condition="back")
    builder.set_entry_point(a)
    built = builder.build()
    assert builder.get_participants() == [a, b, c]
    assert built.default_start_node == "A"
    edge = built.nodes["B"].edges[0]
    assert (edge.target, edge.condition, edge.activation_group, edge.activation_condition) == (
        "C",
        "go",
        "g",
        "any",
    )
    builder.add_edge(c, a, condition="more")
    assert built.nodes["C"].edges == []  # the built graph is independent of the builder


def test_builder_errors() -> None:
    builder = DiGraphBuilder().add_node(ScriptedAgent("A"))
    with pytest.raises(GraphValidationError, match="Source node 'X' must be added before adding an edge."):
        builder.add_edge("X", "A")
    with pytest.raises(GraphValidationError, match="Target node 'Y' must be added before adding an edge."):
        builder.add_edge("A", "Y")
    with pytest.raises(
        GraphValidationError, match="Start node 'Z' must be added before setting as entry point."
    ):
        builder.set_entry_point("Z")


def test_add_conditional_edges_is_deprecated_but_works() -> None:
    builder = DiGraphBuilder()
    for name in "ABC":
        builder.add_node(ScriptedAgent(name))
    with pytest.warns(DeprecationWarning):
        builder.add_conditional_edges("A", {"yes": "B", "no": "C"})
    assert [(e.target, e.condition) for e in builder.build().nodes["A"].edges] == [("B", "yes"), ("C", "no")]


def test_flow_rejects_graphs_it_cannot_run() -> None:
    a, b = ScriptedAgent("A"), ScriptedAgent("B")
    with pytest.raises(GraphValidationError, match=r"Graph nodes \['B'\] are not participants"):
        GraphFlow([a], graph=graph(node("A", DiGraphEdge(target="B")), node("B")))
    loop = graph(
        node("A", DiGraphEdge(target="B")),
        node("B", DiGraphEdge(target="A", condition="again"), DiGraphEdge(target="C", condition="done")),
        node("C"),
        start="A",
    )
    GraphFlow([a, b, ScriptedAgent("C")], graph=loop, max_turns=5)  # a turn limit is enough


async def test_cyclic_flow_without_a_stop_is_refused_at_first_run_not_construction() -> None:
    """As in AutoGen: the loop is built fine, and the first run raises the typed error."""
    loop = graph(
        node("A", DiGraphEdge(target="B")),
        node("B", DiGraphEdge(target="A", condition="again"), DiGraphEdge(target="C", condition="done")),
        node("C"),
        start="A",
    )
    team = GraphFlow([ScriptedAgent("A"), ScriptedAgent("B"), ScriptedAgent("C")], graph=loop)
    with pytest.raises(GraphValidationError, match="A termination condition is required for cyclic graphs"):
        await team.run(task="go")


def test_config_json_schema_skips_callables() -> None:
    schema = GraphFlowConfig.model_json_schema()
    assert "DiGraphEdge" in schema["$defs"]
    assert "condition_function" not in schema["$defs"]["DiGraphEdge"]["properties"]


@st.composite
def dags(draw: st.DrawFn) -> DiGraph:
    """Random DAGs (edges only go to later nodes) with keyword/None conditions per source."""
    size = draw(st.integers(1, 6))
    names = [f"n{i}" for i in range(size)]
    nodes = []
    for i, name in enumerate(names):
        targets = draw(st.lists(st.sampled_from(names[i + 1 :]), unique=True)) if i + 1 < size else []
        conditional = draw(st.booleans())
        edges = [
            DiGraphEdge(
                target=t,
                condition=draw(st.sampled_from(["yes", "no"])) if conditional else None,
                activation_condition=draw(st.sampled_from(["all", "any"])),
                activation_group=f"{t}-{name}",
            )
            for t in targets
        ]
        nodes.append(DiGraphNode(name=name, edges=edges))
    return DiGraph(nodes={n.name: n for n in nodes})


@given(dags())
def test_dags_validate_and_round_trip_through_json(g: DiGraph) -> None:
    g.graph_validate()
    assert g.get_has_cycles() is False
    reloaded = DiGraph.model_validate_json(g.model_dump_json())
    assert reloaded.model_dump() == g.model_dump()
    reloaded.graph_validate()
    assert reloaded.get_start_nodes() == g.get_start_nodes()
