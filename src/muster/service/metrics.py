"""Prometheus metrics of the service, on a registry each app owns.

No metric lives in prometheus-client's global registry: an app (or a test) makes its own
:class:`ServiceMetrics`, so two apps in one process never collide, and ``/metrics``
serves exactly what that app counts.

The seed's deployment alerts on ``autogen_requests_failed_total / autogen_requests_total``
(error rate), ``autogen_request_duration_seconds`` (p95 latency), ``autogen_agents_count``
(agents offline) and memory (``muster_memory_usage_ratio``, the memory monitor's reading), so those names are kept;
muster's own metrics are prefixed ``muster_``. A request "fails" when the service answers
5xx: a client's bad request is not the service failing. ``route`` labels are route
templates (``/v1/runs/{run_id}``), never raw paths, so the label set stays small.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from .models import RunStatus

if TYPE_CHECKING:
    from .store.base import Store

__all__ = ["AGENT_STATUSES", "MEMORY_LEVELS", "ServiceMetrics", "count_model_calls"]

AGENT_STATUSES = ("online", "offline", "busy")
"""``autogen_agents_count`` label values (the seed's)."""

MEMORY_LEVELS = ("normal", "warning", "critical")
"""``muster_memory_level`` label values (the memory monitor's levels)."""

_QUEUE_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
_RUN_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)


class ServiceMetrics:
    """Every metric the service exports, on ``self.registry``.

    Args:
        registry: Where to register (a new ``CollectorRegistry`` by default).
        process: Also export the process's CPU, memory and file descriptors
            (``process_*``, as the global registry would) and the Python version.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, process: bool = True) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        if process:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)

        # The seed's names.
        self.requests = Counter(
            "autogen_requests_total", "HTTP requests answered.", ["method", "route", "status"], registry=r
        )
        self.requests_failed = Counter(
            "autogen_requests_failed_total",
            "HTTP requests answered with a 5xx.",
            ["method", "route"],
            registry=r,
        )
        self.request_duration = Histogram(
            "autogen_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=r,
        )
        self.agents = Gauge(
            "autogen_agents_count",
            "Workers (executors) by status: online, offline, busy.",
            ["status"],
            registry=r,
        )

        # muster's.
        self.runs = Gauge("muster_runs", "Runs in the store by status.", ["status"], registry=r)
        self.queue_depth = Gauge("muster_run_queue_depth", "Runs pending (waiting for a worker).", registry=r)
        self.queue_wait = Histogram(
            "muster_run_queue_wait_seconds",
            "Time from a run's creation to its start.",
            buckets=_QUEUE_WAIT_BUCKETS,
            registry=r,
        )
        self.turns = Counter("muster_turns_total", "Turn boundaries recorded.", registry=r)
        self.model_calls = Counter(
            "muster_model_calls_total",
            "Model calls made (replays excluded).",
            ["provider", "model"],
            registry=r,
        )
        self.tokens = Counter(
            "muster_tokens_total", "Model tokens by kind: prompt, completion.", ["kind"], registry=r
        )
        self.cost_usd = Counter("muster_cost_usd_total", "Estimated model cost in US dollars.", registry=r)
        self.cache_hits = Counter(
            "muster_cache_hits_total", "Model responses served from a cache.", registry=r
        )
        self.model_retries = Counter(
            "muster_model_retries_total", "Retries of transient model errors.", registry=r
        )
        self.model_errors = Counter(
            "muster_model_errors_total",
            "Model calls that failed for good (retries spent), by provider and error type.",
            ["provider", "error"],
            registry=r,
        )
        self.replayed_turns = Counter(
            "muster_replayed_turns_total",
            "Turns redone after a crash whose model responses were replayed from the record.",
            registry=r,
        )
        self.run_duration = Histogram(
            "muster_run_duration_seconds",
            "Time from a run's start to its end.",
            buckets=_RUN_BUCKETS,
            registry=r,
        )
        self.runs_lease_expired = Gauge(
            "muster_runs_lease_expired",
            "Running runs whose worker's heartbeat lapsed (stuck past their lease).",
            registry=r,
        )
        self.memory_usage = Gauge(
            "muster_memory_usage_ratio",
            "System memory in use, 0-1, as the memory monitor last read it.",
            registry=r,
        )
        self.memory_level = Gauge(
            "muster_memory_level",
            "The memory monitor's level: 1 for the current one (normal, warning, critical), else 0.",
            ["level"],
            registry=r,
        )
        for status in RunStatus:
            self.runs.labels(status=status.value).set(0)
        self.set_memory(0.0, "normal")
        for agent_status in AGENT_STATUSES:
            self.agents.labels(status=agent_status).set(0)

    # ------------------------------------------------------------ HTTP

    def observe_request(self, method: str, route: str, status_code: int, seconds: float) -> None:
        """Count one answered request (a failure if ``status_code`` is 5xx) and its duration."""
        self.requests.labels(method=method, route=route, status=str(status_code)).inc()
        if status_code >= 500:
            self.requests_failed.labels(method=method, route=route).inc()
        self.request_duration.labels(method=method, route=route).observe(seconds)

    def set_agents(self, *, online: int, offline: int = 0, busy: int = 0) -> None:
        """Set ``autogen_agents_count``: workers alive, workers whose heartbeat lapsed, workers running a run."""
        for status, value in (("online", online), ("offline", offline), ("busy", busy)):
            self.agents.labels(status=status).set(value)

    # ------------------------------------------------------------ runs

    def set_run_counts(self, counts: Mapping[RunStatus, int]) -> None:
        """Set ``muster_runs`` (statuses missing from ``counts`` read 0) and the queue depth."""
        for status in RunStatus:
            self.runs.labels(status=status.value).set(counts.get(status, 0))
        self.queue_depth.set(counts.get(RunStatus.PENDING, 0))

    async def refresh_from_store(self, store: Store, *, stalled_after_seconds: float | None = None) -> None:
        """Read the run counts from the store (call before serving ``/metrics``).

        With ``stalled_after_seconds``, also count the running runs whose heartbeat is older
        than that (``muster_runs_lease_expired``): runs stuck past their lease.
        """
        self.set_run_counts(await store.run_counts())
        if stalled_after_seconds is not None:
            older_than = datetime.now(UTC) - timedelta(seconds=stalled_after_seconds)
            self.set_lease_expired(len(await store.stale_runs(older_than)))

    def set_lease_expired(self, count: int) -> None:
        """Set ``muster_runs_lease_expired``: running runs whose heartbeat lapsed."""
        self.runs_lease_expired.set(count)

    def set_memory(self, usage_ratio: float, level: str) -> None:
        """Set ``muster_memory_usage_ratio`` and make ``level`` the one ``muster_memory_level`` reads 1."""
        self.memory_usage.set(usage_ratio)
        for name in MEMORY_LEVELS:
            self.memory_level.labels(level=name).set(1 if name == level else 0)

    def observe_queue_wait(self, seconds: float) -> None:
        """A run started ``seconds`` after it was created."""
        self.queue_wait.observe(max(0.0, seconds))

    def observe_run(self, seconds: float) -> None:
        """A run ended ``seconds`` after it started."""
        self.run_duration.observe(max(0.0, seconds))

    def turn(self, *, replayed: bool = False) -> None:
        """A turn boundary was recorded (``replayed``: a redone turn whose answers came from the record)."""
        self.turns.inc()
        if replayed:
            self.replayed_turns.inc()

    # ------------------------------------------------------------ models

    def model_call(
        self,
        provider: str,
        model: str,
        *,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cost_usd: float = 0.0,
    ) -> None:
        """Count one model call made to a provider and what it used."""
        self.model_calls.labels(provider=provider, model=model).inc()
        if prompt_tokens:
            self.tokens.labels(kind="prompt").inc(prompt_tokens)
        if completion_tokens:
            self.tokens.labels(kind="completion").inc(completion_tokens)
        if cost_usd:
            self.cost_usd.inc(cost_usd)

    def cache_hit(self, count: int = 1) -> None:
        """Model responses served from a cache (the response cache or a run's record)."""
        self.cache_hits.inc(count)

    def model_retry(self, count: int = 1) -> None:
        """Retries of transient model errors."""
        self.model_retries.inc(count)

    def model_error(self, provider: str, error: str) -> None:
        """One model call failed for good; ``error`` is the muster error's class name."""
        self.model_errors.labels(provider=provider, error=error).inc()

    # ------------------------------------------------------------ exposition

    def render(self) -> tuple[bytes, str]:
        """The registry in Prometheus text format, and its content type (for ``/metrics``)."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def count_model_calls(metrics: ServiceMetrics) -> Callable[[], None]:
    """Feed every model call this process makes into ``metrics``; returns the function undoing it.

    Provider clients report each finished call on the framework's usage logger
    (``muster.models.usage.USAGE_LOGGER_NAME``, the record's ``model_call`` is a
    ``ModelCallRecord``): provider, model, tokens, estimated cost and attempts (the retries
    are ``attempts - 1``); a call that failed for good comes as a ``ModelCallFailure``
    (``muster_model_errors_total``, plus its retries). A filter on that logger reads them,
    whatever the log level: the logger is opened to ``INFO`` for it, and the filter still
    drops the records the configured level would have dropped, so the log output does not
    change. Calls replayed from a run's record never reach a provider and are not counted.
    """
    from muster.models.usage import USAGE_LOGGER_NAME, ModelCallFailure, ModelCallRecord

    usage = logging.getLogger(USAGE_LOGGER_NAME)
    shown_from = usage.getEffectiveLevel()
    previous_level = usage.level

    class _Counter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            call = record.__dict__.get("model_call")
            if isinstance(call, ModelCallRecord):
                metrics.model_call(
                    call.provider,
                    call.model,
                    prompt_tokens=call.prompt_tokens,
                    completion_tokens=call.completion_tokens,
                    cost_usd=call.cost_usd or 0.0,
                )
                if call.attempts > 1:
                    metrics.model_retry(call.attempts - 1)
            failure = record.__dict__.get("model_call_failure")
            if isinstance(failure, ModelCallFailure):
                metrics.model_error(failure.provider, failure.error_type)
                if failure.attempts > 1:
                    metrics.model_retry(failure.attempts - 1)
            return record.levelno >= shown_from

    counter = _Counter()
    usage.addFilter(counter)
    usage.setLevel(min(shown_from, logging.INFO))

    def undo() -> None:
        usage.removeFilter(counter)
        usage.setLevel(previous_level)

    return undo
