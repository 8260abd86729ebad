"""Retries, backoff and typed errors, against the loopback fake server."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_llm_server import ErrorReply, FakeLLMServer, JSONReply, RawReply, openai_completion, openai_stream
from hypothesis import given
from hypothesis import strategies as st

from muster.models import CreateResult, UserMessage
from muster.models._retry import RetryPolicy, parse_retry_after
from muster.models.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelBadRequestError,
    ModelConnectionError,
    ModelResponseError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitError,
)
from muster.models.openai import OpenAIChatCompletionClient

FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)
HI = [UserMessage(content="hi", source="u")]
_clients: list[OpenAIChatCompletionClient] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _clients:
        await _clients.pop().close()


def client_for(fake: FakeLLMServer, **kwargs: Any) -> OpenAIChatCompletionClient:
    kwargs.setdefault("retry_policy", FAST)
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key="k", base_url=fake.openai_url, **kwargs)
    _clients.append(client)
    return client


async def test_429_is_retried_after_the_retry_after_header(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ErrorReply(status=429, headers={"retry-after": "0.2"}), openai_completion("ok"))
    client = client_for(fake_llm)
    result = await client.create(HI)
    assert result.content == "ok"
    first, second = fake_llm.requests
    assert second.received_at - first.received_at >= 0.2
    assert client.usage_tracker.last is not None and client.usage_tracker.last.attempts == 2


async def test_retry_after_ms_wins_over_retry_after(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(
        ErrorReply(status=429, headers={"retry-after-ms": "150", "retry-after": "30"}),
        openai_completion("ok"),
    )
    started = time.monotonic()
    assert (await client_for(fake_llm).create(HI)).content == "ok"
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 5


async def test_server_errors_are_retried_up_to_max_retries(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ErrorReply(status=500), ErrorReply(status=503), openai_completion("third time"))
    assert (await client_for(fake_llm).create(HI)).content == "third time"
    assert len(fake_llm.requests) == 3


async def test_typed_error_once_retries_are_spent(fake_llm: FakeLLMServer) -> None:
    body = {"error": {"message": "the engine is overloaded", "type": "server_error"}}
    fake_llm.queue(ErrorReply(status=502, body=body), ErrorReply(status=502, body=body))
    client = client_for(fake_llm, max_retries=1, retry_policy=RetryPolicy(max_retries=1, initial_delay=0.01))
    with pytest.raises(ModelServerError) as caught:
        await client.create(HI)
    error = caught.value
    assert len(fake_llm.requests) == 2
    assert (error.status_code, error.provider, error.attempts) == (502, "openai", 2)
    assert error.body == body and error.request_id == "req_error"
    assert "the engine is overloaded" in str(error) and "2 attempts" in str(error)


async def test_rate_limit_error_carries_retry_after(fake_llm: FakeLLMServer) -> None:
    # A wait beyond the policy's max_retry_after is left to the caller.
    fake_llm.queue(ErrorReply(status=429, headers={"retry-after": "3600"}))
    with pytest.raises(RateLimitError) as caught:
        await client_for(fake_llm).create(HI)
    assert caught.value.retry_after == 3600 and caught.value.attempts == 1
    assert len(fake_llm.requests) == 1


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, ModelBadRequestError), (401, ModelAuthenticationError), (404, ModelBadRequestError)],
)
async def test_client_errors_are_not_retried(
    fake_llm: FakeLLMServer, status: int, error_type: type[Exception]
) -> None:
    fake_llm.queue(ErrorReply(status=status))
    with pytest.raises(error_type):
        await client_for(fake_llm).create(HI)
    assert len(fake_llm.requests) == 1


async def test_malformed_body_is_a_response_error(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(RawReply(content=b'{"id": "x", "choices": [ oops'))
    with pytest.raises(ModelResponseError):
        await client_for(fake_llm).create(HI)
    assert len(fake_llm.requests) == 1


async def test_body_without_choices_is_a_response_error(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(JSONReply(body={"id": "x", "object": "chat.completion", "choices": []}))
    with pytest.raises(ModelResponseError, match="no choices"):
        await client_for(fake_llm).create(HI)


async def test_slow_reply_times_out_and_is_retried(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_completion("late", delay=1.0), openai_completion("fast"))
    result = await client_for(fake_llm, timeout=0.3).create(HI)
    assert result.content == "fast" and len(fake_llm.requests) == 2


async def test_timeouts_exhausting_retries_raise_model_timeout(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(JSONReply(hold=True), JSONReply(hold=True))
    client = client_for(fake_llm, timeout=0.2, retry_policy=RetryPolicy(max_retries=1, initial_delay=0.01))
    with pytest.raises(ModelTimeoutError) as caught:
        await client.create(HI)
    assert caught.value.attempts == 2


async def test_connection_refused_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OpenAIChatCompletionClient(
        model="gpt-4o", api_key="k", base_url=f"http://127.0.0.1:{port}/v1", retry_policy=FAST
    )
    _clients.append(client)
    with pytest.raises(ModelConnectionError) as caught:
        await client.create(HI)
    assert caught.value.attempts == 3 and caught.value.status_code is None


async def test_stream_is_retried_before_the_first_chunk(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ErrorReply(status=503), openai_stream(["a", "b"]))
    items = [i async for i in client_for(fake_llm).create_stream(HI)]
    assert items[:2] == ["a", "b"] and isinstance(items[2], CreateResult)
    assert len(fake_llm.requests) == 2


async def test_stream_is_not_retried_after_the_first_chunk(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_stream(["a", "b", "c"], fail_after=2), openai_stream(["never"]))
    seen: list[Any] = []
    with pytest.raises(ModelConnectionError) as caught:
        async for item in client_for(fake_llm).create_stream(HI):
            seen.append(item)
    assert seen == ["a"]
    assert caught.value.attempts == 1
    assert len(fake_llm.requests) == 1 and fake_llm.pending_replies == 1


async def test_stalled_stream_times_out_without_retry(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_stream(["a", "b"], stall_after=2), openai_stream(["never"]))
    seen: list[Any] = []
    with pytest.raises(ModelTimeoutError):
        async for item in client_for(fake_llm, timeout=0.3).create_stream(HI):
            seen.append(item)
    assert seen == ["a"] and len(fake_llm.requests) == 1


# ----------------------------------------------------------------------------- unit level


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(30, abs=1)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=now) == 0.0


@given(retry=st.integers(min_value=0, max_value=30))
def test_backoff_is_full_jitter_within_the_doubling_cap(retry: int) -> None:
    policy = RetryPolicy(max_retries=100, initial_delay=0.5, max_delay=8.0)
    error = ModelServerError("boom", provider="p", status_code=500)
    delay = policy.delay(error, retry)
    assert delay is not None and 0.0 <= delay <= min(8.0, 0.5 * 2**retry)


def test_policy_gives_up_on_permanent_errors_and_spent_retries() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay(ModelBadRequestError("bad", provider="p", status_code=400), 0) is None
    assert policy.delay(ModelServerError("boom", provider="p", status_code=500), 2) is None
    assert policy.delay(RateLimitError("slow", provider="p", status_code=429, retry_after=1.25), 0) == 1.25
    assert isinstance(RateLimitError("x", provider="p"), ModelAPIError)
