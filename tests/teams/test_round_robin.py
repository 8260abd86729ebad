"""RoundRobinGroupChat: order, continuation, termination, task forms, events, nesting."""

from __future__ import annotations

import pytest
from _teams_testkit import ScriptedAgent, StoppingAgent, sources

from muster.base import TaskResult, Team
from muster.base.exceptions import InvalidTaskError
from muster.conditions import MaxMessageTermination, StopMessageTermination, TextMentionTermination
from muster.core import SingleThreadedAgentRuntime
from muster.messages import SelectSpeakerEvent, StopMessage, TextMessage
from muster.teams import RoundRobinGroupChat
from muster.teams.exceptions import TeamRunningError


def _trio() -> list[ScriptedAgent]:
    return [ScriptedAgent("a"), ScriptedAgent("b"), ScriptedAgent("c")]


async def test_speakers_take_turns_in_order_until_the_condition_fires() -> None:
    team = RoundRobinGroupChat(_trio(), termination_condition=MaxMessageTermination(6))
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "a", "b", "c", "a", "b"]
    assert [m.to_text() for m in result.messages[1:]] == ["a:0", "b:0", "c:0", "a:1", "b:1"]
    assert result.stop_reason == "Maximum number of messages 6 reached, current message count: 6"


async def test_run_stream_yields_each_message_then_the_result() -> None:
    team = RoundRobinGroupChat(_trio(), termination_condition=MaxMessageTermination(4))
    items = [item async for item in team.run_stream(task="go")]
    assert isinstance(items[-1], TaskResult)
    assert items[:-1] == list(items[-1].messages)
    assert sources(items[:-1]) == ["user", "a", "b", "c"]


async def test_run_without_task_continues_with_the_next_speaker() -> None:
    team = RoundRobinGroupChat(_trio(), termination_condition=MaxMessageTermination(2))
    first = await team.run(task="go")
    assert sources(first.messages) == ["user", "a"]
    second = await team.run()
    assert sources(second.messages) == ["b", "c"]
    third = await team.run(task="more")
    assert sources(third.messages) == ["user", "a"]


async def test_max_turns_stops_and_restarts_its_count_on_the_next_run() -> None:
    team = RoundRobinGroupChat(_trio(), max_turns=2)
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "a", "b"]
    assert result.stop_reason == "Maximum number of turns 2 reached."
    again = await team.run()
    assert sources(again.messages) == ["c", "a"]


async def test_each_participant_receives_everything_said_since_its_last_turn() -> None:
    a, b = ScriptedAgent("a"), ScriptedAgent("b")
    team = RoundRobinGroupChat([a, b], termination_condition=MaxMessageTermination(5))
    await team.run(task="go")
    # Never its own messages: the runtime does not deliver a publish back to its sender.
    assert a.seen == ["user>go", "b>b:0"]
    assert b.seen == ["user>go", "a>a:0", "a>a:1"]


async def test_task_messages_can_be_left_out_of_the_output() -> None:
    team = RoundRobinGroupChat(_trio(), termination_condition=MaxMessageTermination(3))
    result = await team.run(task="go", output_task_messages=False)
    assert sources(result.messages) == ["a", "b"]


async def test_accepts_a_message_or_a_list_of_messages_as_task() -> None:
    a = ScriptedAgent("a")
    team = RoundRobinGroupChat([a], termination_condition=MaxMessageTermination(3))
    task = [TextMessage(content="one", source="user"), TextMessage(content="two", source="boss")]
    result = await team.run(task=task)
    assert sources(result.messages) == ["user", "boss", "a"]
    assert a.seen == ["user>one", "boss>two"]
    await team.reset()
    result = await team.run(task=TextMessage(content="solo", source="user"))
    assert sources(result.messages) == ["user", "a", "a"]


@pytest.mark.parametrize("bad", [[], 42, ["not a message"]])
async def test_rejects_invalid_tasks_and_stays_usable(bad: object) -> None:
    team = RoundRobinGroupChat(_trio(), termination_condition=MaxMessageTermination(2))
    with pytest.raises(InvalidTaskError):
        await team.run(task=bad)  # type: ignore[arg-type]
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "a"]


async def test_a_condition_fired_by_the_task_itself_stops_before_any_turn() -> None:
    a = ScriptedAgent("a")
    team = RoundRobinGroupChat([a], termination_condition=TextMentionTermination("STOP"))
    result = await team.run(task="please STOP")
    assert sources(result.messages) == ["user"]
    assert result.stop_reason == "Text 'STOP' mentioned"
    assert a.turns == 0


async def test_stop_message_from_a_participant_ends_the_run() -> None:
    team = RoundRobinGroupChat(
        [ScriptedAgent("a"), StoppingAgent("s")], termination_condition=StopMessageTermination()
    )
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "a", "s"]
    assert isinstance(result.messages[-1], StopMessage)


async def test_emit_team_events_streams_speaker_selection() -> None:
    team = RoundRobinGroupChat(_trio(), termination_condition=MaxMessageTermination(3), emit_team_events=True)
    result = await team.run(task="go")
    kinds = [(type(m).__name__, m.source) for m in result.messages]
    assert kinds == [
        ("TextMessage", "user"),
        ("SelectSpeakerEvent", "RoundRobinGroupChatManager"),
        ("TextMessage", "a"),
        ("SelectSpeakerEvent", "RoundRobinGroupChatManager"),
        ("TextMessage", "b"),
    ]
    selected = [m for m in result.messages if isinstance(m, SelectSpeakerEvent)]
    assert [m.content for m in selected] == [["a"], ["b"]]


async def test_reset_restarts_the_cycle_and_resets_participants() -> None:
    agents = _trio()
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(3))
    await team.run(task="go")
    await team.reset()
    assert [a.resets for a in agents] == [1, 1, 1]
    result = await team.run(task="again")
    assert sources(result.messages) == ["user", "a", "b"]
    assert result.messages[1].to_text() == "a:0"


async def test_a_team_can_be_a_participant() -> None:
    inner = RoundRobinGroupChat(
        [ScriptedAgent("x"), ScriptedAgent("y")], name="inner", termination_condition=MaxMessageTermination(4)
    )
    outer_agent = ScriptedAgent("o")
    outer = RoundRobinGroupChat([outer_agent, inner], termination_condition=MaxMessageTermination(5))
    result = await outer.run(task="go")
    # The inner team is given [go, o:0], adds x:0 and y:0 (4 messages), and its turn
    # yields only its own messages, not the task it was given.
    assert sources(result.messages) == ["user", "o", "x", "y", "o"]
    assert outer_agent.seen == ["user>go", "x>x:0", "y>y:0"]
    assert isinstance(inner, Team)


async def test_running_twice_at_once_is_refused() -> None:
    team = RoundRobinGroupChat(_trio(), termination_condition=MaxMessageTermination(3))
    stream = team.run_stream(task="go")
    await stream.__anext__()
    with pytest.raises(TeamRunningError) as info:
        await team.run(task="again")
    assert isinstance(info.value, RuntimeError)
    assert info.value.team_name == "RoundRobinGroupChat"
    rest = [item async for item in stream]
    assert isinstance(rest[-1], TaskResult)


def test_constructor_validates_participants_and_turns() -> None:
    with pytest.raises(ValueError):
        RoundRobinGroupChat([])
    with pytest.raises(ValueError):
        RoundRobinGroupChat([ScriptedAgent("a"), ScriptedAgent("a")])
    with pytest.raises(ValueError):
        RoundRobinGroupChat([ScriptedAgent("a")], max_turns=0)
    team = RoundRobinGroupChat([ScriptedAgent("a")])
    assert (team.name, team.description) == ("RoundRobinGroupChat", "A team of agents.")


async def test_runs_on_a_caller_managed_runtime() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    try:
        team = RoundRobinGroupChat(_trio(), termination_condition=MaxMessageTermination(4), runtime=runtime)
        result = await team.run(task="go")
        assert sources(result.messages) == ["user", "a", "b", "c"]
        result = await team.run()
        assert sources(result.messages) == ["a", "b", "c", "a"]
    finally:
        await runtime.stop_when_idle()
