"""OllamaChatCompletionClient end to end against the loopback server speaking /api/chat."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_llm_server import ErrorReply, FakeLLMServer, RawReply, ollama_chat, ollama_stream
from pydantic import BaseModel

from muster.agents import AssistantAgent
from muster.core import ComponentLoader, FunctionCall, Image
from muster.messages import ToolCallExecutionEvent
from muster.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelInfo,
    SystemMessage,
    UserMessage,
)
from muster.models.exceptions import (
    ModelBadRequestError,
    ModelConfigurationError,
    ModelConnectionError,
    ModelServerError,
)
from muster.models.ollama import OllamaChatCompletionClient
from muster.tools import FunctionTool

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
QUESTION = [UserMessage(content="What is the capital of France?", source="user")]
_clients: list[ChatCompletionClient] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _clients:
        await _clients.pop().close()


def make_client(fake: FakeLLMServer, **kwargs: Any) -> OllamaChatCompletionClient:
    kwargs.setdefault("model", "llama3.2")
    client = OllamaChatCompletionClient(host=fake.url, **kwargs)
    _clients.append(client)
    return client


async def test_documented_usage_with_ollama_host(
    fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AutoGen's example, unchanged but for the import; the server comes from OLLAMA_HOST."""
    monkeypatch.setenv("OLLAMA_HOST", fake_llm.url)
    fake_llm.queue(ollama_chat("Paris", prompt_eval_count=12, eval_count=2))
    ollama_client = OllamaChatCompletionClient(model="llama3.2")
    _clients.append(ollama_client)
    result = await ollama_client.create(QUESTION)
    assert (result.content, result.finish_reason, result.cached) == ("Paris", "stop", False)
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (12, 2)
    sent = fake_llm.requests[0]
    assert sent.path == "/api/chat"
    assert sent.json["model"] == "llama3.2" and sent.json["stream"] is False
    assert sent.json["messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert ollama_client.total_usage().prompt_tokens == 12


async def test_request_carries_system_images_tool_results_and_options(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ollama_chat("done"))
    client = make_client(
        fake_llm, model="llava", options={"temperature": 0.1, "num_ctx": 4096}, keep_alive="5m"
    )
    call = FunctionCall(id="call_0", name="lookup", arguments='{"q": "x"}')
    await client.create(
        [
            SystemMessage(content="be brief"),
            UserMessage(content=["look", Image.from_base64(PNG)], source="user"),
            AssistantMessage(content=[call], source="assistant"),
            FunctionExecutionResultMessage(
                content=[
                    FunctionExecutionResult(content="found", name="lookup", call_id="call_0", is_error=False)
                ]
            ),
        ]
    )
    body = fake_llm.requests[0].json
    assert body["options"] == {"temperature": 0.1, "num_ctx": 4096} and body["keep_alive"] == "5m"
    system, user, assistant, tool = body["messages"]
    assert system == {"role": "system", "content": "be brief"}
    assert user["content"] == "look" and user["images"] == [PNG]
    assert assistant["tool_calls"] == [{"function": {"name": "lookup", "arguments": {"q": "x"}}}]
    assert tool == {"role": "tool", "content": "found", "tool_name": "lookup"}


async def test_tools_end_to_end_in_an_assistant_agent(fake_llm: FakeLLMServer) -> None:
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        return f"Sunny in {city}"

    fake_llm.queue(
        ollama_chat(tool_calls=[("get_weather", {"city": "Paris"})]),
        ollama_chat("It is sunny in Paris."),
    )
    agent = AssistantAgent(
        "weather_agent",
        model_client=make_client(fake_llm),
        tools=[FunctionTool(get_weather, description="Get the weather for a city.")],
        reflect_on_tool_use=True,
    )
    result = await agent.run(task="Weather in Paris?")
    [execution] = [m for m in result.messages if isinstance(m, ToolCallExecutionEvent)]
    assert execution.content[0].content == "Sunny in Paris"
    assert result.messages[-1].content == "It is sunny in Paris."
    first, second = (r.json for r in fake_llm.requests)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assert first["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert second["messages"][-1] == {"role": "tool", "content": "Sunny in Paris", "tool_name": "get_weather"}


class StructuredOutput(BaseModel):
    first_name: str
    last_name: str


async def test_structured_output_by_json_output_and_by_response_format(fake_llm: FakeLLMServer) -> None:
    answer = json.dumps({"first_name": "Ada", "last_name": "Lovelace"})
    fake_llm.queue(ollama_chat(answer), ollama_chat(answer), ollama_chat('{"ok": true}'))
    client = make_client(fake_llm)
    result = await client.create(QUESTION, json_output=StructuredOutput)
    assert StructuredOutput.model_validate_json(str(result.content)).last_name == "Lovelace"
    legacy = make_client(fake_llm, response_format=StructuredOutput)  # AutoGen's documented spelling
    assert (
        StructuredOutput.model_validate_json(str((await legacy.create(QUESTION)).content)).first_name == "Ada"
    )
    await client.create(QUESTION, json_output=True)
    formats = [r.json["format"] for r in fake_llm.requests]
    assert formats[0] == formats[1] == StructuredOutput.model_json_schema()
    assert formats[2] == "json"


async def test_streaming_text_then_result_with_usage(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ollama_stream(["The capital ", "is Paris."], prompt_eval_count=9, eval_count=4))
    items = [item async for item in make_client(fake_llm).create_stream(QUESTION)]
    assert items[:2] == ["The capital ", "is Paris."]
    final = items[-1]
    assert isinstance(final, CreateResult) and final.content == "The capital is Paris."
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (9, 4)
    assert fake_llm.requests[0].json["stream"] is True


async def test_streamed_tool_calls_and_streaming_agent(fake_llm: FakeLLMServer) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    fake_llm.queue(ollama_stream(tool_calls=[("add", {"a": 2, "b": 3})]), ollama_stream(["5"]))
    agent = AssistantAgent(
        "calc",
        model_client=make_client(fake_llm),
        tools=[add],
        model_client_stream=True,
        reflect_on_tool_use=True,
    )
    result = await agent.run(task="2+3?")
    [execution] = [m for m in result.messages if isinstance(m, ToolCallExecutionEvent)]
    assert execution.content[0].content == "5" and result.messages[-1].content == "5"


async def test_thinking_is_kept_as_thought(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ollama_chat("42", thinking="six times seven"), ollama_chat("<think>hmm</think>Paris"))
    result = await make_client(fake_llm, model="qwen3").create(QUESTION, extra_create_args={"think": True})
    assert (result.content, result.thought) == ("42", "six times seven")
    assert fake_llm.requests[0].json["think"] is True
    r1 = await make_client(fake_llm, model="deepseek-r1:7b").create(QUESTION)
    assert (r1.content, r1.thought) == ("Paris", "hmm")


async def test_errors_are_typed(fake_llm: FakeLLMServer) -> None:
    fake_llm.queue(ErrorReply(status=404, body={"error": "model 'llama3.2' not found"}))
    with pytest.raises(ModelBadRequestError, match="not found") as info:
        await make_client(fake_llm, max_retries=0).create(QUESTION)
    assert info.value.status_code == 404 and info.value.provider == "ollama"
    fake_llm.queue(ErrorReply(status=500, body={"error": "busy"}), ollama_chat("recovered"))
    assert (await make_client(fake_llm).create(QUESTION)).content == "recovered"  # retried once
    fake_llm.queue(RawReply(content=b'{"error": "out of memory"}\n', content_type="application/x-ndjson"))
    with pytest.raises(ModelServerError, match="out of memory"):
        [item async for item in make_client(fake_llm, max_retries=0).create_stream(QUESTION)]


async def test_unreachable_server_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OllamaChatCompletionClient(model="llama3.2", host=f"http://127.0.0.1:{port}", max_retries=0)
    _clients.append(client)
    with pytest.raises(ModelConnectionError):
        await client.create(QUESTION)


def test_unknown_model_needs_model_info_and_tools_need_function_calling() -> None:
    with pytest.raises(ModelConfigurationError, match="model_info"):
        OllamaChatCompletionClient(model="my-finetune")
    info = ModelInfo(
        vision=False, function_calling=False, json_output=True, family="unknown", structured_output=True
    )
    client = OllamaChatCompletionClient(model="my-finetune", model_info=info)
    _clients.append(client)
    with pytest.raises(ValueError, match="does not support tools"):
        client._request(QUESTION, [{"name": "t"}], "auto", None, {})


async def test_spec_round_trip_and_autogen_short_name(fake_llm: FakeLLMServer) -> None:
    spec = make_client(fake_llm, options={"temperature": 0.5}).dump_component()
    assert spec.provider == "muster.models.ollama.OllamaChatCompletionClient"
    assert spec.config["host"] == fake_llm.url and spec.config["options"] == {"temperature": 0.5}
    for provider in ("OllamaChatCompletionClient", "autogen_ext.models.ollama.OllamaChatCompletionClient"):
        loaded = ChatCompletionClient.load_component({**spec.model_dump(), "provider": provider})
        _clients.append(loaded)
        assert isinstance(loaded, OllamaChatCompletionClient)
    fake_llm.queue(ollama_chat("hi"))
    assert (await loaded.create(QUESTION)).content == "hi"
    again = ComponentLoader.load_component(spec, OllamaChatCompletionClient)
    _clients.append(again)
    assert again.model_info["function_calling"] is True
