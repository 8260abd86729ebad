"""Swarm: handoffs choose the speaker; human-in-the-loop through HandoffTermination."""

from __future__ import annotations

import pytest
from _teams_testkit import HandoffAgent, ScriptedAgent, sources

from muster.conditions import HandoffTermination, MaxMessageTermination
from muster.messages import HandoffMessage, TextMessage
from muster.teams import Swarm


async def test_the_first_participant_starts_and_keeps_the_floor_until_it_hands_off() -> None:
    alice = HandoffAgent("alice", targets=[None, "bob"])
    bob = HandoffAgent("bob", targets=[None])
    team = Swarm([alice, bob], termination_condition=MaxMessageTermination(5))
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "alice", "alice", "bob", "bob"]
    assert isinstance(result.messages[2], HandoffMessage)


async def test_handoff_to_the_user_stops_and_a_handoff_back_resumes() -> None:
    alice = HandoffAgent("alice", targets=["user", None])
    bob = HandoffAgent("bob", targets=[None])
    team = Swarm([alice, bob], termination_condition=HandoffTermination("user") | MaxMessageTermination(10))
    result = await team.run(task="help me")
    assert sources(result.messages) == ["user", "alice"]
    assert result.stop_reason == "Handoff to user from alice detected."

    # Continuing with plain text is refused: the conversation is with the user.
    with pytest.raises(ValueError, match="resume with a HandoffMessage"):
        await team.run(task="here you go")
    # Handing back to a participant other than the one who asked works too.
    team2_result = await team.run(
        task=HandoffMessage(content="answer", target="bob", source="user"),
    )
    assert sources(team2_result.messages)[:2] == ["user", "bob"]
    assert bob.seen == ["user>help me", "alice>to user", "user>answer"]


async def test_a_handoff_task_to_a_stranger_is_refused() -> None:
    team = Swarm([HandoffAgent("alice", targets=[None])])
    with pytest.raises(ValueError, match="not a participant"):
        await team.run(task=HandoffMessage(content="x", target="zed", source="user"))


async def test_a_handoff_to_a_stranger_mid_run_fails_the_run() -> None:
    team = Swarm([HandoffAgent("alice", targets=["zed"])], termination_condition=MaxMessageTermination(5))
    with pytest.raises(RuntimeError, match="zed"):
        await team.run(task="go")


async def test_state_round_trip_keeps_the_current_speaker() -> None:
    def make() -> Swarm:
        return Swarm(
            [HandoffAgent("alice", targets=["bob"]), HandoffAgent("bob", targets=[None])],
            termination_condition=MaxMessageTermination(3),
        )

    team = make()
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "alice", "bob"]
    state = await team.save_state()
    assert state["agent_states"]["SwarmGroupChatManager"]["current_speaker"] == "bob"
    fresh = make()
    await fresh.load_state(state)
    result = await fresh.run()
    assert sources(result.messages) == ["bob", "bob", "bob"]


async def test_reset_returns_the_floor_to_the_first_participant() -> None:
    team = Swarm(
        [HandoffAgent("alice", targets=["bob"]), HandoffAgent("bob", targets=[None])],
        termination_condition=MaxMessageTermination(3),
    )
    await team.run(task="go")
    await team.reset()
    result = await team.run(task="again")
    assert sources(result.messages) == ["user", "alice", "bob"]


def test_participants_must_be_agents_and_the_first_must_hand_off() -> None:
    with pytest.raises(ValueError, match="handoffs"):
        Swarm([ScriptedAgent("plain"), HandoffAgent("h", targets=[None])])
    inner = Swarm([HandoffAgent("h", targets=[None])])
    with pytest.raises(TypeError):
        Swarm([HandoffAgent("h2", targets=[None]), inner])  # type: ignore[list-item]


async def test_the_task_may_carry_a_handoff_that_picks_the_first_speaker() -> None:
    alice = HandoffAgent("alice", targets=[None])
    bob = HandoffAgent("bob", targets=[None])
    team = Swarm([alice, bob], termination_condition=MaxMessageTermination(3))
    task = [
        TextMessage(content="context", source="user"),
        HandoffMessage(content="go", target="bob", source="user"),
    ]
    result = await team.run(task=task)
    assert sources(result.messages) == ["user", "user", "bob"]
