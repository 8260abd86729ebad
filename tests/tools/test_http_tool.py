"""HttpTool against a real loopback HTTP server: AutoGen's documented usage, errors, specs."""

from __future__ import annotations

import asyncio
import socket

import pytest
from fake_llm_server import FakeLLMServer, JSONReply, RawReply, Reply

from muster.agents import AssistantAgent
from muster.core import CancellationToken, ComponentLoader, FunctionCall
from muster.messages import ToolCallExecutionEvent
from muster.models import CreateResult, ModelInfo, RequestUsage
from muster.models.replay import ReplayChatCompletionClient
from muster.tools.http import HttpTool
from muster.tools.http.exceptions import (
    HttpToolConnectionError,
    HttpToolResponseError,
    HttpToolStatusError,
    HttpToolTimeoutError,
)

BASE64_SCHEMA = {
    "type": "object",
    "properties": {"value": {"type": "string", "description": "The base64 value to decode"}},
    "required": ["value"],
}

TOOLS_MODEL = ModelInfo(
    vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False
)


def base64_tool(server: FakeLLMServer, **kwargs: object) -> HttpTool:
    """AutoGen's HttpTool example, pointed at the loopback server instead of httpbin."""
    return HttpTool(
        name="base64_decode",
        description="base64 decode a value",
        scheme="http",
        host="127.0.0.1",
        port=server.port,
        path="/base64/{value}",
        method="GET",
        json_schema=BASE64_SCHEMA,
        **kwargs,  # type: ignore[arg-type]
    )


def text(body: str, status: int = 200) -> RawReply:
    return RawReply(content=body.encode(), status=status, content_type="text/plain")


async def test_documented_example_runs_in_an_assistant_agent(http_server: FakeLLMServer) -> None:
    http_server.queue(text("abcde"))
    call = FunctionCall(id="c1", name="base64_decode", arguments='{"value": "YWJjZGU="}')
    model = ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls", content=[call], usage=RequestUsage(1, 1), cached=False
            ),
            "It decodes to abcde.",
        ],
        model_info=TOOLS_MODEL,
    )
    assistant = AssistantAgent(
        "base64_assistant", model_client=model, tools=[base64_tool(http_server)], reflect_on_tool_use=True
    )
    result = await assistant.run(task="Can you base64 decode the value 'YWJjZGU=', please?")
    executed = [m for m in result.messages if isinstance(m, ToolCallExecutionEvent)]
    assert executed[0].content[0].content == "abcde" and not executed[0].content[0].is_error
    assert result.messages[-1].content == "It decodes to abcde."
    sent = http_server.requests[0]
    assert (sent.method, sent.path, sent.query) == ("GET", "/base64/YWJjZGU=", {})
    assert model.create_calls[0]["tools"][0]["parameters"]["properties"] == BASE64_SCHEMA["properties"]


async def test_post_sends_a_json_body_and_returns_parsed_json(http_server: FakeLLMServer) -> None:
    http_server.queue(JSONReply(body={"sum": 5}))
    tool = HttpTool(
        name="add",
        host="127.0.0.1",
        port=http_server.port,
        path="/math/{op}",
        headers={"X-Key": "k"},
        json_schema={
            "type": "object",
            "properties": {"op": {"type": "string"}, "a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["op", "a"],
        },
        return_type="json",
    )
    assert await tool.run_json({"op": "add", "a": 2, "b": 3}, CancellationToken()) == {"sum": 5}
    sent = http_server.requests[0]
    assert (sent.method, sent.path, sent.json) == ("POST", "/math/add", {"a": 2, "b": 3})
    assert sent.headers["x-key"] == "k"


async def test_optional_arguments_left_out_are_not_sent(http_server: FakeLLMServer) -> None:
    http_server.queue(text("ok"))
    tool = HttpTool(
        name="search",
        host="127.0.0.1",
        port=http_server.port,
        path="/search",
        method="GET",
        json_schema={"type": "object", "properties": {"q": {"type": "string"}, "limit": {"type": "integer"}}},
    )
    assert await tool.run_json({"q": "cats"}, CancellationToken()) == "ok"
    assert http_server.requests[0].query == {"q": "cats"}


async def test_error_status_returns_the_body_unless_raise_for_status(http_server: FakeLLMServer) -> None:
    http_server.queue(text("no such value", status=404), text("no such value", status=404))
    assert await base64_tool(http_server).run_json({"value": "x"}, CancellationToken()) == "no such value"
    with pytest.raises(HttpToolStatusError) as info:
        await base64_tool(http_server, raise_for_status=True).run_json({"value": "x"}, CancellationToken())
    assert info.value.status_code == 404 and info.value.body == "no such value"


async def test_bad_json_and_bad_arguments_are_typed_errors(http_server: FakeLLMServer) -> None:
    http_server.queue(text("not json"))
    tool = base64_tool(http_server, return_type="json")
    with pytest.raises(HttpToolResponseError, match="did not answer JSON"):
        await tool.run_json({"value": "x"}, CancellationToken())
    with pytest.raises(ValueError, match="value"):
        await tool.run_json({}, CancellationToken())


async def test_unreachable_endpoint_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tool = HttpTool(name="t", host="127.0.0.1", port=port, json_schema={"type": "object", "properties": {}})
    with pytest.raises(HttpToolConnectionError) as info:
        await tool.run_json({}, CancellationToken())
    assert info.value.url == f"http://127.0.0.1:{port}/"


async def test_silent_endpoint_times_out(http_server: FakeLLMServer) -> None:
    http_server.queue(Reply(hold=True))
    with pytest.raises(HttpToolTimeoutError):
        await base64_tool(http_server, timeout=0.2).run_json({"value": "x"}, CancellationToken())


async def test_cancelling_the_token_aborts_the_request(http_server: FakeLLMServer) -> None:
    http_server.queue(Reply(hold=True))
    token = CancellationToken()
    call = asyncio.create_task(base64_tool(http_server, timeout=30).run_json({"value": "x"}, token))
    assert await asyncio.to_thread(http_server.wait_for_requests, 1)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await asyncio.to_thread(http_server.wait_for_disconnects, 1)


async def test_spec_round_trip_and_autogen_provider_path(http_server: FakeLLMServer) -> None:
    spec = base64_tool(http_server).dump_component()
    assert spec.provider == "muster.tools.http.HttpTool" and spec.config["path"] == "/base64/{value}"
    autogen_spec = {**spec.model_dump(), "provider": "autogen_ext.tools.http.HttpTool"}
    loaded = ComponentLoader.load_component(autogen_spec, HttpTool)
    http_server.queue(text("decoded"))
    assert await loaded.run_json({"value": "x"}, CancellationToken()) == "decoded"


def test_path_placeholder_must_be_in_the_schema() -> None:
    with pytest.raises(ValueError, match=r"placeholders \['id'\]"):
        HttpTool(
            name="t", host="h", port=1, path="/items/{id}", json_schema={"type": "object", "properties": {}}
        )
