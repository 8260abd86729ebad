"""Retrying provider calls: exponential backoff with full jitter, honouring Retry-After.

Muster runs its own retry loop and builds every SDK client with ``max_retries=0``, so the
behaviour is the same for all providers, visible in our logs and testable against a
local server. Only transient failures are retried (429, 5xx, 408/409, timeouts and
connection errors; see :attr:`ModelAPIError.retryable`); the rest fail at once.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from .exceptions import ModelAPIError

__all__ = ["RetryPolicy", "parse_retry_after", "retry_call"]

_T = TypeVar("_T")
_logger = logging.getLogger("muster.models.retry")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a failed call."""

    max_retries: int = 2
    """Retries after the first attempt (so ``max_retries + 1`` requests at most)."""
    initial_delay: float = 0.5
    """Cap of the first backoff; each later cap doubles."""
    max_delay: float = 8.0
    """Largest backoff cap when the provider gives no Retry-After."""
    max_retry_after: float = 60.0
    """A provider asking for a longer wait than this is not retried: the caller decides."""

    def delay(self, error: ModelAPIError, retry_number: int) -> float | None:
        """Seconds to wait before retry ``retry_number`` (0-based), or ``None`` to give up."""
        if not error.retryable or retry_number >= self.max_retries:
            return None
        if error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            return max(0.0, error.retry_after)
        # Full jitter (uniform over [0, cap]) spreads clients that failed together, so
        # they do not retry in lockstep against a provider that is already overloaded.
        cap = min(self.max_delay, self.initial_delay * (2**retry_number))
        return random.uniform(0.0, cap)


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds the provider asked us to wait, from ``retry-after-ms`` or ``retry-after``.

    ``retry-after`` may be a number of seconds or an HTTP date. Unparseable values are
    ignored (``None``) rather than trusted.
    """
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


async def retry_call(
    attempt: Callable[[], Awaitable[_T]],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[object]],
    on_attempts: Callable[[int], None] | None = None,
) -> _T:
    """Run ``attempt`` until it succeeds or ``policy`` says to stop.

    Args:
        attempt: One request; must raise :class:`ModelAPIError` (already translated).
        policy: Backoff and retry limits.
        sleep: Waits between attempts; the caller passes a cancellable one.
        on_attempts: Told the number of requests made once the call ends either way.

    Raises:
        ModelAPIError: the last failure, its ``attempts`` set to the requests made.
    """
    retries = 0
    while True:
        try:
            result = await attempt()
        except ModelAPIError as error:
            wait = policy.delay(error, retries)
            if wait is None:
                if on_attempts is not None:
                    on_attempts(retries + 1)
                raise error.with_attempts(retries + 1) from error.__cause__
            _logger.info(
                "retrying %s call in %.2fs (retry %d of %d): %s",
                error.provider,
                wait,
                retries + 1,
                policy.max_retries,
                error.detail,
            )
            retries += 1
            await sleep(wait)
            continue
        if on_attempts is not None:
            on_attempts(retries + 1)
        return result
