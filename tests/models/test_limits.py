"""RateLimiter: concurrency observed at the server, request and token budgets on a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fake_llm_server import FakeLLMServer, openai_completion

from muster.models import UserMessage
from muster.models.limits import RateLimiter
from muster.models.openai import OpenAIChatCompletionClient

HI = [UserMessage(content="hi", source="u")]


class FakeClock:
    """Time that advances only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def clients(fake_llm: FakeLLMServer) -> AsyncIterator[list[OpenAIChatCompletionClient]]:
    made: list[OpenAIChatCompletionClient] = []
    yield made
    for client in made:
        await client.close()


async def test_concurrency_cap_is_observed_at_the_server(
    fake_llm: FakeLLMServer, clients: list[OpenAIChatCompletionClient]
) -> None:
    limiter = RateLimiter(max_concurrent=2)
    # Two clients share the limiter: the cap is per model, across clients.
    for _ in range(2):
        clients.append(
            OpenAIChatCompletionClient(
                model="gpt-4o", api_key="k", base_url=fake_llm.openai_url, rate_limiter=limiter
            )
        )
    fake_llm.queue(*[openai_completion(f"r{i}", delay=0.05) for i in range(6)])
    results = await asyncio.gather(*(clients[i % 2].create(HI) for i in range(6)))
    assert sorted(r.content for r in results) == [f"r{i}" for i in range(6)]  # type: ignore[type-var]
    assert fake_llm.peak_in_flight == 2


async def test_requests_per_minute_spaces_calls() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=2, clock=clock, sleep=clock.sleep)
    starts: list[float] = []
    for _ in range(4):
        reservation = await limiter.acquire("m")
        starts.append(clock.now)
        reservation.release()
    # A full minute's budget (2) is available at once, then one request every 30 s.
    assert starts == pytest.approx([0.0, 0.0, 30.0, 60.0])


async def test_budgets_are_kept_per_model() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=1, clock=clock, sleep=clock.sleep)
    (await limiter.acquire("a")).release()
    (await limiter.acquire("b")).release()
    assert clock.now == 0.0
    (await limiter.acquire("a")).release()
    assert clock.now == pytest.approx(60.0)


async def test_token_budget_is_corrected_by_actual_usage() -> None:
    clock = FakeClock()
    limiter = RateLimiter(tokens_per_minute=600, clock=clock, sleep=clock.sleep)
    first = await limiter.acquire("m", estimated_tokens=500)
    first.release(actual_tokens=100)  # over-estimate: 400 refunded
    second = await limiter.acquire("m", estimated_tokens=500)
    assert clock.now == 0.0
    second.release(actual_tokens=500)
    # 0 left; 300 tokens take 30 s to refill at 10 tokens/s.
    third = await limiter.acquire("m", estimated_tokens=300)
    assert clock.now == pytest.approx(30.0)
    third.release(actual_tokens=900)  # under-estimate: the excess is charged
    await limiter.acquire("m", estimated_tokens=100)
    assert clock.now == pytest.approx(30.0 + 70.0)


async def test_oversized_request_waits_for_a_full_bucket_instead_of_forever() -> None:
    clock = FakeClock()
    limiter = RateLimiter(tokens_per_minute=100, clock=clock, sleep=clock.sleep)
    (await limiter.acquire("m", estimated_tokens=50)).release(50)
    (await limiter.acquire("m", estimated_tokens=10_000)).release(10_000)
    assert clock.now == pytest.approx(30.0)


async def test_cancelled_wait_reserves_nothing() -> None:
    limiter = RateLimiter(max_concurrent=1)
    held = await limiter.acquire("m")
    waiter = asyncio.create_task(limiter.acquire("m"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    held.release()
    again = await asyncio.wait_for(limiter.acquire("m"), 1)
    again.release()


async def test_token_budget_is_settled_from_real_usage_end_to_end(
    fake_llm: FakeLLMServer, clients: list[OpenAIChatCompletionClient]
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(tokens_per_minute=1_000, clock=clock, sleep=clock.sleep)
    clients.append(
        OpenAIChatCompletionClient(
            model="gpt-4o", api_key="k", base_url=fake_llm.openai_url, rate_limiter=limiter
        )
    )
    fake_llm.queue(openai_completion("a", prompt_tokens=900, completion_tokens=100), openai_completion("b"))
    await clients[0].create(HI)
    assert clock.now == 0.0
    await clients[0].create(HI)  # the budget is spent by the reported 1000 tokens: must wait
    assert clock.now > 0.0


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_concurrent"):
        RateLimiter(max_concurrent=0)
