"""The push-based turn hook, save_state during a run, run ids, and the reviewer's reproductions."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from _teams_testkit import BlockingAgent, FailingAgent, ScriptedAgent, sources

from muster.conditions import MaxMessageTermination
from muster.core import CancellationToken
from muster.models.usage import current_usage_scope
from muster.teams import RoundRobinGroupChat, TurnCheckpoint
from muster.teams.exceptions import TurnHookError


def _team(*agents: Any, budget: int = 6) -> RoundRobinGroupChat:
    return RoundRobinGroupChat(list(agents), termination_condition=MaxMessageTermination(budget))


async def test_the_hook_is_awaited_at_every_boundary_before_the_next_turn_starts() -> None:
    a, b = ScriptedAgent("a"), ScriptedAgent("b")
    team = _team(a, b, budget=4)
    seen: list[tuple[int, list[str], tuple[str, ...], int, int]] = []

    async def hook(checkpoint: TurnCheckpoint) -> None:
        # Nobody has been asked for the next turn yet: the agents' turn counts say so.
        seen.append(
            (checkpoint.turn, sources(checkpoint.messages), tuple(checkpoint.next_speakers), a.turns, b.turns)
        )

    team.turn_hook = hook
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "a", "b", "a"]
    assert seen == [
        (0, ["user"], ("a",), 0, 0),
        (1, ["a"], ("b",), 1, 0),
        (2, ["b"], ("a",), 1, 1),
        (3, ["a"], (), 2, 1),
    ]


async def test_a_slow_hook_holds_the_run() -> None:
    a, b = ScriptedAgent("a"), ScriptedAgent("b")
    team = _team(a, b, budget=3)
    entered, release = asyncio.Event(), asyncio.Event()

    async def hook(checkpoint: TurnCheckpoint) -> None:
        if checkpoint.turn == 1:
            entered.set()
            await release.wait()

    team.turn_hook = hook
    run = asyncio.create_task(team.run(task="go"))
    await entered.wait()
    await asyncio.sleep(0)  # give the runtime every chance to move on; it must not
    assert (a.turns, b.turns) == (1, 0)
    release.set()
    result = await run
    assert sources(result.messages) == ["user", "a", "b"]


async def test_a_raising_hook_fails_the_run_and_a_run_with_no_task_resumes_there() -> None:
    a, b = ScriptedAgent("a"), ScriptedAgent("b")
    team = _team(a, b, budget=4)
    fail = True

    async def hook(checkpoint: TurnCheckpoint) -> None:
        if checkpoint.turn == 2 and fail:
            raise OSError("disk full")

    team.turn_hook = hook
    with pytest.raises(TurnHookError) as info:
        await team.run(task="go")
    assert info.value.turn == 2 and isinstance(info.value.error, OSError)
    assert (a.turns, b.turns) == (1, 1)  # the turn after the failed boundary never started
    fail = False
    result = await team.run()
    assert sources(result.messages) == ["a"]
    assert result.stop_reason is not None and "4" in result.stop_reason


async def test_run_ids_reach_checkpoints_results_and_model_call_scopes() -> None:
    scopes: list[str | None] = []

    class Recording(ScriptedAgent):
        async def on_messages(self, messages: Any, cancellation_token: CancellationToken) -> Any:
            scopes.append(current_usage_scope().run_id)
            return await super().on_messages(messages, cancellation_token)

    team = _team(Recording("a"), Recording("b"), budget=3)
    ids: set[str] = set()

    async def hook(checkpoint: TurnCheckpoint) -> None:
        ids.add(checkpoint.run_id)

    team.turn_hook = hook
    result = await team.run(task="go", run_id="r-42")
    assert result.run_id == "r-42" and ids == {"r-42"} and scopes == ["r-42", "r-42"]
    generated = await team.run(task="again")
    assert generated.run_id and generated.run_id != "r-42"


async def test_a_stopped_and_resumed_run_keeps_its_message_budget() -> None:
    # Reproduction: stopped after 3 messages under MaxMessageTermination(6), saved and
    # resumed, the team produced 10 messages where the uninterrupted run produced 6.
    uninterrupted = await _team(ScriptedAgent("a"), ScriptedAgent("b")).run(task="go")
    assert len(uninterrupted.messages) == 6

    team = _team(ScriptedAgent("a"), ScriptedAgent("b"))
    states: list[Any] = []

    async def hook(checkpoint: TurnCheckpoint) -> None:
        states.append(json.loads(json.dumps(checkpoint.state)))
        if checkpoint.turn == 2:
            raise RuntimeError("crash after three messages")

    team.turn_hook = hook
    with pytest.raises(TurnHookError):
        await team.run(task="go")
    fresh = _team(ScriptedAgent("a"), ScriptedAgent("b"))
    await fresh.load_state(states[-1])
    resumed = await fresh.run()
    assert len(resumed.messages) == 3
    assert [(m.source, m.to_text()) for m in resumed.messages] == [
        (m.source, m.to_text()) for m in uninterrupted.messages[3:]
    ]


async def test_save_state_during_a_run_returns_the_next_boundary_snapshot() -> None:
    blocker = BlockingAgent("b")
    team = _team(ScriptedAgent("a"), blocker, budget=4)
    run = asyncio.create_task(team.run(task="go"))
    await blocker.started.wait()
    saving = asyncio.create_task(team.save_state())
    await asyncio.sleep(0)
    assert not saving.done()  # b's turn is not finished: no boundary yet
    blocker.release.set()
    state = await saving
    manager = state["agent_states"]["RoundRobinGroupChatManager"]
    assert [m["source"] for m in manager["message_thread"]] == ["user", "a", "b"]
    assert manager["run_status"] == "active" and manager["next_speakers"] == ["a"]
    await run


async def test_a_cancelled_save_state_leaves_the_team_running_normally() -> None:
    # Reproduction: asyncio.wait_for(team.save_state(), 0.05) cancelled mid-run wedged the
    # team for good: the run never finished and cancel() did not finish it.
    blocker = BlockingAgent("b")
    team = _team(ScriptedAgent("a"), blocker, budget=4)
    run = asyncio.create_task(team.run(task="go"))
    await blocker.started.wait()
    saving = asyncio.create_task(team.save_state())
    await asyncio.sleep(0)
    saving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await saving
    blocker.release.set()
    result = await asyncio.wait_for(run, timeout=30)
    assert sources(result.messages) == ["user", "a", "b", "a"]
    # And a later run can still be cancelled.
    blocker.release.clear()
    blocker.started.clear()
    token = CancellationToken()
    second = asyncio.create_task(team.run(task="again", cancellation_token=token))
    await blocker.started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(second, timeout=30)


async def test_a_token_from_a_finished_run_does_not_cancel_the_next_run() -> None:
    team = _team(ScriptedAgent("a"), ScriptedAgent("b"), budget=3)
    token = CancellationToken()
    await team.run(task="go", cancellation_token=token)
    assert len(token._callbacks) == 0  # type: ignore[attr-defined]
    token.cancel()
    result = await team.run(task="again")
    assert sources(result.messages) == ["user", "a", "b"]


async def test_a_failed_participant_turn_is_retried_when_the_run_resumes_from_saved_state() -> None:
    failing = FailingAgent("b", fail_on=[0])
    team = _team(ScriptedAgent("a"), failing, budget=3)
    with pytest.raises(Exception, match="boom"):
        await team.run(task="go")
    state = json.loads(json.dumps(await team.save_state()))
    manager = state["agent_states"]["RoundRobinGroupChatManager"]
    assert manager["run_status"] == "active" and manager["next_speakers"] == ["b"]
    fresh = _team(ScriptedAgent("a"), ScriptedAgent("b"), budget=3)
    await fresh.load_state(state)
    result = await fresh.run()
    assert sources(result.messages) == ["b"]


async def test_a_nested_team_has_its_own_hook_and_inherits_the_outer_run_id() -> None:
    inner = RoundRobinGroupChat(
        [ScriptedAgent("x"), ScriptedAgent("y")], name="inner", termination_condition=MaxMessageTermination(4)
    )
    outer = RoundRobinGroupChat([ScriptedAgent("a"), inner], termination_condition=MaxMessageTermination(5))
    inner_seen: list[tuple[str, int, list[str]]] = []
    outer_seen: list[tuple[int, list[str]]] = []

    async def inner_hook(checkpoint: TurnCheckpoint) -> None:
        inner_seen.append((checkpoint.run_id, checkpoint.turn, sources(checkpoint.messages)))

    async def outer_hook(checkpoint: TurnCheckpoint) -> None:
        outer_seen.append((checkpoint.turn, sources(checkpoint.messages)))

    inner.turn_hook = inner_hook
    outer.turn_hook = outer_hook
    result = await outer.run(task="go", run_id="outer-1")
    assert sources(result.messages) == ["user", "a", "x", "y", "a"]
    # The nested run (its task is the two messages it has not seen) is one outer turn; its
    # own boundaries go to its own hook, its task messages are not part of its output.
    assert outer_seen == [(0, ["user"]), (1, ["a"]), (2, ["x", "y"]), (3, ["a"])]
    assert inner_seen == [("outer-1", 0, []), ("outer-1", 1, ["x"]), ("outer-1", 2, ["y"])]
