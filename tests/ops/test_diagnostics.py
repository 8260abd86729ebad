"""PerformanceDiagnostics on real runs: measured stages, breakdowns and the suggestions they earn.

Model latency comes from the loopback provider server (real HTTP through the OpenAI SDK);
the one slow tool awaits a real delay because its time is what is measured. Only orderings
and ratios are asserted on times, never absolute values.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _research_team import build_team, queue_replies
from fake_llm_server import FakeLLMServer

from muster.agents import AssistantAgent
from muster.conditions import MaxMessageTermination
from muster.model_context import BufferedChatCompletionContext
from muster.models.replay import ReplayChatCompletionClient
from muster.ops import Diagnosis, PerformanceDiagnostics
from muster.teams import RoundRobinGroupChat

STAGES = ("message_preprocessing", "model_inference", "tool_execution", "response_postprocessing")


def stage_sum(diagnosis: Diagnosis) -> float:
    return sum(diagnosis["timings"][name] for name in STAGES)  # type: ignore[literal-required]


async def test_a_real_run_is_measured_stage_by_stage(fake_llm: FakeLLMServer) -> None:
    queue_replies(fake_llm)
    team, clients = build_team(fake_llm)
    diagnostics = PerformanceDiagnostics()
    try:
        diagnosis = await diagnostics.diagnose_slow_response(team, "Summarise the evidence")
    finally:
        for client in clients:
            await client.close()
    timings = diagnosis["timings"]
    # the four stages partition the run: they add up to the total (the stated tolerance)
    assert abs(stage_sum(diagnosis) - diagnosis["total_time"]) <= PerformanceDiagnostics.STAGE_TOLERANCE
    calls = timings["per_model_call"]
    assert [c["agent"] for c in calls] == ["researcher", "researcher", "writer", "reviewer"]
    # calls run one after another here, so the model stage is exactly their durations
    assert timings["model_inference"] == pytest.approx(sum(c["duration"] for c in calls), abs=1e-6)
    assert timings["tool_execution"] == pytest.approx(timings["per_tool"]["search_papers"]["total"], abs=1e-6)
    # the server's latency dominates, then the tool, then muster's own work
    assert timings["model_inference"] > timings["tool_execution"] > 0
    assert timings["tool_execution"] > timings["message_preprocessing"]
    first, second, streamed, replayed = calls
    assert (first["attempts"], first["retry_wait"]) == (2, pytest.approx(0.03))
    assert first["prompt_tokens"] == 120 and streamed["completion_tokens"] == 15
    assert replayed["duration"] < second["duration"]  # the replay model answers at once
    assert timings["per_agent"]["researcher"] == {
        "turns": 1,
        "total": pytest.approx(timings["per_agent"]["researcher"]["total"]),
        "model_calls": 2,
        "tool_calls": 1,
        "model_context": "UnboundedChatCompletionContext",
    }
    suggestions = " ".join(diagnosis["suggestions"])
    assert "Model inference is" in suggestions and "ChatCompletionCache" in suggestions
    assert "1 model call(s) were retried" in suggestions and "RateLimiter" in suggestions
    assert diagnosis["stop_reason"] == "Text 'TERMINATE' mentioned"
    usage = diagnosis["resource_usage"]
    assert usage["memory_mb"] > 0 and usage["thread_count"] >= 1 and usage["open_files"] >= 0


async def test_a_dominant_tool_is_named() -> None:
    async def fetch_report(name: str) -> str:
        """Download a report (the slow part of this agent)."""
        await asyncio.sleep(0.05)
        return f"report {name}"

    async def quick_lookup(name: str) -> str:
        """A fast lookup."""
        return name

    from muster.core import FunctionCall
    from muster.models import CreateResult, RequestUsage

    call = CreateResult(
        finish_reason="function_calls",
        content=[
            FunctionCall(id="1", name="fetch_report", arguments='{"name": "q3"}'),
            FunctionCall(id="2", name="quick_lookup", arguments='{"name": "q3"}'),
        ],
        usage=RequestUsage(5, 5),
        cached=False,
    )
    model = ReplayChatCompletionClient(
        [call],
        model_info={
            "vision": False,
            "function_calling": True,
            "json_output": False,
            "family": "unknown",
            "structured_output": False,
        },
    )
    agent = AssistantAgent("analyst", model_client=model, tools=[fetch_report, quick_lookup])
    diagnosis = await PerformanceDiagnostics().diagnose_slow_response(agent, "Get the Q3 report")
    tools = diagnosis["timings"]["per_tool"]
    assert list(tools) == ["fetch_report", "quick_lookup"]  # slowest first
    assert tools["fetch_report"]["total"] > tools["quick_lookup"]["total"]
    assert any(s.startswith("Tool 'fetch_report' takes") for s in diagnosis["suggestions"])
    assert abs(stage_sum(diagnosis) - diagnosis["total_time"]) <= PerformanceDiagnostics.STAGE_TOLERANCE


def _chatty_team(**agent_kwargs: Any) -> RoundRobinGroupChat:
    long_reply = "This is a long and detailed answer that repeats the whole argument again. " * 4
    agent = AssistantAgent(
        "talker", model_client=ReplayChatCompletionClient([long_reply] * 6), **agent_kwargs
    )
    return RoundRobinGroupChat([agent], termination_condition=MaxMessageTermination(7))


async def test_a_growing_context_earns_a_bounded_context_suggestion() -> None:
    unbounded = await PerformanceDiagnostics().diagnose_slow_response(_chatty_team(), "Discuss")
    prompts = [c["prompt_tokens"] for c in unbounded["timings"]["per_model_call"]]
    assert prompts == sorted(prompts) and prompts[-1] > 2 * prompts[0]  # type: ignore[operator]
    assert any("BufferedChatCompletionContext" in s and "'talker'" in s for s in unbounded["suggestions"])

    bounded = await PerformanceDiagnostics().diagnose_slow_response(
        _chatty_team(model_context=BufferedChatCompletionContext(buffer_size=2)), "Discuss"
    )
    assert not any("BufferedChatCompletionContext" in s for s in bounded["suggestions"])


async def test_a_failing_run_raises_and_its_timeline_shows_the_failure() -> None:
    agent = AssistantAgent("mute", model_client=ReplayChatCompletionClient([]))
    diagnostics = PerformanceDiagnostics()
    with pytest.raises(ValueError):
        await diagnostics.diagnose_slow_response(agent, "hello?")
    timeline = diagnostics.timeline()
    assert [(s.kind, s.status) for s in timeline.spans] == [("agent_turn", "error"), ("model_call", "error")]


def test_timeline_before_any_run_is_refused() -> None:
    with pytest.raises(ValueError):
        PerformanceDiagnostics().timeline()
