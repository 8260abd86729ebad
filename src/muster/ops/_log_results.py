"""The log analyzer's results (JSON-ready dicts) and the suggestions drawn from them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TypedDict

from ._histogram import LatencyHistogram

__all__ = [
    "AgentStats",
    "ErrorAnalysis",
    "HourlyErrors",
    "HourlyLatency",
    "LatencyStats",
    "LineCounts",
    "LogReport",
    "PerformanceAnalysis",
    "SlowRequest",
    "agent_results",
    "error_results",
    "performance_results",
    "suggestions",
]


class HourlyErrors(TypedDict):
    hour: str
    """Start of the hour, ISO 8601."""
    count: int
    by_type: dict[str, int]


class ErrorAnalysis(TypedDict):
    """What :meth:`LogAnalyzer.analyze_errors` returns."""

    total: int
    """Errors in the window."""
    by_type: dict[str, int]
    """In the window, most frequent first."""
    hourly: list[HourlyErrors]
    """Every hour of the window, oldest first (zero hours included, for a trend)."""
    all_time: dict[str, int]
    """By type, over the whole file."""
    untimed: int
    """Errors on lines without a timestamp (not windowed)."""
    window_start: str | None
    window_end: str | None


class LatencyStats(TypedDict):
    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


class HourlyLatency(LatencyStats):
    hour: str


class SlowRequest(TypedDict):
    duration_ms: float
    timestamp: str | None
    what: str
    """``METHOD path``, ``agent NAME`` or the message."""
    status_code: int | None
    run_id: str | None
    request_id: str | None


class PerformanceAnalysis(LatencyStats):
    """What :meth:`LogAnalyzer.analyze_performance` returns (durations in ms)."""

    measures: str
    """``requests`` (the log's request lines) or ``durations`` (every ``duration_ms``)."""
    min_ms: float
    slow_threshold_ms: float
    slow_count: int
    slowest: list[SlowRequest]
    by_category: dict[str, LatencyStats]
    """``http`` (request lines), ``agent``, ``run``, ``other``."""
    hourly: list[HourlyLatency]


class AgentStats(TypedDict):
    success: int
    failure: int
    events: int
    """Lines naming the agent, outcomes or not."""
    success_rate: float | None
    """Of the lines with an outcome; ``None`` when there were none."""


class LineCounts(TypedDict):
    total: int
    records: int
    json: int
    plain: int
    malformed: int
    skipped: int


class LogReport(TypedDict):
    """What :meth:`LogAnalyzer.generate_report` returns."""

    file: str
    lines: LineCounts
    first: str | None
    last: str | None
    levels: dict[str, int]
    requests: int
    failed_requests: int
    errors: ErrorAnalysis
    performance: PerformanceAnalysis
    agents: dict[str, AgentStats]
    suggestions: list[str]


def _stats(histogram: LatencyHistogram) -> LatencyStats:
    return LatencyStats(
        count=histogram.count,
        mean_ms=histogram.mean,
        p50_ms=histogram.percentile(50),
        p95_ms=histogram.percentile(95),
        p99_ms=histogram.percentile(99),
        max_ms=histogram.maximum,
    )


def error_results(
    by_hour: Mapping[datetime, Counter[str]],
    all_time: Counter[str],
    untimed: int,
    end: datetime | None,
    window: timedelta,
) -> ErrorAnalysis:
    """The error analysis of the ``window`` ending at ``end`` (an hour-aligned trend)."""
    if end is None:
        return ErrorAnalysis(
            total=0, by_type={}, hourly=[], all_time=dict(all_time.most_common()), untimed=untimed,
            window_start=None, window_end=None,
        )  # fmt: skip
    start = end - window
    in_window: Counter[str] = Counter()
    hourly: list[HourlyErrors] = []
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour <= end:
        counts = by_hour.get(hour, Counter()) if hour + timedelta(hours=1) > start else Counter()
        in_window.update(counts)
        hourly.append(HourlyErrors(hour=hour.isoformat(), count=sum(counts.values()), by_type=dict(counts)))
        hour += timedelta(hours=1)
    return ErrorAnalysis(
        total=sum(in_window.values()),
        by_type=dict(in_window.most_common()),
        hourly=hourly,
        all_time=dict(all_time.most_common()),
        untimed=untimed,
        window_start=start.isoformat(),
        window_end=end.isoformat(),
    )


def performance_results(
    overall: LatencyHistogram,
    by_category: Mapping[str, LatencyHistogram],
    by_hour: Mapping[datetime, LatencyHistogram],
    slow_count: int,
    slow_ms: float,
    slowest: list[SlowRequest],
    *,
    measures: str = "durations",
) -> PerformanceAnalysis:
    """The performance analysis from the scan's histograms."""
    return PerformanceAnalysis(
        **_stats(overall),
        measures=measures,
        min_ms=overall.minimum if overall.count else 0.0,
        slow_threshold_ms=slow_ms,
        slow_count=slow_count,
        slowest=slowest,
        by_category={name: _stats(h) for name, h in sorted(by_category.items())},
        hourly=[HourlyLatency(hour=hour.isoformat(), **_stats(h)) for hour, h in sorted(by_hour.items())],
    )


def agent_results(agents: Mapping[str, AgentStats]) -> dict[str, AgentStats]:
    """Per-agent outcomes with their success rates, by agent name."""
    results: dict[str, AgentStats] = {}
    for name in sorted(agents):
        stats = agents[name]
        decided = stats["success"] + stats["failure"]
        results[name] = AgentStats(
            success=stats["success"],
            failure=stats["failure"],
            events=stats["events"],
            success_rate=stats["success"] / decided if decided else None,
        )
    return results


_ERROR_ADVICE = (
    (
        "Timeout",
        "timeouts dominate: raise the timeout where the work is legitimately slow, or find what stalls",
    ),
    ("RateLimit", "rate limits dominate: set a RateLimiter on the model clients and lower concurrency"),
    ("Connection", "connection errors dominate: check the network path and the provider's status"),
    ("HTTP 5", "server errors dominate: read the matching stack traces in the log around those hours"),
)


def suggestions(
    errors: ErrorAnalysis,
    performance: PerformanceAnalysis,
    agents: Mapping[str, AgentStats],
    requests: int,
    failed_requests: int,
    malformed: int,
) -> list[str]:
    """Advice from the report's figures; each names the figure that triggered it."""
    found: list[str] = []
    if errors["by_type"]:
        kind, count = next(iter(errors["by_type"].items()))
        advice = next((text for key, text in _ERROR_ADVICE if key in kind), "look at its first occurrences")
        found.append(
            f"{kind} is the most frequent error ({count} of {errors['total']} in the window): {advice}."
        )
    if requests and failed_requests / requests > 0.05:
        found.append(
            f"{failed_requests / requests:.1%} of {requests} requests failed with a 5xx "
            "(the seed's alert fires above 5%)."
        )
    if performance["count"] and performance["p95_ms"] > performance["slow_threshold_ms"]:
        found.append(
            f"p95 latency is {performance['p95_ms']:.0f} ms, above {performance['slow_threshold_ms']:.0f} ms: "
            "diagnose a slow run (muster diagnose) to see whether the model, a tool or muster takes the time."
        )
    for name, stats in agents.items():
        rate = stats["success_rate"]
        if rate is not None and rate < 0.9:
            found.append(
                f"Agent '{name}' succeeds in only {rate:.0%} of {stats['success'] + stats['failure']} outcomes: "
                "check its errors and tools."
            )
    if malformed:
        found.append(f"{malformed} malformed line(s) were skipped: check what else writes to this log.")
    return found or ["Nothing stands out: errors, latency and agent outcomes are within the usual limits."]
