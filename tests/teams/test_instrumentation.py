"""Team runs report each participant's turn, with its messages, to an active recorder."""

from __future__ import annotations

from muster.agents import AssistantAgent
from muster.conditions import MaxMessageTermination
from muster.core.instrumentation import Recorder, Span, SpanKind
from muster.models.replay import ReplayChatCompletionClient
from muster.teams import RoundRobinGroupChat, SelectorGroupChat


def spans(recorder: Recorder, kind: SpanKind) -> list[Span]:
    return sorted((s for s in recorder.spans if s.kind is kind), key=lambda s: s.start)


def agent(name: str, *replies: str) -> AssistantAgent:
    return AssistantAgent(name, model_client=ReplayChatCompletionClient(list(replies)), description=name)


async def test_every_turn_is_a_span_carrying_its_run_id_and_messages() -> None:
    team = RoundRobinGroupChat(
        [agent("a", "a0", "a1"), agent("b", "b0")], termination_condition=MaxMessageTermination(4)
    )
    recorder = Recorder()
    with recorder.recording():
        result = await team.run(task="go", run_id="run-7")
    turns = spans(recorder, SpanKind.AGENT_TURN)
    assert [t.name for t in turns] == ["a", "b", "a"]
    assert all(t.attributes["run_id"] == "run-7" and t.parent is None for t in turns)
    assert [e.attributes["content"] for t in turns for e in t.events] == [
        m.to_text() for m in result.messages[1:]
    ]
    calls = spans(recorder, SpanKind.MODEL_CALL)
    assert [c.parent for c in calls] == turns
    # turns never overlap in a round robin, and each call lies inside its turn
    for earlier, later in zip(turns, turns[1:], strict=False):
        assert earlier.end <= later.start  # type: ignore[operator]
    assert all(c.parent.start <= c.start and c.end <= c.parent.end for c in calls)  # type: ignore[union-attr,operator]


async def test_a_nested_team_is_a_turn_whose_inner_turns_are_its_children() -> None:
    inner = RoundRobinGroupChat(
        [agent("x", "x0"), agent("y", "y0")], termination_condition=MaxMessageTermination(3), name="inner"
    )
    outer = RoundRobinGroupChat([inner, agent("z", "z0")], termination_condition=MaxMessageTermination(4))
    recorder = Recorder()
    with recorder.recording():
        await outer.run(task="go")
    turns = spans(recorder, SpanKind.AGENT_TURN)
    nested = next(t for t in turns if t.name == "inner")
    assert nested.attributes["team_participant"] is True
    assert {t.name for t in turns if t.parent is nested} == {"x", "y"}
    assert next(t for t in turns if t.name == "z").parent is None


async def test_a_selector_call_is_a_model_call_outside_any_turn() -> None:
    selector = ReplayChatCompletionClient(["a", "b"])
    team = SelectorGroupChat(
        [agent("a", "a0"), agent("b", "b0")],
        model_client=selector,
        termination_condition=MaxMessageTermination(3),
    )
    recorder = Recorder()
    with recorder.recording():
        await team.run(task="go")
    outside = [c for c in spans(recorder, SpanKind.MODEL_CALL) if c.parent is None]
    assert len(outside) == len(selector.create_calls) >= 1
    assert all(c.name == "ReplayChatCompletionClient" for c in outside)
