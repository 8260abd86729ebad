"""CancelGuard: a token shared by many provider calls keeps nothing from the finished ones."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fake_llm_server import ErrorReply, FakeLLMServer, JSONReply, openai_completion, openai_stream

from muster.core import CancellationToken
from muster.models import UserMessage
from muster.models.exceptions import ModelAPIError
from muster.models.openai import OpenAIChatCompletionClient

ASK = [UserMessage(content="?", source="u")]


async def test_a_token_shared_by_1000_calls_holds_no_callbacks_afterwards(fake_llm: FakeLLMServer) -> None:
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key="sk-test", base_url=fake_llm.openai_url)
    token = CancellationToken()
    try:

        async def stream() -> None:
            async for _ in client.create_stream(ASK, cancellation_token=token):
                pass

        # Rounds of 100 concurrent calls so the loopback round trips overlap; one kind of
        # call per round, since the server hands out replies in arrival order.
        for round_ in range(10):
            if round_ % 2:
                fake_llm.queue(*[openai_completion("ok") for _ in range(100)])
                await asyncio.gather(*[client.create(ASK, cancellation_token=token) for _ in range(100)])
            else:
                fake_llm.queue(*[openai_stream(["o", "k"]) for _ in range(100)])
                await asyncio.gather(*[stream() for _ in range(100)])
        # A call that fails (400 is never retried) ...
        fake_llm.queue(ErrorReply(status=400))
        with pytest.raises(ModelAPIError):
            await client.create(ASK, cancellation_token=token)
        # ... and one its caller abandons mid-request must let go of the token too.
        fake_llm.queue(JSONReply(hold=True))
        abandoned = asyncio.create_task(client.create(ASK, cancellation_token=token))
        assert await asyncio.to_thread(fake_llm.wait_for_requests, 1002)
        abandoned.cancel()
        with pytest.raises(asyncio.CancelledError):
            await abandoned
        assert len(token._callbacks) == 0
        # The token still works for the next call.
        fake_llm.queue(JSONReply(hold=True))
        pending = asyncio.create_task(client.create(ASK, cancellation_token=token))
        assert await asyncio.to_thread(fake_llm.wait_for_requests, 1003)
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(pending, 10)
    finally:
        await client.close()


async def test_cancelling_from_another_thread_aborts_the_pending_request(fake_llm: FakeLLMServer) -> None:
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key="sk-test", base_url=fake_llm.openai_url)
    token = CancellationToken()
    try:
        fake_llm.queue(JSONReply(hold=True))
        call = asyncio.create_task(client.create(ASK, cancellation_token=token))
        assert await asyncio.to_thread(fake_llm.wait_for_requests, 1)
        canceller = threading.Thread(target=token.cancel)
        canceller.start()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, 10)
        await asyncio.to_thread(canceller.join)
        assert await asyncio.to_thread(fake_llm.wait_for_disconnects, 1)
        assert len(token._callbacks) == 0
    finally:
        await client.close()
