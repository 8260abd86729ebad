"""OpenAIChatCompletionClient end to end against the loopback fake server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_llm_server import (
    FakeLLMServer,
    JSONReply,
    openai_completion,
    openai_stream,
    openai_tool_call,
)
from pydantic import BaseModel

from muster.core import CancellationToken, FunctionCall, Image
from muster.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelInfo,
    SystemMessage,
    UserMessage,
)
from muster.models.exceptions import ModelConfigurationError
from muster.models.openai import OpenAIChatCompletionClient

HELLO = [UserMessage(content="hello", source="user")]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


_open_clients: list[OpenAIChatCompletionClient] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _open_clients:
        await _open_clients.pop().close()


def make_client(fake: FakeLLMServer, **kwargs: Any) -> OpenAIChatCompletionClient:
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("api_key", "sk-test")
    return track(OpenAIChatCompletionClient(base_url=fake.openai_url, **kwargs))


def track(client: OpenAIChatCompletionClient) -> OpenAIChatCompletionClient:
    _open_clients.append(client)
    return client


async def test_text_reply_and_request_shape(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_completion("Hello!", prompt_tokens=12, completion_tokens=3))
    client = make_client(fake_llm, temperature=0.2, seed=7)
    result = await client.create(
        [SystemMessage(content="be brief"), UserMessage(content="hi there", source="alice smith")]
    )
    assert result.content == "Hello!"
    assert result.finish_reason == "stop"
    assert result.usage.prompt_tokens == 12 and result.usage.completion_tokens == 3
    assert result.cached is False

    sent = fake_llm.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.json["model"] == "gpt-4o"
    assert sent.json["temperature"] == 0.2 and sent.json["seed"] == 7
    assert sent.json["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "name": "alice_smith", "content": "hi there"},
    ]
    assert "tools" not in sent.json and "stream" not in sent.json
    assert client.total_usage().prompt_tokens == 12
    assert client.actual_usage().completion_tokens == 3


async def test_history_with_tool_calls_images_and_results_is_mapped(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_completion("done"))
    client = make_client(fake_llm, include_name_in_message=False)
    await client.create(
        [
            UserMessage(content=["look", Image.from_bytes(PNG)], source="u"),
            AssistantMessage(
                content=[FunctionCall(id="c1", name="get_weather", arguments='{"city":"Oslo"}')],
                thought="checking",
                source="bot",
            ),
            FunctionExecutionResultMessage(
                content=[FunctionExecutionResult(content="sunny", name="get_weather", call_id="c1")]
            ),
            AssistantMessage(content="It is sunny", source="bot"),
        ]
    )
    messages = fake_llm.requests[0].json["messages"]
    assert messages[0]["role"] == "user" and "name" not in messages[0]
    assert messages[0]["content"][0] == {"type": "text", "text": "look"}
    assert messages[0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert messages[1] == {
        "role": "assistant",
        "content": "checking",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
            }
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "c1", "content": "sunny"}
    assert messages[3] == {"role": "assistant", "content": "It is sunny"}


async def test_parallel_tool_calls(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(
        openai_completion(
            "Let me check both.",
            tool_calls=[
                openai_tool_call("a", "get_weather", {"city": "Oslo"}),
                openai_tool_call("b", "get_weather", {"city": "Rome"}),
            ],
        )
    )
    client = make_client(fake_llm, parallel_tool_calls=True)
    result = await client.create(
        [UserMessage(content="weather?", source="u")], tools=[WEATHER], tool_choice="required"
    )
    assert result.finish_reason == "function_calls"
    assert result.content == [
        FunctionCall(id="a", name="get_weather", arguments='{"city": "Oslo"}'),
        FunctionCall(id="b", name="get_weather", arguments='{"city": "Rome"}'),
    ]
    assert result.thought == "Let me check both."
    sent = fake_llm.requests[0].json
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": WEATHER["parameters"],
                "strict": False,
            },
        }
    ]
    assert sent["tool_choice"] == "required"
    assert sent["parallel_tool_calls"] is True


async def test_forcing_a_tool_not_offered_is_rejected(fake_llm: FakeLLMServer) -> None:
    class FakeTool:
        schema = {"name": "other"}

    client = make_client(fake_llm)
    with pytest.raises(ValueError, match="not in tools"):
        await client.create([UserMessage(content="x", source="u")], tools=[WEATHER], tool_choice=FakeTool())  # type: ignore[arg-type]
    assert fake_llm.requests == []


async def test_json_mode_and_structured_output(fake_llm: FakeLLMServer) -> None:
    class City(BaseModel):
        name: str
        population: int | None = None

    fake_llm.queue(openai_completion('{"a": 1}'), openai_completion('{"name": "Oslo", "population": 700000}'))
    client = make_client(fake_llm)
    await client.create([UserMessage(content="json please", source="u")], json_output=True)
    assert fake_llm.requests[0].json["response_format"] == {"type": "json_object"}

    result = await client.create([UserMessage(content="a city", source="u")], json_output=City)
    assert City.model_validate_json(result.content).name == "Oslo"  # type: ignore[arg-type]
    fmt = fake_llm.requests[1].json["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "City"
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name", "population"]
    assert "default" not in json.dumps(schema)


async def test_streaming_text_then_result_with_usage(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_stream(["Hel", "lo", " world"], prompt_tokens=20, completion_tokens=4))
    client = make_client(fake_llm)
    items = [item async for item in client.create_stream([UserMessage(content="hi", source="u")])]
    assert items[:-1] == ["Hel", "lo", " world"]
    final = items[-1]
    assert isinstance(final, CreateResult)
    assert final.content == "Hello world" and final.finish_reason == "stop"
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (20, 4)
    sent = fake_llm.requests[0].json
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert client.total_usage().prompt_tokens == 20


async def test_streamed_tool_calls_are_assembled_from_deltas(fake_llm: FakeLLMServer) -> None:
    calls = [
        openai_tool_call("a", "get_weather", {"city": "Oslo"}),
        openai_tool_call("b", "get_weather", {"city": "Rome"}),
    ]
    fake_llm.queue(openai_stream(tool_calls=calls))
    client = make_client(fake_llm)
    items = [i async for i in client.create_stream([UserMessage(content="w", source="u")], tools=[WEATHER])]
    assert len(items) == 1
    final = items[0]
    assert isinstance(final, CreateResult) and final.finish_reason == "function_calls"
    assert [(c.id, json.loads(c.arguments)) for c in final.content] == [  # type: ignore[union-attr]
        ("a", {"city": "Oslo"}),
        ("b", {"city": "Rome"}),
    ]


async def test_stream_without_usage_when_disabled(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_stream(["x"], include_usage=False))
    client = make_client(fake_llm)
    items = [
        i async for i in client.create_stream([UserMessage(content="w", source="u")], include_usage=False)
    ]
    assert "stream_options" not in fake_llm.requests[0].json
    assert isinstance(items[-1], CreateResult) and items[-1].usage.prompt_tokens == 0


async def test_reasoning_content_becomes_thought(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_completion("42", reasoning_content="6 times 7"))
    result = await make_client(fake_llm).create([UserMessage(content="?", source="u")])
    assert result.content == "42" and result.thought == "6 times 7"


async def test_think_tags_are_split_for_r1_family(fake_llm: FakeLLMServer) -> None:
    info = ModelInfo(
        vision=False, function_calling=False, json_output=False, family="r1", structured_output=False
    )
    fake_llm.queue(openai_completion("<think>hmm</think>The answer"))
    client = make_client(fake_llm, model="deepseek-r1", model_info=info)
    result = await client.create([UserMessage(content="?", source="u")])
    assert result.content == "The answer" and result.thought == "hmm"


async def test_reasoning_models_get_max_completion_tokens(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_completion("ok", model="o3-mini"))
    await make_client(fake_llm, model="o3-mini", max_tokens=50).create([UserMessage(content="?", source="u")])
    sent = fake_llm.requests[0].json
    assert sent["max_completion_tokens"] == 50 and "max_tokens" not in sent


def test_unknown_model_needs_model_info() -> None:
    with pytest.raises(ValueError, match="model_info"):
        OpenAIChatCompletionClient(model="my-local-llama", api_key="k")


def test_missing_key_without_local_server_is_a_clear_error() -> None:
    with pytest.raises(ModelConfigurationError, match="OPENAI_API_KEY"):
        OpenAIChatCompletionClient(model="gpt-4o")


async def test_local_server_with_model_info_needs_no_key(fake_llm: FakeLLMServer) -> None:
    info = ModelInfo(
        vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True
    )
    fake_llm.queue(openai_completion("local!", model="llama3.1"))
    client = track(
        OpenAIChatCompletionClient(model="llama3.1", base_url=fake_llm.openai_url, model_info=info)
    )
    result = await client.create([UserMessage(content="?", source="u")])
    assert result.content == "local!"
    with pytest.raises(ValueError, match="vision"):
        await client.create([UserMessage(content=[Image.from_bytes(PNG)], source="u")])


async def test_base_url_from_environment(fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    fake_llm.queue(openai_completion("env"))
    client = track(OpenAIChatCompletionClient(model="gpt-4o-mini"))
    result = await client.create([UserMessage(content="?", source="u")])
    assert result.content == "env"
    assert fake_llm.requests[0].headers["authorization"] == "Bearer sk-env"


async def test_cancellation_aborts_the_request(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(JSONReply(hold=True))
    client = make_client(fake_llm)
    token = CancellationToken()
    task = asyncio.create_task(
        client.create([UserMessage(content="?", source="u")], cancellation_token=token)
    )
    assert await asyncio.to_thread(fake_llm.wait_for_requests, 1)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The server sees the connection dropped: the request really was aborted.
    assert await asyncio.to_thread(fake_llm.wait_for_disconnects, 1)


async def test_cancellation_aborts_a_stream(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_stream(["a", "b", "c"], stall_after=2))
    client = make_client(fake_llm)
    token = CancellationToken()
    seen: list[str | CreateResult] = []
    with pytest.raises(asyncio.CancelledError):
        async for item in client.create_stream(
            [UserMessage(content="?", source="u")], cancellation_token=token
        ):
            seen.append(item)
            token.cancel()
    assert seen == ["a"]
    assert await asyncio.to_thread(fake_llm.wait_for_disconnects, 1)


def test_count_tokens_and_remaining_tokens_work_offline() -> None:
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key="k")
    messages = [SystemMessage(content="You are helpful."), UserMessage(content="Hello " * 50, source="u")]
    counted = client.count_tokens(messages)
    assert 40 < counted < 200
    assert client.count_tokens(messages, tools=[WEATHER]) > counted
    assert client.remaining_tokens(messages) == 128_000 - counted


class AgentResponse(BaseModel):
    thoughts: str
    response: str


async def test_response_format_class_in_constructor_gives_structured_json_text(
    fake_llm: FakeLLMServer,
) -> None:
    """AutoGen's older structured-output spelling: ``response_format=`` a pydantic class."""
    from muster.agents import AssistantAgent

    fake_llm.queue(openai_completion('{"thoughts": "upbeat", "response": "happy"}'))
    client = make_client(fake_llm, response_format=AgentResponse)
    agent = AssistantAgent("assistant", model_client=client, system_message="Categorize the input.")
    result = await agent.run(task="I am happy.")
    reply = AgentResponse.model_validate_json(str(result.messages[-1].content))
    assert reply == AgentResponse(thoughts="upbeat", response="happy")
    fmt = fake_llm.requests[0].json["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "AgentResponse"
    assert fmt["json_schema"]["schema"]["required"] == ["thoughts", "response"]


async def test_response_format_class_in_extra_create_args(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(openai_completion('{"thoughts": "t", "response": "r"}'))
    fake_llm.queue(openai_stream(['{"thoughts": "t", ', '"response": "s"}']))
    client = make_client(fake_llm)
    result = await client.create(HELLO, extra_create_args={"response_format": AgentResponse})
    assert AgentResponse.model_validate_json(str(result.content)).response == "r"
    items = [
        item
        async for item in client.create_stream(HELLO, extra_create_args={"response_format": AgentResponse})
    ]
    assert isinstance(items[-1], CreateResult)
    assert AgentResponse.model_validate_json(str(items[-1].content)).response == "s"
    for request in fake_llm.requests:
        assert request.json["response_format"]["json_schema"]["name"] == "AgentResponse"


async def test_response_format_class_conflicts_and_dumps(fake_llm: FakeLLMServer) -> None:
    client = make_client(fake_llm, response_format=AgentResponse)
    with pytest.raises(ValueError, match="cannot both be pydantic model classes"):
        await client.create(HELLO, json_output=AgentResponse)
    spec = client.dump_component()
    assert spec.config["response_format"]["json_schema"]["name"] == "AgentResponse"
    assert fake_llm.requests == []
