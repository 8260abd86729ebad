"""Model clients report their calls to an active recorder: retries, waits, tokens, cache hits.

Real calls through the OpenAI SDK to the loopback server; the replay client and the cache
in process. Nothing here is recorded unless a recorder is active.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_llm_server import ErrorReply, FakeLLMServer, openai_completion, openai_stream

from muster.core.instrumentation import Recorder, Span, SpanKind, open_span
from muster.models import CreateResult, UserMessage
from muster.models.cache import ChatCompletionCache
from muster.models.exceptions import ModelBadRequestError
from muster.models.limits import RateLimiter
from muster.models.openai import OpenAIChatCompletionClient
from muster.models.replay import ReplayChatCompletionClient
from muster.models.retry import RetryPolicy

HI = [UserMessage(content="hi", source="u")]
_clients: list[OpenAIChatCompletionClient] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _clients:
        await _clients.pop().close()


def client_for(fake: FakeLLMServer, **kwargs: Any) -> OpenAIChatCompletionClient:
    kwargs.setdefault("retry_policy", RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02))
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key="k", base_url=fake.openai_url, **kwargs)
    _clients.append(client)
    return client


def calls(recorder: Recorder) -> list[Span]:
    return [s for s in recorder.spans if s.kind is SpanKind.MODEL_CALL]


async def test_a_retried_call_is_one_span_with_its_attempts_and_backoff(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ErrorReply(status=429, headers={"retry-after-ms": "50"}), openai_completion("ok"))
    client = client_for(fake_llm)
    recorder = Recorder()
    with recorder.recording():
        await client.create(HI)
    (span,) = calls(recorder)
    assert span.name == "openai" and span.status == "ok"
    attrs = span.attributes
    assert attrs["attempts"] == 2
    assert attrs["retry_wait_s"] == pytest.approx(0.05)  # the wait the server asked for
    assert attrs["model"] == "gpt-4o-2024-08-06" and attrs["requested_model"] == "gpt-4o"
    assert (attrs["prompt_tokens"], attrs["completion_tokens"], attrs["cached"]) == (10, 5, False)
    assert attrs["response"] == "ok" and attrs["streamed"] is False
    assert span.duration >= 0.05  # the backoff is inside the call


async def test_a_rate_limit_wait_is_measured_on_the_call_that_waited(fake_llm: FakeLLMServer) -> None:
    # The first reply bills a whole minute of tokens, so the second call must wait for a refill.
    fake_llm.queue(openai_completion("one", prompt_tokens=6000), openai_completion("two"))
    client = client_for(fake_llm, rate_limiter=RateLimiter(tokens_per_minute=6000))
    recorder = Recorder()
    with recorder.recording():
        await client.create(HI)
        await client.create(HI)
    first, second = calls(recorder)
    assert first.attributes["rate_limit_wait_s"] < second.attributes["rate_limit_wait_s"]  # type: ignore[operator]
    assert second.attributes["rate_limit_wait_s"] > 0  # type: ignore[operator]


async def test_a_failed_call_is_recorded_as_an_error(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ErrorReply(status=400))
    client = client_for(fake_llm)
    recorder = Recorder()
    with recorder.recording(), pytest.raises(ModelBadRequestError):
        await client.create(HI)
    (span,) = calls(recorder)
    assert span.status == "error" and span.attributes["error_type"] == "ModelBadRequestError"
    assert span.attributes["attempts"] == 1


async def test_a_stream_records_its_first_chunk_and_usage(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_stream(["Hel", "lo"], prompt_tokens=7, completion_tokens=2, interval=0.01))
    client = client_for(fake_llm)
    recorder = Recorder()
    with recorder.recording():
        chunks = [item async for item in client.create_stream(HI)]
    assert isinstance(chunks[-1], CreateResult)
    (span,) = calls(recorder)
    first_chunk = span.attributes["first_chunk_s"]
    assert isinstance(first_chunk, float) and 0 < first_chunk < span.duration
    assert (span.attributes["prompt_tokens"], span.attributes["completion_tokens"]) == (7, 2)
    assert span.attributes["streamed"] is True and span.attributes["response"] == "Hello"


async def test_an_abandoned_stream_is_recorded_as_cancelled() -> None:
    client = ReplayChatCompletionClient(["one two three"])
    recorder = Recorder()
    with recorder.recording():
        stream = client.create_stream(HI)
        assert await anext(stream) == "one "
        await stream.aclose()
    (span,) = calls(recorder)
    assert span.status == "cancelled"


async def test_the_cache_and_its_client_are_one_call_a_hit_has_no_inner_layer() -> None:
    cache = ChatCompletionCache(ReplayChatCompletionClient(["answer"]))
    recorder = Recorder()
    with recorder.recording():
        for _ in range(2):
            outer = open_span(SpanKind.MODEL_CALL, "agent")  # what an agent's own call looks like
            assert outer is not None
            with outer:
                await cache.create(HI)
        streamed = [item async for item in cache.create_stream(HI)]
    assert isinstance(streamed[-1], CreateResult) and streamed[-1].cached
    miss, hit, stream_hit = calls(recorder)
    assert miss.layers == ["ChatCompletionCache", "ReplayChatCompletionClient"]
    assert miss.attributes["cached"] is False and miss.attributes["model"] == "replay"
    assert hit.layers == ["ChatCompletionCache"]
    assert hit.attributes["cached"] is True and hit.attributes["response"] == "answer"
    assert hit.attributes["prompt_tokens"] == 1  # the stored call's usage
    assert stream_hit.name == "ChatCompletionCache" and stream_hit.attributes["cached"] is True


async def test_replay_streams_and_exhaustion_are_recorded() -> None:
    client = ReplayChatCompletionClient(["one two"])
    recorder = Recorder()
    with recorder.recording():
        items = [item async for item in client.create_stream(HI)]
        with pytest.raises(ValueError):
            await client.create(HI)
    assert items[:-1] == ["one ", "two"]
    ok, exhausted = calls(recorder)
    assert ok.attributes["streamed"] is True and ok.attributes["completion_tokens"] == 2
    assert exhausted.status == "error" and exhausted.attributes["error_type"] == "ReplayExhaustedError"


async def test_nothing_is_recorded_without_a_recorder(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_completion("ok"))
    recorder = Recorder()
    await client_for(fake_llm).create(HI)
    assert recorder.spans == []
