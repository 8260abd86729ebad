"""Each suggestion rule fires on the figures it names, and only then."""

from __future__ import annotations

from muster.ops import ModelCallTiming, ResourceUsage
from muster.ops._suggestions import suggest

QUIET = ResourceUsage(
    memory_mb=80.0, memory_delta_mb=0.0, cpu_percent=10.0, cpu_time_s=0.1, thread_count=2, open_files=1
)
STAGES = {
    "message_preprocessing": 0.1,
    "model_inference": 0.2,
    "tool_execution": 0.1,
    "response_postprocessing": 0.1,
}


def call(**overrides: object) -> ModelCallTiming:
    base = ModelCallTiming(
        agent="a",
        model="m",
        client="openai",
        start=0.0,
        duration=0.1,
        prompt_tokens=10,
        completion_tokens=5,
        cached=False,
        attempts=1,
        retry_wait=0.0,
        rate_limit_wait=0.0,
        status="ok",
    )
    return {**base, **overrides}  # type: ignore[typeddict-item]


def test_rate_limit_waits_point_at_the_limiter() -> None:
    found = suggest(1.0, STAGES, [call(rate_limit_wait=0.3)], {}, {}, QUIET)
    assert any("RateLimiter" in s and "0.30 s" in s for s in found)
    assert not any(
        "RateLimiter" in s for s in suggest(1.0, STAGES, [call(rate_limit_wait=0.01)], {}, {}, QUIET)
    )


def test_the_seed_resource_checks() -> None:
    heavy = ResourceUsage(
        memory_mb=900.0, memory_delta_mb=0.0, cpu_percent=95.0, cpu_time_s=1.0, thread_count=80, open_files=3
    )
    found = " ".join(suggest(1.0, STAGES, [call()], {}, {}, heavy))
    assert "900 MB" in found and "95% busy" in found and "80 threads" in found
    short = {k: v / 100 for k, v in STAGES.items()}
    assert "busy" not in " ".join(suggest(0.01, short, [call()], {}, {}, heavy))  # too short to judge


def test_failed_calls_and_tools_are_reported() -> None:
    tools = {"search": {"calls": 4, "errors": 2, "total": 0.1, "mean": 0.025, "max": 0.05}}
    found = " ".join(suggest(1.0, STAGES, [call(status="error")], tools, {}, QUIET))  # type: ignore[arg-type]
    assert "1 model call(s) failed" in found and "Tool 'search' failed 2 of 4 times" in found


def test_a_calm_run_says_so() -> None:
    assert suggest(1.0, STAGES, [call()], {}, {}, QUIET)[0].startswith("No bottleneck stands out")


def test_overhead_is_flagged_only_in_runs_long_enough_to_mean_it() -> None:
    stages = {**STAGES, "message_preprocessing": 0.6, "model_inference": 0.01}
    assert any("outside model and tool calls" in s for s in suggest(1.0, stages, [call()], {}, {}, QUIET))
    short = {k: v / 100 for k, v in stages.items()}
    assert not any("outside model and tool calls" in s for s in suggest(0.01, short, [call()], {}, {}, QUIET))
