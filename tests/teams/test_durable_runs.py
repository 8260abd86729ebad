"""Cut a run after any turn, save, load into a fresh team (in a fresh process), resume.

The property: the messages of turns 0..k followed by the resumed run's messages are the
uninterrupted run's messages, for every team type, nothing lost and nothing repeated.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _durable_kit import TEAM_KINDS, build_team, transcript
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.base import Team
from muster.teams import TurnCheckpoint, apply_state_delta

_HERE = Path(__file__).parent


async def _uninterrupted(
    kind: str, size: int, budget: int, variant: int
) -> tuple[Any, list[TurnCheckpoint], Any]:
    team = build_team(kind, size, budget, variant)
    spec = team.dump_component().model_dump(mode="json")
    checkpoints: list[TurnCheckpoint] = []

    async def hook(checkpoint: TurnCheckpoint) -> None:
        checkpoints.append(checkpoint)

    team.turn_hook = hook  # type: ignore[attr-defined]
    result = await team.run(task="plan the launch", run_id="run-1")
    return spec, checkpoints, result


def _check_checkpoints(checkpoints: list[TurnCheckpoint], result: Any) -> None:
    # The turns' messages add up to the run's output, and each delta rebuilds its state.
    assert [m for c in checkpoints for m in c.messages] == list(result.messages)
    assert [c.turn for c in checkpoints] == list(range(len(checkpoints)))
    assert {c.run_id for c in checkpoints} == {"run-1"} and result.run_id == "run-1"
    assert [c.status for c in checkpoints] == ["running"] * (len(checkpoints) - 1) + ["finished"]
    assert checkpoints[-1].stop_reason == result.stop_reason
    assert checkpoints[0].delta is None
    for before, after in zip(checkpoints, checkpoints[1:], strict=False):
        assert after.delta is not None
        assert apply_state_delta(json.loads(json.dumps(before.state)), after.delta) == after.state


def _prefix(checkpoints: list[TurnCheckpoint], k: int) -> list[tuple[str, str, str]]:
    return transcript([m for c in checkpoints[: k + 1] for m in c.messages])


shapes = st.tuples(
    st.integers(min_value=2, max_value=3),  # participants
    st.integers(min_value=4, max_value=9),  # message budget
    st.integers(min_value=0, max_value=5),  # condition variant
    st.integers(min_value=0, max_value=10_000),  # which cut (modulo the turns the run had)
)


@pytest.mark.parametrize("kind", TEAM_KINDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes)
def test_resume_from_any_turn_in_a_fresh_team(kind: str, shape: tuple[int, int, int, int]) -> None:
    size, budget, variant, cut = shape

    async def scenario() -> None:
        spec, checkpoints, result = await _uninterrupted(kind, size, budget, variant)
        _check_checkpoints(checkpoints, result)
        k = cut % (len(checkpoints) - 1) if len(checkpoints) > 1 else 0
        if checkpoints[k].status == "finished":
            return
        fresh = Team.load_component(spec)
        await fresh.load_state(json.loads(json.dumps(checkpoints[k].state)))
        resumed = await fresh.run()
        assert _prefix(checkpoints, k) + transcript(resumed.messages) == transcript(result.messages)
        assert resumed.stop_reason == result.stop_reason

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", TEAM_KINDS)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes)
def test_resume_from_any_turn_in_a_fresh_process(kind: str, shape: tuple[int, int, int, int]) -> None:
    size, budget, variant, cut = shape
    spec, checkpoints, result = asyncio.run(_uninterrupted(kind, size, budget, variant))
    k = cut % (len(checkpoints) - 1) if len(checkpoints) > 1 else 0
    if checkpoints[k].status == "finished":
        return
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_HERE), os.environ.get("PYTHONPATH", "")])}
    completed = subprocess.run(
        [sys.executable, str(_HERE / "_durable_worker.py")],
        input=json.dumps({"spec": spec, "state": checkpoints[k].state}),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    resumed = json.loads(completed.stdout)
    expected = transcript(result.messages)
    assert _prefix(checkpoints, k) + [tuple(m) for m in resumed["transcript"]] == expected
    assert resumed["stop_reason"] == result.stop_reason
