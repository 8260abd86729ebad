"""GraphFlow runs: sequences, fan-out and joins, branches, loops, interruption, state and specs."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from _teams_testkit import ScriptedAgent, sources

from muster.agents import AssistantAgent
from muster.agents._message_filter_agent import MessageFilterAgent, MessageFilterConfig, PerSourceFilter
from muster.base import TaskResult
from muster.conditions import MaxMessageTermination, TextMentionTermination
from muster.messages import BaseAgentEvent, BaseChatMessage, TextMessage
from muster.models.replay import ReplayChatCompletionClient
from muster.teams import DiGraphBuilder, GraphFlow, RoundRobinGroupChat
from muster.teams._graph import GRAPH_COMPLETE_MESSAGE


def agents(*names: str, replies: dict[str, list[str]] | None = None) -> dict[str, ScriptedAgent]:
    replies = replies or {}
    return {n: ScriptedAgent(n, replies.get(n)) for n in names}


def flow(builder: DiGraphBuilder, **kwargs: object) -> GraphFlow:
    return GraphFlow(builder.get_participants(), graph=builder.build(), **kwargs)  # type: ignore[arg-type]


def builder_with(team: dict[str, ScriptedAgent]) -> DiGraphBuilder:
    builder = DiGraphBuilder()
    for agent in team.values():
        builder.add_node(agent)
    return builder


def speakers(result: TaskResult) -> list[str]:
    return [m.source for m in result.messages if isinstance(m, BaseChatMessage) and m.source != "user"]


async def test_sequential_flow_runs_each_node_once_then_completes() -> None:
    team = agents("A", "B", "C")
    builder = builder_with(team).add_edge("A", "B").add_edge("B", "C")
    result = await flow(builder).run(task="go")
    assert sources(result.messages) == ["user", "A", "B", "C"]
    assert result.stop_reason == GRAPH_COMPLETE_MESSAGE
    assert team["B"].seen == ["user>go", "A>A:0"]
    assert team["C"].seen == ["user>go", "A>A:0", "B>B:0"]


async def test_fan_out_runs_branches_in_one_step_and_join_waits_for_all() -> None:
    team = agents("A", "B", "C", "D")
    builder = builder_with(team).add_edge("A", "B").add_edge("A", "C").add_edge("B", "D").add_edge("C", "D")
    result = await flow(builder, max_turns=10).run(task="go")
    order = speakers(result)
    assert order[0] == "A" and set(order[1:3]) == {"B", "C"} and order[3:] == ["D"]
    assert team["D"].turns == 1
    assert {"B>B:0", "C>C:0"} <= set(team["D"].seen)


@pytest.mark.parametrize(("activation", "d_runs"), [("all", 1), ("any", 2)])
async def test_join_activation_all_versus_any(activation: str, d_runs: int) -> None:
    # A -> B -> D and A -> C -> C2 -> D: the two paths reach D at different depths.
    team = agents("A", "B", "C", "C2", "D")
    builder = builder_with(team).add_edge("A", "B").add_edge("A", "C").add_edge("C", "C2")
    builder.add_edge("B", "D", activation_condition=activation)  # type: ignore[arg-type]
    builder.add_edge("C2", "D", activation_condition=activation)  # type: ignore[arg-type]
    result = await flow(builder).run(task="go")
    assert team["D"].turns == d_runs
    assert result.stop_reason == GRAPH_COMPLETE_MESSAGE


async def test_string_conditions_choose_a_branch() -> None:
    team = agents("A", "B", "C", replies={"A": ["the answer is yes"]})
    builder = builder_with(team).add_edge("A", "B", condition="yes").add_edge("A", "C", condition="no")
    result = await flow(builder).run(task="go")
    assert speakers(result) == ["A", "B"]
    assert team["C"].turns == 0


async def test_callable_conditions_get_the_message() -> None:
    team = agents("A", "B", "C", replies={"A": ["12345"]})
    seen: list[str] = []

    def long(message: BaseChatMessage) -> bool:
        seen.append(message.source)
        return len(message.to_text()) > 3

    builder = builder_with(team).add_edge("A", "B", condition=long)
    builder.add_edge("A", "C", condition=lambda m: not long(m))
    result = await flow(builder).run(task="go")
    assert speakers(result) == ["A", "B"]
    assert seen == ["A", "A"]


async def test_no_matching_branch_completes_the_flow() -> None:
    team = agents("A", "B", replies={"A": ["maybe"]})
    result = await flow(builder_with(team).add_edge("A", "B", condition="yes")).run(task="go")
    assert speakers(result) == ["A"]
    assert result.stop_reason == GRAPH_COMPLETE_MESSAGE


def review_loop(team: dict[str, ScriptedAgent]) -> DiGraphBuilder:
    """writer -> reviewer; reviewer -> writer on REVISE (own group), -> publisher on APPROVE."""
    builder = builder_with(team).add_edge("writer", "reviewer")
    builder.add_edge("reviewer", "writer", condition="REVISE", activation_group="loop")
    builder.add_edge("reviewer", "publisher", condition="APPROVE")
    return builder.set_entry_point("writer")


async def test_loop_repeats_until_the_exit_condition() -> None:
    team = agents("writer", "reviewer", "publisher", replies={"reviewer": ["REVISE", "REVISE", "APPROVE"]})
    result = await flow(review_loop(team), max_turns=20).run(task="draft")
    assert speakers(result) == ["writer", "reviewer"] * 3 + ["publisher"]
    assert result.stop_reason == GRAPH_COMPLETE_MESSAGE


async def test_loop_back_to_a_node_with_first_time_parents_uses_activation_groups() -> None:
    # start -> A -> B; B -> A on "again" (group "retry"), B -> end on "done". Without its own
    # group the loop edge would make A wait for both start and B.
    team = agents("start", "A", "B", "end", replies={"B": ["again", "done"]})
    builder = builder_with(team).add_edge("start", "A").add_edge("A", "B")
    builder.add_edge("B", "A", condition="again", activation_group="retry", activation_condition="any")
    builder.add_edge("B", "end", condition="done")
    result = await flow(builder, max_turns=20).run(task="go")
    assert speakers(result) == ["start", "A", "B", "A", "B", "end"]


async def test_termination_interrupts_and_the_next_run_continues() -> None:
    team = agents("A", "B", "C")
    builder = builder_with(team).add_edge("A", "B").add_edge("B", "C")
    graph_flow = flow(builder, termination_condition=MaxMessageTermination(2))
    first = await graph_flow.run(task="go")
    assert sources(first.messages) == ["user", "A"]
    assert first.stop_reason is not None and first.stop_reason.startswith("Maximum number of messages 2")
    second = await graph_flow.run()
    assert sources(second.messages) == ["B", "C"]
    assert second.stop_reason == GRAPH_COMPLETE_MESSAGE


async def test_after_completion_a_new_run_starts_from_the_top() -> None:
    team = agents("A", "B")
    graph_flow = flow(builder_with(team).add_edge("A", "B"))
    await graph_flow.run(task="one")
    second = await graph_flow.run(task="two")
    assert sources(second.messages) == ["user", "A", "B"]
    assert team["A"].seen == ["user>one", "B>B:0", "user>two"]


async def test_max_turns_counts_parallel_steps_as_one() -> None:
    team = agents("A", "B", "C", "D")
    builder = builder_with(team).add_edge("A", "B").add_edge("A", "C").add_edge("B", "D").add_edge("C", "D")
    result = await flow(builder, max_turns=2).run(task="go")
    assert sorted(speakers(result)) == ["A", "B", "C"]
    assert result.stop_reason == "Maximum number of turns 2 reached."


async def test_termination_condition_on_content_stops_a_loop() -> None:
    team = agents(
        "writer", "reviewer", "publisher", replies={"reviewer": ["REVISE"], "writer": ["draft", "FINAL"]}
    )
    graph_flow = flow(review_loop(team), termination_condition=TextMentionTermination("FINAL"))
    result = await graph_flow.run(task="go")
    assert speakers(result) == ["writer", "reviewer", "writer"]
    assert result.stop_reason == "Text 'FINAL' mentioned"


async def test_reset_forgets_progress() -> None:
    team = agents("A", "B", "C")
    builder = builder_with(team).add_edge("A", "B").add_edge("B", "C")
    graph_flow = flow(builder, termination_condition=MaxMessageTermination(2))
    await graph_flow.run(task="go")
    await graph_flow.reset()
    assert team["A"].resets == 1
    result = await graph_flow.run(task="again")
    assert sources(result.messages) == ["user", "A"]


async def test_state_round_trip_resumes_mid_loop_exactly() -> None:
    script = {"reviewer": ["REVISE", "REVISE", "APPROVE"]}

    uninterrupted = await flow(
        review_loop(agents("writer", "reviewer", "publisher", replies=script)), max_turns=20
    ).run(task="draft")

    first_team = agents("writer", "reviewer", "publisher", replies=script)
    first = flow(review_loop(first_team), termination_condition=MaxMessageTermination(4))
    part_one = await first.run(task="draft")
    state = await first.save_state()
    manager_state = state["agent_states"]["GraphManager"]
    assert manager_state["type"] == "GraphManagerState"
    assert manager_state["ready"] == ["reviewer"]  # user, writer, reviewer, writer: 4 messages

    second_team = agents("writer", "reviewer", "publisher", replies=script)
    second = flow(review_loop(second_team), termination_condition=MaxMessageTermination(40))
    await second.load_state(state)
    part_two = await second.run()
    assert speakers(part_one) + speakers(part_two) == speakers(uninterrupted)
    assert second_team["publisher"].turns == 1


async def test_message_filter_agent_narrows_what_a_looping_node_sees() -> None:
    writer = ScriptedAgent("writer")
    reviewer = ScriptedAgent("reviewer", ["REVISE", "APPROVE"])
    filtered_writer = MessageFilterAgent(
        "writer",
        wrapped_agent=writer,
        filter=MessageFilterConfig(
            per_source=[
                PerSourceFilter(source="user", position="first", count=1),
                PerSourceFilter(source="reviewer", position="last", count=1),
            ]
        ),
    )
    publisher = ScriptedAgent("publisher")
    builder = DiGraphBuilder().add_node(filtered_writer).add_node(reviewer).add_node(publisher)
    builder.add_edge("writer", "reviewer").add_edge(
        "reviewer", "writer", condition="REVISE", activation_group="loop"
    )
    builder.add_edge("reviewer", "publisher", condition="APPROVE").set_entry_point("writer")
    result = await flow(builder, max_turns=10).run(task="draft it")
    assert speakers(result) == ["writer", "reviewer", "writer", "reviewer", "publisher"]
    assert writer.seen == ["user>draft it", "reviewer>REVISE"]


async def test_a_nested_team_can_be_a_node() -> None:
    inner = RoundRobinGroupChat([ScriptedAgent("x"), ScriptedAgent("y")], name="inner", max_turns=2)
    first, last = ScriptedAgent("first"), ScriptedAgent("last")
    graph = DiGraphBuilder().add_node(first).add_node(inner).add_node(last)  # type: ignore[arg-type]
    graph.add_edge("first", "inner").add_edge("inner", "last")
    result = await GraphFlow([first, inner, last], graph=graph.build()).run(task="go")
    assert speakers(result) == ["first", "x", "y", "last"]
    assert result.stop_reason == GRAPH_COMPLETE_MESSAGE


def assistant(name: str, replies: Sequence[str]) -> AssistantAgent:
    return AssistantAgent(name, model_client=ReplayChatCompletionClient(list(replies)))


async def test_dump_load_round_trip_runs_the_same() -> None:
    a, b, c = assistant("A", ["go left"]), assistant("B", ["left"]), assistant("C", ["right"])
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c)
    builder.add_edge(a, b, condition="left").add_edge(a, c, condition="right")
    original = GraphFlow(
        builder.get_participants(),
        graph=builder.build(),
        name="router",
        termination_condition=MaxMessageTermination(10),
    )
    spec = original.dump_component()
    assert spec.provider == "muster.teams.GraphFlow"
    assert spec.config["graph"]["nodes"]["A"]["edges"][0] == {
        "target": "B",
        "condition": "left",
        "activation_group": "B",
        "activation_condition": "all",
    }
    loaded = GraphFlow.load_component(spec.model_dump(mode="json"))
    assert loaded.dump_component() == spec
    result = await loaded.run(task="route me")
    assert speakers(result) == ["A", "B"]


def test_callable_conditions_are_dropped_from_specs() -> None:
    a, b = assistant("A", []), assistant("B", [])
    builder = DiGraphBuilder().add_node(a).add_node(b).add_edge(a, b, condition=lambda m: True)
    spec = GraphFlow(builder.get_participants(), graph=builder.build()).dump_component()
    edge = spec.config["graph"]["nodes"]["A"]["edges"][0]
    assert "condition" not in edge  # None is left out of specs


def test_loads_an_autogen_spec() -> None:
    spec = {
        "provider": "autogen_agentchat.teams.GraphFlow",
        "component_type": "team",
        "config": {
            "participants": [
                assistant("A", ["a"]).dump_component().model_dump(),
                assistant("B", ["b"]).dump_component().model_dump(),
            ],
            "graph": {
                "nodes": {
                    "A": {
                        "name": "A",
                        "edges": [{"target": "B", "activation_group": "B", "activation_condition": "all"}],
                        "activation": "all",
                    },
                    "B": {"name": "B", "edges": [], "activation": "all"},
                }
            },
        },
    }
    team = GraphFlow.load_component(spec)
    assert team.name == "GraphFlow" and team.description == "A team of agents"
    assert team.graph.get_start_nodes() == {"A"}


async def test_stream_ends_with_the_task_result() -> None:
    team = agents("A", "B")
    items: list[BaseAgentEvent | BaseChatMessage | TaskResult] = [
        item async for item in flow(builder_with(team).add_edge("A", "B")).run_stream(task="go")
    ]
    assert isinstance(items[-1], TaskResult)
    assert [m.source for m in items[:-1] if isinstance(m, TextMessage)] == ["user", "A", "B"]
