"""The life of one provider call, shared by every SDK-backed client.

A call reserves rate-limit budget, sends the request under the retry policy with its
cancellation token attached, translates SDK errors, records usage and cost, then frees
the budget with the real token count. Providers plug in only what differs: how to send
the request, how to read the response, and how to translate their SDK's errors.

Streams retry only until the first chunk has been handed to the caller: after that a
retry would repeat text the caller already has, so a later failure is raised as is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from muster.core import CancellationToken
from muster.core.instrumentation import open_span

from ._cancel import CancelGuard
from ._retry import RetryPolicy, retry_call
from ._types import CreateResult, RequestUsage
from .exceptions import ModelAPIError, ModelResponseError
from .limits import RateLimiter, Reservation
from .pricing import estimate_cost
from .usage import ModelCallRecord, UsageTracker, current_usage_scope

if TYPE_CHECKING:
    from muster.core.instrumentation import Span

__all__ = ["BilledUsage", "ProviderCaller", "StreamParser", "malformed"]

_ResponseT = TypeVar("_ResponseT")
_EventT = TypeVar("_EventT")
_EventT_contra = TypeVar("_EventT_contra", contravariant=True)


@dataclass(frozen=True, slots=True)
class BilledUsage:
    """Token counts of one response, split the way providers bill them."""

    usage: RequestUsage
    """What the client reports as the call's usage."""
    billed_input_tokens: int
    """Prompt tokens at the normal rate (cache reads and writes excluded)."""
    cached_prompt_tokens: int = 0
    cache_creation_tokens: int = 0
    model: str | None = None
    """The model the provider says answered, if it said."""

    @property
    def total_tokens(self) -> int:
        """All tokens the provider metered, for rate-limit accounting."""
        return (
            self.billed_input_tokens
            + self.cached_prompt_tokens
            + self.cache_creation_tokens
            + self.usage.completion_tokens
        )


class StreamParser(Protocol[_EventT_contra]):
    """Assembles one streamed response; a fresh parser is made for every attempt."""

    def feed(self, event: _EventT_contra) -> list[str]:
        """Consume one stream event; return the text chunks to hand to the caller."""
        ...

    def finish(self) -> tuple[CreateResult, BilledUsage]:
        """The complete result once the stream has ended."""
        ...


Translate = Callable[[BaseException], ModelAPIError | None]


class ProviderCaller(Generic[_ResponseT]):
    """Runs calls for one client: limits, retries, cancellation, error translation, usage.

    Args:
        provider: Name recorded on errors and usage records.
        translate: Maps an SDK exception to a muster error (``None``: not ours, re-raise).
        retry: The retry policy.
        rate_limiter: Shared budget, or ``None``.
        usage_tracker: Where finished calls are recorded.
    """

    def __init__(
        self,
        *,
        provider: str,
        translate: Translate,
        retry: RetryPolicy,
        rate_limiter: RateLimiter | None,
        usage_tracker: UsageTracker,
    ) -> None:
        self.provider = provider
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.usage_tracker = usage_tracker
        self._translate = translate

    def _to_api_error(self, exc: BaseException) -> ModelAPIError | None:
        return self._translate(exc)

    def _record(self, model: str, billed: BilledUsage, started: float, attempts: int, streamed: bool) -> None:
        name = billed.model or model
        cost = estimate_cost(
            name,
            input_tokens=billed.billed_input_tokens,
            output_tokens=billed.usage.completion_tokens,
            cached_input_tokens=billed.cached_prompt_tokens,
            cache_write_tokens=billed.cache_creation_tokens,
        )
        scope = current_usage_scope()
        self.usage_tracker.record(
            ModelCallRecord(
                provider=self.provider,
                model=name,
                prompt_tokens=billed.usage.prompt_tokens,
                completion_tokens=billed.usage.completion_tokens,
                cached_prompt_tokens=billed.cached_prompt_tokens,
                cache_creation_tokens=billed.cache_creation_tokens,
                cost_usd=cost,
                latency_s=time.perf_counter() - started,
                attempts=attempts,
                streamed=streamed,
                agent=scope.agent,
                run_id=scope.run_id,
            )
        )

    async def _reserve(
        self, model: str, estimated_tokens: int, guard: CancelGuard, span: Span | None
    ) -> Reservation | None:
        if self.rate_limiter is None:
            return None
        if span is None:
            return await guard.run(self.rate_limiter.acquire(model, estimated_tokens))
        waited = time.perf_counter()
        reservation = await guard.run(self.rate_limiter.acquire(model, estimated_tokens))
        span.set(rate_limit_wait_s=time.perf_counter() - waited)
        return reservation

    async def call(
        self,
        send: Callable[[], Awaitable[_ResponseT]],
        parse: Callable[[_ResponseT], tuple[CreateResult, BilledUsage]],
        *,
        model: str,
        estimated_tokens: int,
        cancellation_token: CancellationToken | None,
    ) -> CreateResult:
        """Send one request (retrying as allowed) and return its parsed result."""
        span = open_span("model_call", self.provider)
        if span is None:
            return await self._call(send, parse, model, estimated_tokens, cancellation_token, None)
        with span:
            span.set(provider=self.provider, requested_model=model, streamed=False)
            return await self._call(send, parse, model, estimated_tokens, cancellation_token, span)

    async def _call(
        self,
        send: Callable[[], Awaitable[_ResponseT]],
        parse: Callable[[_ResponseT], tuple[CreateResult, BilledUsage]],
        model: str,
        estimated_tokens: int,
        cancellation_token: CancellationToken | None,
        span: Span | None,
    ) -> CreateResult:
        guard = CancelGuard(cancellation_token)
        reservation = await self._reserve(model, estimated_tokens, guard, span)
        actual: int | None = None
        attempts = 0
        started = time.perf_counter()

        def count(n: int) -> None:
            nonlocal attempts
            attempts = n

        async def attempt() -> tuple[CreateResult, BilledUsage]:
            try:
                response = await guard.run(send())
                return parse(response)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = self._to_api_error(exc)
                if error is None:
                    raise
                raise error from exc

        sleep = _backoff_sleep(guard, span)
        try:
            result, billed = await retry_call(attempt, policy=self.retry, sleep=sleep, on_attempts=count)
            actual = billed.total_tokens
        except ModelAPIError as error:
            self.usage_tracker.record_failure(self.provider, model, error, attempts)
            raise
        finally:
            if reservation is not None:
                reservation.release(actual)
            if span is not None:
                span.set(attempts=attempts)
        self._record(model, billed, started, attempts, streamed=False)
        if span is not None:
            _describe(span, billed, result, model)
        return result

    async def stream(
        self,
        open_stream: Callable[[], Awaitable[AsyncIterator[_EventT]]],
        new_parser: Callable[[], StreamParser[_EventT]],
        *,
        model: str,
        estimated_tokens: int,
        cancellation_token: CancellationToken | None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream text chunks, then the final :class:`CreateResult`."""
        span = open_span("model_call", self.provider)
        if span is not None:
            span.set(provider=self.provider, requested_model=model, streamed=True)
        guard = CancelGuard(cancellation_token)
        actual: int | None = None
        started = time.perf_counter()
        retries = 0
        reservation: Reservation | None = None
        try:
            reservation = await self._reserve(model, estimated_tokens, guard, span)
            while True:
                parser = new_parser()
                delivered = False
                stream: AsyncIterator[_EventT] | None = None
                try:
                    stream = await guard.run(open_stream())
                    iterator = stream.__aiter__()
                    while True:
                        try:
                            event = await guard.run(iterator.__anext__())
                        except StopAsyncIteration:
                            break
                        for chunk in parser.feed(event):
                            if not delivered and span is not None:
                                span.set(first_chunk_s=time.perf_counter() - span.start)
                            delivered = True
                            yield chunk
                    result, billed = parser.finish()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = self._to_api_error(exc)
                    if error is None:
                        raise
                    wait = None if delivered else self.retry.delay(error, retries)
                    if wait is None:
                        self.usage_tracker.record_failure(self.provider, model, error, retries + 1)
                        raise error.with_attempts(retries + 1) from exc
                    retries += 1
                    await _backoff_sleep(guard, span)(wait)
                    continue
                finally:
                    await _close_quietly(stream)
                break
            actual = billed.total_tokens
        except BaseException as exc:
            if span is not None:
                span.set(attempts=retries + 1)
                span.close(exc)
            raise
        finally:
            if reservation is not None:
                reservation.release(actual)
        self._record(model, billed, started, retries + 1, streamed=True)
        if span is not None:
            span.set(attempts=retries + 1)
            _describe(span, billed, result, model)
            span.close()
        yield result


def _backoff_sleep(guard: CancelGuard, span: Span | None) -> Callable[[float], Awaitable[object]]:
    """The cancellable wait between attempts; with a span, it also adds up the waiting."""
    if span is None:
        return lambda seconds: guard.run(asyncio.sleep(seconds))

    async def sleep(seconds: float) -> None:
        waited = span.attributes.get("retry_wait_s")
        span.set(retry_wait_s=(waited if isinstance(waited, float) else 0.0) + seconds)
        await guard.run(asyncio.sleep(seconds))

    return sleep


def _describe(span: Span, billed: BilledUsage, result: CreateResult, model: str) -> None:
    """Put a finished call's usage and answer on its span."""
    content = result.content
    span.set(
        model=billed.model or model,
        prompt_tokens=billed.usage.prompt_tokens,
        completion_tokens=billed.usage.completion_tokens,
        cached_prompt_tokens=billed.cached_prompt_tokens,
        finish_reason=result.finish_reason,
        cached=result.cached,
        response=content if isinstance(content, str) else ", ".join(call.name for call in content),
    )


async def _close_quietly(stream: object) -> None:
    # Closing releases the HTTP connection at once (on error, cancellation or an
    # abandoned generator) instead of when the garbage collector gets to it.
    close = getattr(stream, "close", None)
    if close is None:
        return
    try:
        outcome = close()
        if asyncio.iscoroutine(outcome):
            await outcome
    except Exception:  # the stream is being discarded either way
        pass


def malformed(provider: str, detail: str) -> ModelResponseError:
    """A :class:`ModelResponseError` for a response missing what its API promises."""
    return ModelResponseError(f"malformed response: {detail}", provider=provider)
