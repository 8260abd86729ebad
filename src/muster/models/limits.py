"""Client-side rate limits shared by model clients: requests/min, tokens/min, concurrency.

Provider limits are per model (and per key), so one :class:`RateLimiter` keeps separate
budgets for every model name it sees and can be passed to many clients
(``OpenAIChatCompletionClient(..., rate_limiter=limiter)``): agents talking to the same
model then share its budget instead of each hitting 429s.

Budgets are token buckets that refill continuously at ``limit / 60`` per second and hold
at most one minute's worth, which is how providers meter. Before a call the client
reserves one request and its *estimated* prompt tokens; afterwards it settles the
reservation with the tokens the provider reported (prompt + completion), refunding an
over-estimate or charging the excess, so the budget tracks real use.

Example::

    limiter = RateLimiter(requests_per_minute=500, tokens_per_minute=200_000, max_concurrent=8)
    fast = OpenAIChatCompletionClient(model="gpt-4o-mini", rate_limiter=limiter)
    careful = OpenAIChatCompletionClient(model="gpt-4o-mini", temperature=0, rate_limiter=limiter)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["RateLimiter", "Reservation"]


class _Bucket:
    """A continuously refilling budget; its level may go negative after an under-estimate."""

    __slots__ = ("_capacity", "_level", "_rate", "_stamp")

    def __init__(self, per_minute: float, now: float) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._level = float(per_minute)
        self._stamp = now

    def _refill(self, now: float) -> None:
        self._level = min(self._capacity, self._level + (now - self._stamp) * self._rate)
        self._stamp = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` (capped at the capacity) is available; 0 if it is now."""
        self._refill(now)
        need = min(amount, self._capacity)
        if self._level >= need:
            return 0.0
        return (need - self._level) / self._rate

    def take(self, amount: float, now: float) -> None:
        self._refill(now)
        self._level -= amount

    def give_back(self, amount: float, now: float) -> None:
        self._refill(now)
        self._level = min(self._capacity, self._level + amount)


@dataclass(slots=True)
class _ModelBudget:
    requests: _Bucket | None
    tokens: _Bucket | None
    concurrency: asyncio.Semaphore | None
    lock: asyncio.Lock


class Reservation:
    """What one call took from the budget; settle it with the real usage when the call ends."""

    __slots__ = ("_budget", "_clock", "_done", "estimated_tokens", "model")

    def __init__(self, model: str, estimated_tokens: int, budget: _ModelBudget, clock: Callable[[], float]):
        self.model = model
        """The model whose budget was charged."""
        self.estimated_tokens = estimated_tokens
        """Tokens reserved before the call."""
        self._budget = budget
        self._clock = clock
        self._done = False

    def release(self, actual_tokens: int | None = None) -> None:
        """End the call: free its concurrency slot and correct the token estimate.

        Args:
            actual_tokens: Tokens the provider billed (prompt + completion). ``None``
                (the call failed before usage was known) keeps the estimate charged,
                since the provider may well have counted the request.
        """
        if self._done:
            return
        self._done = True
        if self._budget.tokens is not None and actual_tokens is not None:
            delta = self.estimated_tokens - actual_tokens
            now = self._clock()
            if delta > 0:
                self._budget.tokens.give_back(delta, now)
            elif delta < 0:
                self._budget.tokens.take(-delta, now)
        if self._budget.concurrency is not None:
            self._budget.concurrency.release()


class RateLimiter:
    """Per-model request, token and concurrency limits shared by any number of clients.

    Args:
        requests_per_minute: Requests allowed per minute per model; ``None`` for no limit.
        tokens_per_minute: Tokens (prompt + completion) per minute per model.
        max_concurrent: Calls in flight at once per model.
        clock: Monotonic time source; tests and simulations pass a fake one.
        sleep: How to wait for budget to refill; paired with ``clock``.
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        max_concurrent: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
            ("max_concurrent", max_concurrent),
        ):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.max_concurrent = max_concurrent
        self._clock = clock
        self._sleep = sleep
        self._budgets: dict[str, _ModelBudget] = {}

    def _budget(self, model: str) -> _ModelBudget:
        budget = self._budgets.get(model)
        if budget is None:
            now = self._clock()
            budget = _ModelBudget(
                requests=_Bucket(self.requests_per_minute, now) if self.requests_per_minute else None,
                tokens=_Bucket(self.tokens_per_minute, now) if self.tokens_per_minute else None,
                concurrency=asyncio.Semaphore(self.max_concurrent) if self.max_concurrent else None,
                lock=asyncio.Lock(),
            )
            self._budgets[model] = budget
        return budget

    async def acquire(self, model: str, estimated_tokens: int = 0) -> Reservation:
        """Wait until ``model``'s budget allows one more call, and reserve it.

        The caller must call :meth:`Reservation.release` when the call ends, success or
        not (``try``/``finally``). Cancelling the wait reserves nothing.
        """
        budget = self._budget(model)
        if budget.concurrency is not None:
            await budget.concurrency.acquire()
        try:
            if budget.requests is not None or budget.tokens is not None:
                # One waiter at a time keeps the order fair (first come, first served)
                # and stops two waiters from both claiming the same refill.
                async with budget.lock:
                    await self._wait_for_budget(budget, estimated_tokens)
        except BaseException:
            if budget.concurrency is not None:
                budget.concurrency.release()
            raise
        return Reservation(model, estimated_tokens, budget, self._clock)

    async def _wait_for_budget(self, budget: _ModelBudget, tokens: int) -> None:
        while True:
            now = self._clock()
            wait = 0.0
            if budget.requests is not None:
                wait = max(wait, budget.requests.wait_for(1, now))
            if budget.tokens is not None:
                wait = max(wait, budget.tokens.wait_for(tokens, now))
            if wait <= 0.0:
                if budget.requests is not None:
                    budget.requests.take(1, now)
                if budget.tokens is not None:
                    budget.tokens.take(tokens, now)
                return
            await self._sleep(wait)

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute}, "
            f"tokens_per_minute={self.tokens_per_minute}, max_concurrent={self.max_concurrent})"
        )
