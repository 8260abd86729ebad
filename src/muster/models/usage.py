"""What model calls consumed and cost: one record per call, running totals per tracker.

Every provider client owns a :class:`UsageTracker` (``client.usage_tracker``); pass the
same tracker to several clients (``usage_tracker=...``) to total a whole team. Each
finished call is also logged on the ``muster.models.usage`` logger at INFO with the
record in ``extra={"model_call": record}``, for log-based accounting. The record is
built only once per call and logging is skipped unless enabled, so the bookkeeping
costs microseconds against calls that take hundreds of milliseconds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from ._types import RequestUsage

__all__ = ["USAGE_LOGGER_NAME", "ModelCallRecord", "UsageTracker"]

USAGE_LOGGER_NAME = "muster.models.usage"
"""Logger that receives one INFO record per finished model call."""

_logger = logging.getLogger(USAGE_LOGGER_NAME)


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


class UsageTracker:
    """Running totals of calls, tokens and cost; safe to share between clients and threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
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

    def usage(self) -> RequestUsage:
        """The token totals as a :class:`RequestUsage`."""
        return RequestUsage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)

    def __repr__(self) -> str:
        return (
            f"UsageTracker(calls={self.calls}, prompt_tokens={self.prompt_tokens}, "
            f"completion_tokens={self.completion_tokens}, cost_usd={self.cost_usd:.6f})"
        )
