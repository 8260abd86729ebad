"""AnthropicChatCompletionClient end to end against the loopback fake server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_llm_server import ErrorReply, FakeLLMServer, JSONReply, anthropic_message, anthropic_stream
from pydantic import BaseModel

from muster.core import CancellationToken, FunctionCall, Image
from muster.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    SystemMessage,
    UserMessage,
)
from muster.models._retry import RetryPolicy
from muster.models.anthropic import AnthropicChatCompletionClient
from muster.models.exceptions import ModelConfigurationError, ModelServerError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
HI = [UserMessage(content="hi", source="u")]
WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
_clients: list[AnthropicChatCompletionClient] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _clients:
        await _clients.pop().close()


def sent_key(headers: dict[str, str]) -> str | None:
    """The API key a request carried (SDK versions use x-api-key or a bearer token)."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    auth = headers.get("authorization", "")
    return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


def make_client(fake: FakeLLMServer, **kwargs: Any) -> AnthropicChatCompletionClient:
    kwargs.setdefault("model", "claude-3-5-sonnet-20241022")
    kwargs.setdefault("api_key", "ak-test")
    kwargs.setdefault("retry_policy", RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02))
    client = AnthropicChatCompletionClient(base_url=fake.anthropic_url, **kwargs)
    _clients.append(client)
    return client


async def test_system_messages_are_merged_and_turns_alternate(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(anthropic_message("Bonjour", input_tokens=30, output_tokens=2))
    client = make_client(fake_llm, temperature=0.1)
    result = await client.create(
        [
            SystemMessage(content="You are terse."),
            UserMessage(content="hello", source="a"),
            SystemMessage(content="Answer in French."),
            UserMessage(content=["and this", Image.from_bytes(PNG)], source="b"),
        ]
    )
    assert result.content == "Bonjour" and result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (30, 2)
    sent = fake_llm.requests[0]
    assert sent.path == "/v1/messages"
    assert sent_key(sent.headers) == "ak-test" and "anthropic-version" in sent.headers
    body = sent.json
    assert body["system"] == "You are terse.\n\nAnswer in French."
    assert body["max_tokens"] == 4096 and body["temperature"] == 0.1
    assert len(body["messages"]) == 1  # two user messages merged into one turn
    blocks = body["messages"][0]["content"]
    assert blocks[0] == {"type": "text", "text": "hello"}
    assert blocks[1] == {"type": "text", "text": "and this"}
    assert blocks[2]["type"] == "image" and blocks[2]["source"]["media_type"] == "image/png"


async def test_tool_use_and_tool_results(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(
        anthropic_message(
            [
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "t2", "name": "get_weather", "input": {"city": "Rome"}},
            ],
            stop_reason="tool_use",
        ),
        anthropic_message("Sunny in both."),
    )
    client = make_client(fake_llm)
    result = await client.create(HI, tools=[WEATHER], tool_choice="required")
    assert result.finish_reason == "function_calls" and result.thought == "Checking both."
    calls = result.content
    assert isinstance(calls, list) and [json.loads(c.arguments) for c in calls] == [
        {"city": "Oslo"},
        {"city": "Rome"},
    ]
    first = fake_llm.requests[0].json
    assert first["tools"] == [
        {"name": "get_weather", "description": "Weather in a city", "input_schema": WEATHER["parameters"]}
    ]
    assert first["tool_choice"] == {"type": "any"}

    await client.create(
        [
            *HI,
            AssistantMessage(content=calls, thought="Checking both.", source="bot"),
            FunctionExecutionResultMessage(
                content=[
                    FunctionExecutionResult(content="sunny", name="get_weather", call_id="t1"),
                    FunctionExecutionResult(content="boom", name="get_weather", call_id="t2", is_error=True),
                ]
            ),
        ],
        tools=[WEATHER],
    )
    turns = fake_llm.requests[1].json["messages"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"][0] == {"type": "text", "text": "Checking both."}
    assert turns[1]["content"][1] == {
        "type": "tool_use",
        "id": "t1",
        "name": "get_weather",
        "input": {"city": "Oslo"},
    }
    assert turns[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "sunny", "is_error": False},
        {"type": "tool_result", "tool_use_id": "t2", "content": "boom", "is_error": True},
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [("end_turn", "stop"), ("max_tokens", "length"), ("stop_sequence", "stop"), ("pause_turn", "unknown")],
)
async def test_stop_reason_mapping(fake_llm: FakeLLMServer, stop_reason: str, finish: str) -> None:
    fake_llm.queue(anthropic_message("x", stop_reason=stop_reason))
    assert (await make_client(fake_llm).create(HI)).finish_reason == finish


async def test_cache_tokens_are_reported_and_priced(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(
        anthropic_message(
            "ok",
            input_tokens=1_000_000,
            output_tokens=0,
            cache_read_input_tokens=1_000_000,
            cache_creation_input_tokens=1_000_000,
            model="claude-opus-4-1-20250805",
        )
    )
    client = make_client(fake_llm, model="claude-opus-4-1-20250805")
    await client.create(HI)
    record = client.usage_tracker.last
    assert record is not None
    assert (record.cached_prompt_tokens, record.cache_creation_tokens) == (1_000_000, 1_000_000)
    assert record.cost_usd == pytest.approx(15.0 + 1.5 + 18.75)


async def test_streaming_text_tools_thinking_and_usage(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(
        anthropic_stream(
            ["Let me ", "look."],
            thinking="weather needs a tool",
            tool_use=[("t1", "get_weather", {"city": "Oslo"})],
            stop_reason="tool_use",
            input_tokens=40,
            output_tokens=12,
            cache_read_input_tokens=25,
        )
    )
    client = make_client(fake_llm)
    items = [i async for i in client.create_stream(HI, tools=[WEATHER])]
    assert items[:2] == ["Let me ", "look."]
    final = items[-1]
    assert isinstance(final, CreateResult) and final.finish_reason == "function_calls"
    assert final.content == [FunctionCall(id="t1", name="get_weather", arguments='{"city": "Oslo"}')]
    assert final.thought == "weather needs a tool\nLet me look."
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (40, 12)
    assert client.usage_tracker.cached_prompt_tokens == 25
    assert fake_llm.requests[0].json["stream"] is True


async def test_stream_retries_before_first_chunk(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(
        ErrorReply(
            status=529, body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        ),
        anthropic_stream(["ok"]),
    )
    items = [i async for i in make_client(fake_llm).create_stream(HI)]
    assert items[0] == "ok" and len(fake_llm.requests) == 2


async def test_overloaded_errors_are_typed_after_retries(fake_llm: FakeLLMServer) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_llm.queue(*[ErrorReply(status=529, body=overloaded) for _ in range(3)])
    with pytest.raises(ModelServerError) as caught:
        await make_client(fake_llm).create(HI)
    assert caught.value.provider == "anthropic" and caught.value.attempts == 3
    assert "Overloaded" in str(caught.value)


async def test_json_output_is_requested_in_the_system_prompt(fake_llm: FakeLLMServer) -> None:
    class Answer(BaseModel):
        value: int

    fake_llm.queue(anthropic_message('```json\n{"value": 4}\n```'))
    result = await make_client(fake_llm).create([SystemMessage(content="Be exact."), *HI], json_output=Answer)
    assert Answer.model_validate_json(result.content).value == 4  # type: ignore[arg-type]
    system = fake_llm.requests[0].json["system"]
    assert system.startswith("Be exact.") and '"value"' in system


async def test_cancellation_aborts_the_request(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(JSONReply(hold=True))
    token = CancellationToken()
    task = asyncio.create_task(make_client(fake_llm).create(HI, cancellation_token=token))
    assert await asyncio.to_thread(fake_llm.wait_for_requests, 1)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_llm.wait_for_disconnects, 1)


async def test_spec_round_trip_without_secret(
    fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(fake_llm, api_key="ak-secret", max_tokens=512, retry_policy=None)
    spec = client.dump_component()
    assert spec.provider == "muster.models.anthropic.AnthropicChatCompletionClient"
    assert "ak-secret" not in spec.model_dump_json()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "ak-env")
    loaded = ChatCompletionClient.load_component(json.loads(spec.model_dump_json()))
    assert isinstance(loaded, AnthropicChatCompletionClient)
    _clients.append(loaded)
    fake_llm.queue(anthropic_message("ok"))
    await loaded.create(HI)
    assert sent_key(fake_llm.requests[0].headers) == "ak-env"
    assert fake_llm.requests[0].json["max_tokens"] == 512


def test_configuration_errors() -> None:
    with pytest.raises(ModelConfigurationError, match="ANTHROPIC_API_KEY"):
        AnthropicChatCompletionClient(model="claude-3-5-sonnet-latest")
    with pytest.raises(ValueError, match="model_info"):
        AnthropicChatCompletionClient(model="mystery-model", api_key="k")


def test_token_estimates_and_remaining() -> None:
    client = AnthropicChatCompletionClient(model="claude-3-5-haiku-latest", api_key="k")
    n = client.count_tokens([UserMessage(content="x" * 400, source="u")])
    assert 100 <= n < 120
    assert client.remaining_tokens([UserMessage(content="x" * 400, source="u")]) == 200_000 - n
