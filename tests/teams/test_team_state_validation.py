"""load_state checks type, version, names and indices against the team, and loads all or nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from _teams_testkit import HandoffAgent, ScriptedAgent

from muster.base.exceptions import StateError
from muster.conditions import MaxMessageTermination
from muster.teams import RoundRobinGroupChat, Swarm

Mutation = Callable[[dict[str, Any]], None]
_MANAGER = "RoundRobinGroupChatManager"


async def _team_with_history() -> RoundRobinGroupChat:
    team = RoundRobinGroupChat(
        [ScriptedAgent("a"), ScriptedAgent("b")], termination_condition=MaxMessageTermination(3)
    )
    await team.run(task="go")
    return team


def _manager(state: dict[str, Any]) -> dict[str, Any]:
    return state["agent_states"][_MANAGER]  # type: ignore[no-any-return]


CASES: list[tuple[str, Mutation, str]] = [
    ("team type", lambda s: s.update(type="AssistantAgentState"), r"RoundRobinGroupChat\.type"),
    ("team version", lambda s: s.update(version="2.0.0"), r"RoundRobinGroupChat\.version"),
    ("missing part", lambda s: s["agent_states"].pop("b"), r"agent_states: no state for \['b'\]"),
    ("stranger", lambda s: s["agent_states"].update(zed={}), r"\['zed'\] are not part of this team"),
    ("manager type", lambda s: _manager(s).update(type="SwarmManagerState"), rf"{_MANAGER}\.type"),
    ("manager version", lambda s: _manager(s).update(version="0.9"), rf"{_MANAGER}\.version"),
    ("speaker index", lambda s: _manager(s).update(next_speaker_index=7), rf"{_MANAGER}\.next_speaker_index"),
    ("next speakers", lambda s: _manager(s).update(next_speakers=["zed"]), rf"{_MANAGER}\.next_speakers"),
    ("run status", lambda s: _manager(s).update(run_status="paused"), rf"{_MANAGER}\.run_status"),
    ("negative turn", lambda s: _manager(s).update(current_turn=-1), rf"{_MANAGER}\.current_turn"),
    (
        "thread message",
        lambda s: _manager(s)["message_thread"].__setitem__(1, {"type": "NoSuchMessage"}),
        rf"{_MANAGER}\.message_thread\[1\]",
    ),
    (
        "buffer message",
        lambda s: s["agent_states"]["b"]["message_buffer"].append({"type": "TextMessage"}),
        r"b\.message_buffer\[0\]",
    ),
    ("container type", lambda s: s["agent_states"]["a"].update(type="TeamState"), r"a\.type"),
]


@pytest.mark.parametrize(("what", "mutate", "names"), CASES, ids=[c[0] for c in CASES])
async def test_a_state_that_does_not_fit_is_refused_naming_the_field_and_nothing_changes(
    what: str, mutate: Mutation, names: str
) -> None:
    team = await _team_with_history()
    good = json.loads(json.dumps(await team.save_state()))
    bad = copy.deepcopy(good)
    mutate(bad)
    # Load a different, valid state first so "nothing changed" is checked against it.
    other = await _team_with_history()
    await other.run(task="more")
    current = json.loads(json.dumps(await other.save_state()))
    with pytest.raises(StateError, match=names):
        await other.load_state(bad)
    assert json.loads(json.dumps(await other.save_state())) == current


async def test_a_part_refusing_late_rolls_back_the_parts_loaded_before_it() -> None:
    team = await _team_with_history()
    state = json.loads(json.dumps(await team.save_state()))
    # "a" loads fine (it comes first); the manager refuses last. "a" must be put back.
    _manager(state)["next_speaker_index"] = 99
    fresh = RoundRobinGroupChat(
        [ScriptedAgent("a"), ScriptedAgent("b")], termination_condition=MaxMessageTermination(3)
    )
    before = json.loads(json.dumps(await fresh.save_state()))
    with pytest.raises(StateError):
        await fresh.load_state(state)
    assert json.loads(json.dumps(await fresh.save_state())) == before


async def test_a_state_of_another_team_type_is_refused() -> None:
    team = await _team_with_history()
    state = await team.save_state()
    swarm = Swarm([HandoffAgent("a", targets=[None]), HandoffAgent("b", targets=[None])])
    with pytest.raises(StateError, match="SwarmGroupChatManager"):
        await swarm.load_state(state)


async def test_an_autogen_state_without_muster_fields_still_loads() -> None:
    team = await _team_with_history()
    state = json.loads(json.dumps(await team.save_state()))
    for key in ("turn_index", "run_status", "next_speakers", "termination_state"):
        _manager(state).pop(key)
    fresh = RoundRobinGroupChat(
        [ScriptedAgent("a"), ScriptedAgent("b")], termination_condition=MaxMessageTermination(3)
    )
    await fresh.load_state(state)
    result = await fresh.run()
    assert [m.source for m in result.messages] == ["a", "b", "a"]
