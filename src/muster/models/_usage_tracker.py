"""The usage tracker and its records; see :mod:`muster.models.usage`, which exports them."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ._types import RequestUsage
from .usage import USAGE_LOGGER_NAME

__all__ = ["ModelCallFailure", "ModelCallRecord", "UsageTotals", "UsageTracker"]

_logger = logging.getLogger(USAGE_LOGGER_NAME)


@dataclass(slots=True)
class UsageTotals:
    """Calls, tokens and known cost for one agent or one run."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0

    def add(self, record: ModelCallRecord) -> None:
        self.calls += 1
        self.prompt_tokens += record.prompt_tokens
        self.completion_tokens += record.completion_tokens
        if record.cost_usd is None:
            self.unpriced_calls += 1
        else:
            self.cost_usd += record.cost_usd


@dataclass(frozen=True, slots=True)
class ModelCallRecord:
    """One call to a provider, as billed."""

    provider: str
    """``"openai"``, ``"azure"``, ``"anthropic"``..."""
    model: str
    """The model the provider says answered (falls back to the requested name)."""
    prompt_tokens: int
    """Prompt tokens as the client reports them in :class:`RequestUsage`."""
    completion_tokens: int
    """Completion tokens, reasoning included."""
    cached_prompt_tokens: int
    """Prompt tokens served from the provider's prompt cache."""
    cache_creation_tokens: int
    """Prompt tokens written into the provider's cache (Anthropic)."""
    cost_usd: float | None
    """Estimated cost (see :mod:`muster.models.pricing`); ``None`` if the price is unknown."""
    latency_s: float
    """Wall time from the first request to the complete answer, retries included."""
    attempts: int
    """Requests sent (1 unless retried)."""
    streamed: bool
    """Whether the answer was streamed."""
    agent: str | None = None
    """The agent that made the call (from :func:`usage_scope`), if known."""
    run_id: str | None = None
    """The run the call belongs to (from :func:`usage_scope`), if set."""


@dataclass(frozen=True, slots=True)
class ModelCallFailure:
    """One call to a provider that failed for good (its retries, if any, spent)."""

    provider: str
    model: str
    """The requested model."""
    error_type: str
    """The muster error's class name (``RateLimitError``, ``ModelServerError``...)."""
    attempts: int
    """Requests sent before giving up."""


class UsageTracker:
    """Running totals of calls, tokens and cost; safe to share between clients and threads."""

    MAX_RUNS = 1024
    """Per-run totals kept (oldest dropped first), so a long-lived service stays bounded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_agent: dict[str, UsageTotals] = {}
        """Totals per agent name, for calls made inside an agent's scope."""
        self.by_run: OrderedDict[str, UsageTotals] = OrderedDict()
        """Totals per run id, for calls made inside a ``usage_scope(run_id=...)``."""
        self.calls = 0
        """Finished calls recorded."""
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cached_prompt_tokens = 0
        self.cache_creation_tokens = 0
        self.cost_usd = 0.0
        """Sum of known costs; calls to unpriced models add nothing (see ``unpriced_calls``)."""
        self.unpriced_calls = 0
        """Calls whose model had no price, so ``cost_usd`` undercounts by them."""
        self.last: ModelCallRecord | None = None
        """The most recent record."""

    def record(self, record: ModelCallRecord) -> None:
        """Add ``record`` to the totals and log it."""
        with self._lock:
            self.calls += 1
            self.prompt_tokens += record.prompt_tokens
            self.completion_tokens += record.completion_tokens
            self.cached_prompt_tokens += record.cached_prompt_tokens
            self.cache_creation_tokens += record.cache_creation_tokens
            if record.cost_usd is None:
                self.unpriced_calls += 1
            else:
                self.cost_usd += record.cost_usd
            self.last = record
            if record.agent is not None:
                self.by_agent.setdefault(record.agent, UsageTotals()).add(record)
            if record.run_id is not None:
                totals = self.by_run.get(record.run_id)
                if totals is None:
                    totals = self.by_run[record.run_id] = UsageTotals()
                    if len(self.by_run) > self.MAX_RUNS:
                        self.by_run.popitem(last=False)
                totals.add(record)
        if _logger.isEnabledFor(logging.INFO):
            _logger.info(
                "%s %s: %d prompt (+%d cached) / %d completion tokens, cost %s, %.3fs, %d attempt(s)",
                record.provider,
                record.model,
                record.prompt_tokens,
                record.cached_prompt_tokens,
                record.completion_tokens,
                "unknown" if record.cost_usd is None else f"${record.cost_usd:.6f}",
                record.latency_s,
                record.attempts,
                extra={"model_call": record},
            )

    def record_failure(self, provider: str, model: str, error: BaseException, attempts: int) -> None:
        """Log a call that failed for good (retries spent), for error-rate accounting.

        Failed calls add nothing to the totals (nothing was billed); the log record carries
        ``extra={"model_call_failure": ModelCallFailure(...)}`` on the usage logger.
        """
        if _logger.isEnabledFor(logging.INFO):
            failure = ModelCallFailure(provider, model, type(error).__name__, attempts)
            _logger.info(
                "%s %s: call failed after %d attempt(s): %s",
                provider,
                model,
                attempts,
                failure.error_type,
                extra={"model_call_failure": failure},
            )

    def for_agent(self, agent: str) -> UsageTotals:
        """Totals for one agent (zeros if it made no call)."""
        with self._lock:
            totals = self.by_agent.get(agent)
            return UsageTotals() if totals is None else _copy(totals)

    def for_run(self, run_id: str) -> UsageTotals:
        """Totals for one run (zeros if unknown or already dropped)."""
        with self._lock:
            totals = self.by_run.get(run_id)
            return UsageTotals() if totals is None else _copy(totals)

    def usage(self) -> RequestUsage:
        """The token totals as a :class:`RequestUsage`."""
        return RequestUsage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)

    def __repr__(self) -> str:
        return (
            f"UsageTracker(calls={self.calls}, prompt_tokens={self.prompt_tokens}, "
            f"completion_tokens={self.completion_tokens}, cost_usd={self.cost_usd:.6f})"
        )


def _copy(totals: UsageTotals) -> UsageTotals:
    return UsageTotals(
        totals.calls, totals.prompt_tokens, totals.completion_tokens, totals.cost_usd, totals.unpriced_calls
    )
