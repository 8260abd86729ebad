"""Suggestions drawn from a diagnosed run's figures, each naming what to change and why.

The rules are the issue's: model time dominant (cache or a faster model), one tool
dominant (name it), context tokens growing (a bounded model context), retries or rate-limit
waits (the limiter settings); plus the seed's resource checks and failed calls. Each rule
reads the numbers and says which ones triggered it, so a suggestion can be checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._breakdown import AgentTiming, ModelCallTiming, ToolTiming
from ._resources import ResourceUsage

__all__ = ["Thresholds", "suggest"]


class Thresholds:
    """When a figure is worth a suggestion (class attributes; subclass to tune)."""

    model_share = 0.5
    """Model inference at least this share of the total..."""
    model_seconds = 1.0
    """...or at least this long (the seed's rule)."""
    tool_share = 0.2
    """Tool execution at least this share of the total..."""
    tool_seconds = 0.5
    """...or at least this long (the seed's rule)."""
    dominant_tool = 0.5
    """One tool at least this share of the tool time is named."""
    context_growth = 2.0
    """An agent's prompt grown by this factor over its calls..."""
    context_calls = 3
    """...over at least this many calls."""
    overhead_share = 0.5
    """Time outside model and tool calls at least this share of the total..."""
    overhead_min_total = 0.1
    """...in a run at least this long (below it the share is noise)."""
    rate_limit_share = 0.05
    memory_mb = 500.0
    cpu_percent = 80.0
    cpu_min_total = 0.5
    """Runs shorter than this (seconds) are not judged on CPU."""
    threads = 50


_UNBOUNDED = {None, "UnboundedChatCompletionContext"}


def suggest(
    total: float,
    stages: Mapping[str, float],
    calls: Sequence[ModelCallTiming],
    tools: Mapping[str, ToolTiming],
    agents: Mapping[str, AgentTiming],
    resources: ResourceUsage,
    thresholds: Thresholds | None = None,
) -> list[str]:
    """Every suggestion the figures support, most important first."""
    limits = thresholds or Thresholds()
    total = max(total, 1e-9)
    found = [
        *_model(total, stages["model_inference"], calls, limits),
        *_tools(total, stages["tool_execution"], tools, limits),
        *_context(calls, agents, limits),
        *_waits(total, calls, limits),
        *_failures(calls, tools),
        *_overhead(total, stages, limits),
        *_resources(total, resources, limits),
    ]
    return found or ["No bottleneck stands out: the run's time is spread over model calls, tools and muster."]


def _model(total: float, seconds: float, calls: Sequence[ModelCallTiming], limits: Thresholds) -> list[str]:
    if not calls or (seconds / total < limits.model_share and seconds < limits.model_seconds):
        return []
    hits = sum(1 for call in calls if call.get("cached"))
    slowest = max(calls, key=lambda call: call["duration"])
    text = (
        f"Model inference is {seconds / total:.0%} of the time ({len(calls)} calls, {seconds:.2f} s; "
        f"slowest {slowest['duration']:.2f} s by {slowest['agent'] or 'the team'}): cache repeated "
        "requests with ChatCompletionCache, or use a faster model"
    )
    if hits:
        text += f" ({hits} of {len(calls)} calls were already cache hits)"
    return [text + "."]


def _tools(total: float, seconds: float, tools: Mapping[str, ToolTiming], limits: Thresholds) -> list[str]:
    if not tools or (seconds / total < limits.tool_share and seconds < limits.tool_seconds):
        return []
    calls_total = sum(tool["total"] for tool in tools.values()) or 1e-9
    name, top = next(iter(tools.items()))
    if top["total"] / calls_total >= limits.dominant_tool:
        return [
            f"Tool '{name}' takes {top['total'] / calls_total:.0%} of the tool time ({top['calls']} calls, "
            f"mean {top['mean'] * 1000:.0f} ms, max {top['max'] * 1000:.0f} ms): make it faster, cache its "
            "results, or give its workbench a timeout."
        ]
    return [
        f"Tool execution is {seconds / total:.0%} of the time ({seconds:.2f} s) across {len(tools)} tools: "
        "optimise the slowest ones or cache their results."
    ]


def _context(
    calls: Sequence[ModelCallTiming], agents: Mapping[str, AgentTiming], limits: Thresholds
) -> list[str]:
    found: list[str] = []
    for name, agent in agents.items():
        prompts = [
            call["prompt_tokens"]
            for call in calls
            if call["agent"] == name and call["prompt_tokens"] is not None and not call.get("cached")
        ]
        if len(prompts) < limits.context_calls or agent["model_context"] not in _UNBOUNDED:
            continue
        growing = all(b >= a for a, b in zip(prompts, prompts[1:], strict=False))
        if growing and prompts[0] > 0 and prompts[-1] >= limits.context_growth * prompts[0]:
            found.append(
                f"Agent '{name}' sends its whole history: its prompt grew from {prompts[0]} to "
                f"{prompts[-1]} tokens over {len(prompts)} calls. Bound its model context "
                "(BufferedChatCompletionContext, TokenLimitedChatCompletionContext or "
                "HeadAndTailChatCompletionContext)."
            )
    return found


def _waits(total: float, calls: Sequence[ModelCallTiming], limits: Thresholds) -> list[str]:
    found: list[str] = []
    retried = [call for call in calls if (call["attempts"] or 1) > 1]
    if retried:
        extra = sum((call["attempts"] or 1) - 1 for call in retried)
        backoff = sum(call["retry_wait"] for call in retried)
        found.append(
            f"{len(retried)} model call(s) were retried ({extra} extra attempt(s), {backoff:.2f} s of backoff): "
            "the provider is refusing or failing requests. Check its rate limits and set the client's "
            "RateLimiter (requests_per_minute, tokens_per_minute, max_concurrent) so calls wait before "
            "they fail."
        )
    waited = sum(call["rate_limit_wait"] for call in calls)
    if waited > 0 and waited / total >= limits.rate_limit_share:
        found.append(
            f"Calls waited {waited:.2f} s ({waited / total:.0%} of the run) for the client-side RateLimiter: "
            "raise its limits if the provider allows more, or run fewer calls at once."
        )
    return found


def _failures(calls: Sequence[ModelCallTiming], tools: Mapping[str, ToolTiming]) -> list[str]:
    found: list[str] = []
    failed_calls = sum(1 for call in calls if call["status"] == "error")
    if failed_calls:
        found.append(f"{failed_calls} model call(s) failed: see the timeline for their errors.")
    for name, tool in tools.items():
        if tool["errors"]:
            found.append(
                f"Tool '{name}' failed {tool['errors']} of {tool['calls']} times: each failure costs "
                "the model another round trip to recover."
            )
    return found


def _overhead(total: float, stages: Mapping[str, float], limits: Thresholds) -> list[str]:
    outside = stages["message_preprocessing"] + stages["response_postprocessing"]
    if total < limits.overhead_min_total or outside / total < limits.overhead_share:
        return []
    return [
        f"{outside / total:.0%} of the time ({outside:.2f} s) is spent outside model and tool calls: "
        "look at memory queries, very long model contexts, turn hooks and agents' own work."
    ]


def _resources(total: float, resources: ResourceUsage, limits: Thresholds) -> list[str]:
    found: list[str] = []
    if resources["memory_mb"] > limits.memory_mb:
        found.append(
            f"The process holds {resources['memory_mb']:.0f} MB: share model clients (ModelClientPool) and "
            "bound caches and model contexts."
        )
    # A short run with no I/O (replay models) is all CPU by nature; only a long one says something.
    if resources["cpu_percent"] > limits.cpu_percent and total >= limits.cpu_min_total:
        found.append(
            f"CPU was {resources['cpu_percent']:.0f}% busy during the run: move CPU-heavy tools off the event "
            "loop (a thread or process) so other runs are not held up."
        )
    if resources["thread_count"] > limits.threads:
        found.append(
            f"{resources['thread_count']} threads are running: check for threads that are never stopped."
        )
    return found
