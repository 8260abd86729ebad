"""muster.tools.mcp against real MCP servers the tests start (stdio and streamable HTTP)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from mcp_test_server import build

from muster.agents import AssistantAgent
from muster.core import CancellationToken, ComponentLoader, FunctionCall
from muster.messages import ToolCallExecutionEvent
from muster.models import CreateResult, ModelInfo, RequestUsage
from muster.models.replay import ReplayChatCompletionClient
from muster.tools import ImageResultContent, TextResultContent, ToolOverride
from muster.tools.exceptions import ToolOverrideConflictError
from muster.tools.mcp import (
    McpSessionActor,
    McpWorkbench,
    StdioMcpToolAdapter,
    StdioServerParams,
    StreamableHttpMcpToolAdapter,
    StreamableHttpServerParams,
    create_mcp_server_session,
    mcp_server_tools,
)
from muster.tools.mcp.exceptions import (
    McpConnectionError,
    McpToolCallError,
    McpToolNotFoundError,
)

SERVER_SCRIPT = str(Path(__file__).with_name("mcp_test_server.py"))
TOOLS_MODEL = ModelInfo(
    vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False
)


def stdio_params(read_timeout: float = 30) -> StdioServerParams:
    return StdioServerParams(command=sys.executable, args=[SERVER_SCRIPT], read_timeout_seconds=read_timeout)


class HttpMcpServer:
    """The test MCP server's streamable HTTP app, served by uvicorn on 127.0.0.1 in a thread."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(build().streamable_http_app(), log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve([self._sock])), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> HttpMcpServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:  # uvicorn sets the flag once it listens
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("MCP HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@pytest.fixture(scope="module")
def http_mcp() -> Iterator[HttpMcpServer]:
    server = HttpMcpServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["stdio", "streamable_http"])
def server_params(request: pytest.FixtureRequest) -> StdioServerParams | StreamableHttpServerParams:
    if request.param == "stdio":
        return stdio_params()
    http: HttpMcpServer = request.getfixturevalue("http_mcp")
    return StreamableHttpServerParams(url=http.url, timeout=10, sse_read_timeout=30)


@pytest.fixture
async def stdio_workbench() -> AsyncIterator[McpWorkbench]:
    async with McpWorkbench(stdio_params()) as workbench:
        yield workbench


def tool_call(name: str, arguments: dict[str, Any], call_id: str = "c1") -> CreateResult:
    call = FunctionCall(id=call_id, name=name, arguments=json.dumps(arguments))
    return CreateResult(
        finish_reason="function_calls", content=[call], usage=RequestUsage(1, 1), cached=False
    )


def executions(messages: Any) -> list[Any]:
    return [r for m in messages if isinstance(m, ToolCallExecutionEvent) for r in m.content]


async def test_workbench_lists_and_calls_tools_resources_and_prompts(
    server_params: StdioServerParams | StreamableHttpServerParams,
) -> None:
    async with McpWorkbench(server_params) as workbench:
        assert workbench.initialize_result is not None
        tools = {t["name"]: t for t in await workbench.list_tools()}
        assert {"add", "greet", "fail", "hang", "crash"} <= set(tools)
        assert tools["greet"]["parameters"]["required"] == ["name"]
        assert tools["add"]["description"] == "Add two numbers."

        added = await workbench.call_tool("add", {"a": 2, "b": 40})
        assert (added.is_error, added.to_text()) == (False, "42")
        greeted = await workbench.call_tool("greet", {"name": "Ann"})
        assert greeted.to_text() == "Hello, Ann!"
        failed = await workbench.call_tool("fail", {"reason": "no luck"})
        assert failed.is_error and failed.to_text()

        resources = await workbench.list_resources()
        assert [str(r.uri) for r in resources.resources] == ["notes://today"]
        contents = await workbench.read_resource("notes://today")
        assert contents.contents[0].text == "buy milk"  # type: ignore[union-attr]

        prompts = await workbench.list_prompts()
        assert [p.name for p in prompts.prompts] == ["review"]
        prompt = await workbench.get_prompt("review", {"topic": "the plan"})
        assert prompt.messages[0].content.text == "Please review the plan."  # type: ignore[union-attr]


async def test_assistant_agent_calls_an_mcp_tool_end_to_end(
    server_params: StdioServerParams | StreamableHttpServerParams,
) -> None:
    model = ReplayChatCompletionClient(
        [tool_call("add", {"a": 19, "b": 23}), "19 + 23 = 42"], model_info=TOOLS_MODEL
    )
    async with McpWorkbench(server_params) as workbench:
        agent = AssistantAgent("calc", model_client=model, workbench=workbench, reflect_on_tool_use=True)
        result = await agent.run(task="What is 19 + 23?")
    [execution] = executions(result.messages)
    assert (execution.content, execution.is_error) == ("42", False)
    assert result.messages[-1].content == "19 + 23 = 42"
    offered = {t["name"]: t for t in model.create_calls[0]["tools"]}
    assert offered["add"]["parameters"]["properties"]["a"]["type"] == "integer"


async def test_crashed_server_is_an_error_result_and_the_agent_goes_on() -> None:
    model = ReplayChatCompletionClient(
        [tool_call("crash", {}, "c1"), tool_call("add", {"a": 1, "b": 2}, "c2"), "It is 3."],
        model_info=TOOLS_MODEL,
    )
    async with McpWorkbench(stdio_params()) as workbench:
        agent = AssistantAgent(
            "calc", model_client=model, workbench=workbench, reflect_on_tool_use=True, max_tool_iterations=2
        )
        result = await agent.run(task="Crash, then add 1 and 2.")
    crashed, added = executions(result.messages)
    assert crashed.is_error and "is not available" in crashed.content
    assert (added.content, added.is_error) == ("3", False)  # the server was started again
    assert result.messages[-1].content == "It is 3."


async def test_hanging_tool_times_out_and_the_session_stays_usable() -> None:
    async with McpWorkbench(stdio_params(read_timeout=0.5)) as workbench:
        hung = await workbench.call_tool("hang")
        assert hung.is_error and "did not answer tools/call" in hung.to_text()
        assert (await workbench.call_tool("add", {"a": 1, "b": 1})).to_text() == "2"


async def test_cancelling_a_call_stops_waiting_for_it(stdio_workbench: McpWorkbench) -> None:
    token = CancellationToken()
    call = asyncio.create_task(stdio_workbench.call_tool("hang", cancellation_token=token))
    token.cancel()  # whether the request was sent yet or not, the caller stops waiting
    with pytest.raises(asyncio.CancelledError):
        await call
    assert (await stdio_workbench.call_tool("add", {"a": 2, "b": 2})).to_text() == "4"


async def test_server_that_cannot_start_is_a_typed_error(tmp_path: Path) -> None:
    workbench = McpWorkbench(StdioServerParams(command=str(tmp_path / "no-such-server")))
    with pytest.raises(McpConnectionError) as info:
        await workbench.start()
    assert "no-such-server" in info.value.server
    result = await workbench.call_tool("add", {"a": 1, "b": 2})
    assert result.is_error and "no-such-server" in result.to_text()


async def test_unreachable_http_server_is_a_typed_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workbench = McpWorkbench(StreamableHttpServerParams(url=f"http://127.0.0.1:{port}/mcp", timeout=5))
    with pytest.raises(McpConnectionError):
        await workbench.list_tools()


async def test_tool_overrides_rename_and_redescribe(stdio_workbench: McpWorkbench) -> None:
    renamed = McpWorkbench(
        stdio_workbench.server_params,
        tool_overrides={"add": ToolOverride(name="plus", description="Sum of a and b")},
    )
    async with renamed:
        tools = {t["name"]: t for t in await renamed.list_tools()}
        assert "plus" in tools and "add" not in tools
        assert tools["plus"]["description"] == "Sum of a and b"
        result = await renamed.call_tool("plus", {"a": 5, "b": 5})
        assert (result.name, result.to_text()) == ("plus", "10")
    with pytest.raises(ToolOverrideConflictError):
        McpWorkbench(
            stdio_params(), tool_overrides={"a": ToolOverride(name="x"), "b": ToolOverride(name="x")}
        )


async def test_mcp_server_tools_wrap_each_tool_as_an_adapter(http_mcp: HttpMcpServer) -> None:
    params = StreamableHttpServerParams(url=http_mcp.url, timeout=10, sse_read_timeout=30)
    tools = {t.name: t for t in await mcp_server_tools(params)}
    add = tools["add"]
    assert isinstance(add, StreamableHttpMcpToolAdapter)
    assert add.schema["parameters"]["required"] == ["a", "b"]
    blocks = await add.run_json({"a": 4, "b": 5}, CancellationToken())
    assert json.loads(add.return_value_as_string(blocks))[0]["text"] == "9"
    with pytest.raises(McpToolCallError, match="fail"):
        await tools["fail"].run_json({"reason": "bad day"}, CancellationToken())
    with pytest.raises(ValueError, match="a"):
        await add.run_json({"b": 1}, CancellationToken())

    spec = add.dump_component()
    autogen_spec = {**spec.model_dump(), "provider": "autogen_ext.tools.mcp.StreamableHttpMcpToolAdapter"}
    loaded = ComponentLoader.load_component(autogen_spec, StreamableHttpMcpToolAdapter)
    assert loaded.schema == add.schema
    with pytest.raises(McpToolNotFoundError, match="available|has no tool"):
        await StreamableHttpMcpToolAdapter.from_server_params(params, "nope")


async def test_adapters_can_share_one_open_session() -> None:
    params = stdio_params()
    async with create_mcp_server_session(params) as session:
        await session.initialize()
        tools = {t.name: t for t in await mcp_server_tools(params, session=session)}
        assert isinstance(tools["greet"], StdioMcpToolAdapter)
        first = await tools["greet"].run_json({"name": "Bo"}, CancellationToken())
        second = await tools["add"].run_json({"a": 1, "b": 1}, CancellationToken())
    assert (first[0].text, second[0].text) == ("Hello, Bo!", "2")


async def test_session_actor_runs_requests_and_refuses_unknown_ones() -> None:
    actor = McpSessionActor(stdio_params())
    await actor.initialize()
    try:
        listing = await (await actor.call("list_tools"))
        assert "add" in {t.name for t in listing.tools}
        result = await (await actor.call("call_tool", {"name": "add", "kargs": {"a": 3, "b": 4}}))
        assert result.content[0].text == "7"
        with pytest.raises(ValueError, match="Unknown MCP actor command"):
            await actor.call("explode")
    finally:
        await actor.close()
    with pytest.raises(McpConnectionError):
        await actor.call("list_tools")


def test_workbench_spec_round_trip_and_autogen_provider_path() -> None:
    workbench = McpWorkbench(stdio_params(), tool_overrides={"add": ToolOverride(name="plus")})
    spec = workbench.dump_component()
    assert spec.provider == "muster.tools.mcp.McpWorkbench"
    assert spec.config["server_params"]["type"] == "StdioServerParams"
    autogen_spec = {**spec.model_dump(), "provider": "autogen_ext.tools.mcp.McpWorkbench"}
    loaded = ComponentLoader.load_component(autogen_spec, McpWorkbench)
    assert loaded.server_params == workbench.server_params


def test_image_results_become_image_parts() -> None:
    import mcp.types as mcp_types

    from muster.tools.mcp._content import to_result_parts

    parts = to_result_parts(
        [
            mcp_types.TextContent(type="text", text="a picture:"),
            mcp_types.ImageContent(
                type="image",
                data="iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==",
                mime_type="image/png",
            ),
        ]
    )
    assert isinstance(parts[0], TextResultContent) and isinstance(parts[1], ImageResultContent)
