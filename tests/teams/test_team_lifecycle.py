"""Team lifecycle: participant errors, cancellation, pause/resume, save/load state."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _teams_testkit import BlockingAgent, FailingAgent, ScriptedAgent, sources

from muster.base import TaskResult
from muster.base.exceptions import AgentError, StateError
from muster.conditions import MaxMessageTermination, TextMentionTermination
from muster.core import CancellationToken
from muster.messages import BaseChatMessage
from muster.teams import RoundRobinGroupChat
from muster.teams.exceptions import ParticipantError, TeamNotInitializedError, TeamRunningError


def _transcript(messages: Any) -> list[tuple[str, str]]:
    return [(m.source, m.to_text()) for m in messages if isinstance(m, BaseChatMessage)]


async def test_a_failing_participant_raises_a_typed_error_naming_it() -> None:
    failing = FailingAgent("b", fail_on=[0])
    team = RoundRobinGroupChat([ScriptedAgent("a"), failing], termination_condition=MaxMessageTermination(4))
    with pytest.raises(ParticipantError) as info:
        await team.run(task="go")
    error = info.value
    assert isinstance(error, AgentError) and isinstance(error, RuntimeError)
    assert (error.agent_name, error.error_type, error.detail) == ("b", "ValueError", "boom on attempt 0")
    assert error.traceback is not None and "boom on attempt 0" in error.traceback
    assert "Agent 'b' failed" in str(error)


async def test_after_a_failure_a_run_with_no_task_retries_the_failed_turn_with_the_budget_left() -> None:
    failing = FailingAgent("b", fail_on=[0])
    team = RoundRobinGroupChat([ScriptedAgent("a"), failing], termination_condition=MaxMessageTermination(4))
    with pytest.raises(ParticipantError):
        await team.run(task="go")
    result = await team.run()
    # b is asked again (it kept its buffer), and the run ends where the uninterrupted run
    # would have: task, a, b, a is four messages, of which the first run produced two.
    assert sources(result.messages) == ["b", "a"]
    assert failing.seen == ["user>go", "a>a:0"]
    assert result.stop_reason is not None and "4" in result.stop_reason


async def test_after_a_failure_reset_works_and_a_new_run_starts_over() -> None:
    a = ScriptedAgent("a")
    team = RoundRobinGroupChat(
        [a, FailingAgent("b", fail_on=[0])], termination_condition=MaxMessageTermination(3)
    )
    with pytest.raises(ParticipantError):
        await team.run(task="go")
    await team.reset()
    result = await team.run(task="again")
    assert _transcript(result.messages) == [("user", "again"), ("a", "a:0"), ("b", "b:0")]


async def test_a_failure_in_streaming_mode_raises_after_the_earlier_messages() -> None:
    team = RoundRobinGroupChat([ScriptedAgent("a"), FailingAgent("b", fail_on=[0])])
    seen: list[str] = []
    with pytest.raises(ParticipantError):
        async for item in team.run_stream(task="go"):
            assert not isinstance(item, TaskResult)
            seen.append(item.source)
    assert seen == ["user", "a"]


async def test_cancelling_mid_turn_stops_the_run_and_leaves_the_team_usable() -> None:
    blocker = BlockingAgent("b")
    team = RoundRobinGroupChat([ScriptedAgent("a"), blocker], termination_condition=MaxMessageTermination(3))
    token = CancellationToken()
    run = asyncio.create_task(team.run(task="go", cancellation_token=token))
    await blocker.started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    # Usable afterwards: state is saveable and a new run works from where it stopped.
    state = await team.save_state()
    assert [m["source"] for m in state["agent_states"]["RoundRobinGroupChatManager"]["message_thread"]] == [
        "user",
        "a",
    ]
    blocker.release.set()
    # The cancelled turn is asked again and the run keeps its budget: task, a, b.
    result = await team.run()
    assert sources(result.messages) == ["b"]


async def test_cancelling_before_the_run_starts_raises_at_once() -> None:
    team = RoundRobinGroupChat([ScriptedAgent("a")], termination_condition=MaxMessageTermination(3))
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await team.run(task="go", cancellation_token=token)
    result = await team.run(task="go")
    assert result.stop_reason is not None


async def test_pause_and_resume_reach_the_participants_during_a_run() -> None:
    a, blocker = ScriptedAgent("a"), BlockingAgent("b")
    team = RoundRobinGroupChat([a, blocker], termination_condition=MaxMessageTermination(3))
    with pytest.raises(TeamNotInitializedError):
        await team.pause()
    run = asyncio.create_task(team.run(task="go"))
    await blocker.started.wait()
    await team.pause()
    assert (a.paused, blocker.paused) == (1, 1)
    await team.resume()
    assert (a.resumed, blocker.resumed) == (1, 1)
    blocker.release.set()
    result = await run
    assert sources(result.messages) == ["user", "a", "b"]
    # Outside a run too (the embedded runtime is started just for the call).
    await team.pause()
    assert a.paused == 2


async def test_reset_and_load_state_are_refused_while_running() -> None:
    blocker = BlockingAgent("a")
    team = RoundRobinGroupChat([blocker], termination_condition=MaxMessageTermination(2))
    run = asyncio.create_task(team.run(task="go"))
    await blocker.started.wait()
    with pytest.raises(TeamRunningError):
        await team.reset()
    with pytest.raises(TeamRunningError):
        await team.load_state({})
    blocker.release.set()
    await run


async def test_a_fresh_team_continues_exactly_where_a_saved_one_stopped() -> None:
    first = RoundRobinGroupChat(
        [ScriptedAgent("a"), ScriptedAgent("b"), ScriptedAgent("c")],
        termination_condition=MaxMessageTermination(3),
    )
    await first.run(task="go")
    state = await first.save_state()
    assert state["type"] == "TeamState"
    assert set(state["agent_states"]) == {"a", "b", "c", "RoundRobinGroupChatManager"}

    agents = [ScriptedAgent("a"), ScriptedAgent("b"), ScriptedAgent("c")]
    second = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(3))
    await second.load_state(state)
    result = await second.run()
    assert _transcript(result.messages) == [("c", "c:0"), ("a", "a:1"), ("b", "b:1")]
    # c's buffer came with the state: it saw the whole conversation once.
    assert agents[2].seen == ["user>go", "a>a:0", "b>b:0"]


async def test_load_state_rejects_a_state_for_other_participants() -> None:
    first = RoundRobinGroupChat([ScriptedAgent("a")], termination_condition=MaxMessageTermination(2))
    await first.run(task="go")
    state = await first.save_state()
    other = RoundRobinGroupChat([ScriptedAgent("z")])
    with pytest.raises(StateError):
        await other.load_state(state)
    with pytest.raises(StateError):
        await other.load_state({"agent_states": "nope"})


def _stateful_team() -> RoundRobinGroupChat:
    # The stop point must be part of the saved state: the turn count is (termination
    # conditions keep their counters out of saved state, as in AutoGen), and a mention
    # depends on the content only.
    return RoundRobinGroupChat(
        [ScriptedAgent("a"), ScriptedAgent("b", replies=["b0", "b1", "b2 DONE"]), ScriptedAgent("c")],
        termination_condition=TextMentionTermination("DONE"),
        max_turns=20,
    )


def _saved_transcript(state: Any) -> list[tuple[str, str]]:
    thread = state["agent_states"]["RoundRobinGroupChatManager"]["message_thread"]
    return [(m["source"], m["content"]) for m in thread]


async def _run_killed_after(kill_after: int) -> list[tuple[str, str]]:
    """Save state after every streamed message; abandon the run after ``kill_after``; resume.

    The team may have run ahead of the consumer when a snapshot is taken, so the
    transcript is what the snapshot holds plus what the resumed team adds.
    """
    team = _stateful_team()
    saved: Any = None
    streamed = 0
    stream = team.run_stream(task="go")
    async for item in stream:
        assert not isinstance(item, TaskResult)
        saved = await team.save_state()
        streamed += 1
        if streamed == kill_after:
            break
    await stream.aclose()  # the process "dies": the team object is abandoned

    before = _saved_transcript(saved)
    assert kill_after <= len(before) < 9, "the snapshot holds what was streamed, and the run is not over"
    resumed = _stateful_team()
    await resumed.load_state(saved)
    result = await resumed.run()
    return before + _transcript(result.messages)


@pytest.mark.parametrize("kill_after", [1, 2, 4, 6])
async def test_a_team_killed_halfway_resumes_to_the_same_transcript(kill_after: int) -> None:
    expected = _transcript((await _stateful_team().run(task="go")).messages)
    assert len(expected) == 9 and expected[-1] == ("b", "b2 DONE")
    assert await _run_killed_after(kill_after) == expected


async def test_the_turn_limit_survives_save_and_load() -> None:
    team = RoundRobinGroupChat([ScriptedAgent("a"), ScriptedAgent("b")], max_turns=5)
    stream = team.run_stream(task="go")
    saved: Any = None
    async for item in stream:
        saved = await team.save_state()
        if item.source == "b":
            break
    await stream.aclose()
    done = len(_saved_transcript(saved)) - 1  # turns completed before the snapshot
    assert 2 <= done < 5
    resumed = RoundRobinGroupChat([ScriptedAgent("a"), ScriptedAgent("b")], max_turns=5)
    await resumed.load_state(saved)
    result = await resumed.run()
    assert len(result.messages) == 5 - done
    assert result.stop_reason == "Maximum number of turns 5 reached."


async def test_an_idle_team_holds_no_queues_and_runs_normally_once_they_are_built() -> None:
    # The output queue and the embedded runtime's queue are built on first use (memory per
    # idle team); the runtime drops its queue again when it stops after each run.
    team = RoundRobinGroupChat(
        [ScriptedAgent("a"), ScriptedAgent("b")], termination_condition=MaxMessageTermination(3)
    )
    assert team._control._output is None and team._runtime._queue is None  # type: ignore[attr-defined]
    first = await team.run(task="go")
    assert sources(first.messages) == ["user", "a", "b"]
    assert team._runtime._queue is None  # type: ignore[attr-defined]
    second = await team.run()
    assert sources(second.messages) == ["a", "b", "a"]


def _runtime_sizes(runtime: Any) -> dict[str, int]:
    subscriptions = runtime._subscriptions
    return {
        "registrations": len(runtime._registrations),
        "instances": len(runtime._instances),
        "subscriptions": len(subscriptions.subscriptions),
        "by_type": len(subscriptions._by_type),
        "by_topic": len(subscriptions._by_topic),
    }


async def test_1000_teams_on_one_shared_runtime_leave_flat_registrations_and_memory() -> None:
    # Reproduction: a shared runtime kept every registration and agent instance of every
    # finished team (200 teams: 600 of each). close() now unregisters what a team added.
    import gc
    import tracemalloc

    from muster.core import SingleThreadedAgentRuntime

    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    before = _runtime_sizes(runtime)

    async def one_team() -> None:
        team = RoundRobinGroupChat(
            [ScriptedAgent("a"), ScriptedAgent("b")],
            termination_condition=MaxMessageTermination(3),
            runtime=runtime,
        )
        result = await team.run(task="go")
        assert sources(result.messages) == ["user", "a", "b"]
        await team.close()

    measured: list[int] = []
    tracemalloc.start()
    try:
        for count in (50, 100, 1000):  # warm-up, then 100 and 1,000 measured teams
            for _ in range(count):
                await one_team()
            gc.collect()
            measured.append(tracemalloc.get_traced_memory()[0])
            assert _runtime_sizes(runtime) == before
    finally:
        tracemalloc.stop()
        await runtime.stop_when_idle()
        await runtime.close()
    growth_100, growth_1000 = measured[1] - measured[0], measured[2] - measured[1]
    # A team's registrations, agents and subscriptions take kilobytes; kept for 1,000 teams
    # they would show as megabytes. Generous slack absorbs allocator noise.
    assert growth_1000 < 2 * max(growth_100, 0) + 512 * 1024, (growth_100, growth_1000)


async def test_a_closed_team_refuses_to_run_and_close_is_idempotent() -> None:
    from muster.teams.exceptions import TeamClosedError

    team = RoundRobinGroupChat([ScriptedAgent("a")], termination_condition=MaxMessageTermination(2))
    await team.run(task="go")
    await team.close()
    await team.close()
    with pytest.raises(TeamClosedError):
        await team.run(task="again")
    with pytest.raises(TeamClosedError):
        await team.reset()
