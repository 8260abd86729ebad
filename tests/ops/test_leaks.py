"""The leak tools flag memory that every run leaves behind, and pass the framework itself.

A planted leak is a real one: something global that keeps a reference to what each run
made. The framework check runs a real team, loaded fresh from its spec, 200 times.
"""

from __future__ import annotations

import inspect
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from muster.agents import AssistantAgent
from muster.core import ComponentLoader
from muster.models.replay import ReplayChatCompletionClient
from muster.ops import MemoryLeakDetector, check_run_memory

ROOT = Path(__file__).resolve().parents[2]
PLANTED = 20_000
"""Bytes the planted leak keeps per run."""

_kept: list[bytes] = []  # the planted leak: a module-level list every run appends to


def line_of(function: Callable[..., Any], text: str) -> str:
    """``file:line`` of the first line of ``function`` containing ``text``."""
    lines, first = inspect.getsourcelines(function)
    offset = next(i for i, line in enumerate(lines) if text in line)
    return f"{inspect.getsourcefile(function)}:{first + offset}"


class Payload:
    """An object type the detector should see multiply."""

    def __init__(self) -> None:
        self.data = bytes(PLANTED)


# Counting live objects by type while tracemalloc traces costs about 2 µs per object, and
# late in a full test run this process holds millions: the default timeout is too short.
@pytest.mark.timeout(300)
def test_the_detector_reports_the_line_and_the_type_that_grew() -> None:
    detector = MemoryLeakDetector(frames=5)
    assert detector.take_snapshot("before start") is None
    detector.start_tracking()
    try:
        kept = []
        for i in range(5):
            kept.extend(Payload() for _ in range(10))  # the line that grows
            detector.take_snapshot(f"iteration {i}")
        report = detector.analyze_leaks(top_n=5)
    finally:
        detector.stop_tracking()
    assert not tracemalloc.is_tracing()
    assert [s["label"] for s in report["snapshots"]] == ["baseline", *[f"iteration {i}" for i in range(5)]]
    top = report["top_growth"][0]
    assert top["site"] == line_of(Payload.__init__, "bytes(PLANTED)")
    assert top["size_bytes"] >= 50 * PLANTED and top["count"] >= 50
    caller = line_of(test_the_detector_reports_the_line_and_the_type_that_grew, "the line that grows")
    assert caller in top["traceback"]
    assert report["growth_bytes"] >= 50 * PLANTED
    payload = next(g for g in report["object_growth"] if g["type"] == "Payload")
    assert payload["growth"] == 50
    assert report["suggestions"] and len(kept) == 50


def test_analysis_needs_two_snapshots() -> None:
    detector = MemoryLeakDetector()
    detector.start_tracking()
    try:
        with pytest.raises(ValueError):
            detector.analyze_leaks()
    finally:
        detector.stop_tracking()


async def test_a_planted_leak_in_a_team_run_is_flagged_with_its_site() -> None:
    async def remember(note: str) -> str:
        """Files a note (and, by mistake, keeps it forever)."""
        _kept.append(bytes(PLANTED))
        return "noted"

    async def run_once() -> None:
        from muster.core import FunctionCall
        from muster.models import CreateResult, RequestUsage

        call = CreateResult(
            finish_reason="function_calls",
            content=[FunctionCall(id="1", name="remember", arguments='{"note": "x"}')],
            usage=RequestUsage(1, 1),
            cached=False,
        )
        info = {
            "vision": False,
            "function_calling": True,
            "json_output": False,
            "family": "unknown",
            "structured_output": False,
        }
        agent = AssistantAgent(
            "clerk", model_client=ReplayChatCompletionClient([call], model_info=info), tools=[remember]
        )
        await agent.run(task="file it")

    progress: list[tuple[int, int]] = []
    try:
        report = await check_run_memory(
            run_once, repeat=40, frames=1, on_progress=lambda done, total: progress.append((done, total))
        )
    finally:
        _kept.clear()
    assert report["growing"]
    assert PLANTED * 0.9 <= report["growth_per_run_bytes"] <= PLANTED * 1.5
    assert report["top_sites"][0]["site"] == line_of(remember, "_kept.append")
    assert report["top_sites"][0]["size_bytes"] >= PLANTED * 0.9  # per run
    assert progress[-1] == (44, 44) and len(progress) == 44  # 4 warm-up runs, then 40


async def test_the_framework_does_not_leak_across_200_team_runs() -> None:
    spec = yaml.safe_load((ROOT / "examples" / "expert_team.yaml").read_text())

    async def run_once() -> None:
        team = ComponentLoader.load_component(spec)
        await team.run(task="Write a report on AI in healthcare")
        await team.close()

    report = await check_run_memory(run_once, repeat=200, frames=1)
    assert not report["growing"], report["top_sites"][:3]
    assert report["growth_per_run_bytes"] < report["threshold_bytes"]
    assert report["suggestions"][0].startswith("Memory is flat")
