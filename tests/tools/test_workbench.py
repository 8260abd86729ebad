"""StaticWorkbench and StaticStreamWorkbench: listing, calling, errors, overrides, state, streaming."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from pydantic import BaseModel

from muster.core import CancellationToken, Image
from muster.tools import (
    BaseStreamTool,
    BaseToolWithState,
    FunctionTool,
    ImageResultContent,
    StaticStreamWorkbench,
    StaticWorkbench,
    TextResultContent,
    ToolOverride,
    ToolResult,
    Workbench,
)
from muster.tools.exceptions import ToolOverrideConflictError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


async def fail(reason: str) -> str:
    raise RuntimeError(f"cannot do it: {reason}")


class CounterArgs(BaseModel):
    step: int = 1


class CounterState(BaseModel):
    total: int = 0


class Counter(BaseToolWithState[CounterArgs, int, CounterState]):
    def __init__(self) -> None:
        super().__init__(CounterArgs, int, CounterState, "counter", "Counts.")
        self.total = 0

    async def run(self, args: CounterArgs, cancellation_token: CancellationToken) -> int:
        self.total += args.step
        return self.total

    def save_state(self) -> CounterState:
        return CounterState(total=self.total)

    def load_state(self, state: CounterState) -> None:
        self.total = state.total


class CountdownArgs(BaseModel):
    start: int


class Countdown(BaseStreamTool[CountdownArgs, int, str]):
    def __init__(self, fail_at: int | None = None, bad_end: bool = False) -> None:
        super().__init__(CountdownArgs, str, "countdown", "Counts down.")
        self.fail_at = fail_at
        self.bad_end = bad_end
        self.closed = False

    async def run(self, args: CountdownArgs, cancellation_token: CancellationToken) -> str:
        last: Any = None
        async for item in self.run_stream(args, cancellation_token):
            last = item
        return str(last)

    async def run_stream(
        self, args: CountdownArgs, cancellation_token: CancellationToken
    ) -> AsyncGenerator[int | str, None]:
        try:
            for n in range(args.start, 0, -1):
                if n == self.fail_at:
                    raise ValueError(f"stuck at {n}")
                yield n
            yield 0 if self.bad_end else "liftoff"
        finally:
            self.closed = True


def text_of(result: ToolResult) -> str:
    return result.to_text()


async def test_list_tools_returns_schemas() -> None:
    workbench = StaticWorkbench([FunctionTool(add, description="Add.")])
    (schema,) = await workbench.list_tools()
    assert schema["name"] == "add" and schema["description"] == "Add."
    assert schema["parameters"]["required"] == ["a", "b"]


async def test_call_tool_returns_the_rendered_result() -> None:
    workbench = StaticWorkbench([FunctionTool(add, description="Add.")])
    result = await workbench.call_tool("add", {"a": 2, "b": 3}, call_id="c1")
    assert result == ToolResult(name="add", result=[TextResultContent(content="5")], is_error=False)


async def test_unknown_tool_is_an_error_result_listing_available_tools() -> None:
    workbench = StaticWorkbench([FunctionTool(add, description="Add."), FunctionTool(fail, description="F.")])
    result = await workbench.call_tool("multiply", {"a": 1})
    assert result.is_error and result.name == "multiply"
    assert text_of(result) == "Tool 'multiply' not found. Available tools: add, fail"


async def test_bad_arguments_are_an_error_result_naming_the_field() -> None:
    workbench = StaticWorkbench([FunctionTool(add, description="Add.")])
    missing = await workbench.call_tool("add", {"a": 1})
    assert missing.is_error
    assert text_of(missing) == "Invalid arguments for tool 'add': b: Field required"
    wrong = await workbench.call_tool("add", {"a": 1, "b": "two"})
    assert wrong.is_error and "b: Input should be a valid integer" in text_of(wrong)
    no_args = await workbench.call_tool("add")
    assert no_args.is_error and "a: Field required; b: Field required" in text_of(no_args)


async def test_tool_exception_is_an_error_result_with_its_message() -> None:
    workbench = StaticWorkbench([FunctionTool(fail, description="F.")])
    result = await workbench.call_tool("fail", {"reason": "no fuel"})
    assert result.is_error and text_of(result) == "cannot do it: no fuel"


async def test_exception_groups_are_flattened_and_empty_messages_named() -> None:
    async def grouped() -> None:
        raise ExceptionGroup("many", [ValueError("first"), KeyError("second")])

    async def silent() -> None:
        raise RuntimeError()

    workbench = StaticWorkbench(
        [FunctionTool(grouped, description="g"), FunctionTool(silent, description="s")]
    )
    assert text_of(await workbench.call_tool("grouped")) == "first\n'second'"
    assert text_of(await workbench.call_tool("silent")) == "RuntimeError"


async def test_overrides_rename_and_redescribe() -> None:
    workbench = StaticWorkbench(
        [FunctionTool(add, description="Add."), FunctionTool(fail, description="F.")],
        tool_overrides={"add": ToolOverride(name="sum", description="Sum two integers.")},
    )
    schemas = await workbench.list_tools()
    assert [(s["name"], s.get("description")) for s in schemas] == [
        ("sum", "Sum two integers."),
        ("fail", "F."),
    ]
    assert schemas[0]["parameters"]["required"] == ["a", "b"]
    renamed = await workbench.call_tool("sum", {"a": 1, "b": 1})
    assert renamed.name == "sum" and text_of(renamed) == "2"
    # The original name still resolves (AutoGen does the same) but is not advertised.
    assert text_of(await workbench.call_tool("add", {"a": 1, "b": 2})) == "3"
    bad = await workbench.call_tool("sum", {"a": 1})
    assert text_of(bad) == "Invalid arguments for tool 'sum': b: Field required"
    unknown = await workbench.call_tool("nope")
    assert "Available tools: sum, fail" in text_of(unknown)


async def test_description_only_override_keeps_the_name() -> None:
    workbench = StaticWorkbench(
        [FunctionTool(add, description="Add.")], {"add": ToolOverride(description="Better.")}
    )
    (schema,) = await workbench.list_tools()
    assert (schema["name"], schema.get("description")) == ("add", "Better.")


async def test_overrides_may_swap_names() -> None:
    workbench = StaticWorkbench(
        [FunctionTool(add, description="Add."), FunctionTool(fail, description="F.")],
        {"add": ToolOverride(name="fail"), "fail": ToolOverride(name="add")},
    )
    assert text_of(await workbench.call_tool("fail", {"a": 1, "b": 1})) == "2"


def test_conflicting_names_raise() -> None:
    with pytest.raises(ToolOverrideConflictError) as info:
        StaticWorkbench(
            [FunctionTool(add, description="Add."), FunctionTool(fail, description="F.")],
            {"add": ToolOverride(name="fail")},
        )
    assert info.value.exposed_name == "fail" and info.value.claimants == ["add", "fail"]
    with pytest.raises(ToolOverrideConflictError):
        StaticWorkbench([FunctionTool(add, description="a"), FunctionTool(add, description="b")])


async def test_cancellation_propagates_from_call_tool() -> None:
    started = asyncio.Event()

    async def wait_forever() -> None:
        started.set()
        await asyncio.Event().wait()

    token = CancellationToken()
    workbench = StaticWorkbench([FunctionTool(wait_forever, description="w")])
    call = asyncio.create_task(workbench.call_tool("wait_forever", {}, token))
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_timeout_is_an_error_result() -> None:
    cancelled = asyncio.Event()

    async def wait_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    async def raises_timeout() -> None:
        raise TimeoutError("upstream slow")

    workbench = StaticWorkbench(
        [FunctionTool(wait_forever, description="w"), FunctionTool(raises_timeout, description="t")],
        timeout=0.05,
    )
    result = await workbench.call_tool("wait_forever")
    assert result.is_error and text_of(result) == "Tool 'wait_forever' timed out after 0.05 s"
    assert cancelled.is_set()
    # A TimeoutError raised by the tool itself is not mistaken for the workbench's limit.
    assert text_of(await workbench.call_tool("raises_timeout")) == "upstream slow"


async def test_state_round_trip_and_context_manager() -> None:
    counter = Counter()
    async with StaticWorkbench([counter, FunctionTool(add, description="Add.")]) as workbench:
        assert isinstance(workbench, Workbench)
        await workbench.call_tool("counter", {"step": 5})
        state = await workbench.save_state()
        assert state == {"type": "StaticWorkbenchState", "tools": {"counter": {"total": 5}, "add": {}}}
        await workbench.call_tool("counter", {})
        assert counter.total == 6
        await workbench.load_state(state)
        assert counter.total == 5
        await workbench.reset()
    assert counter.state_type() is CounterState


def test_tool_result_text_and_images() -> None:
    image = Image.from_bytes(PNG)
    result = ToolResult(
        name="snap", result=[TextResultContent(content="here"), ImageResultContent(content=image)]
    )
    assert result.to_text(replace_image="<image>") == "here\n<image>"
    assert result.to_text() == f"here\n[Image: {image.to_base64()}]"
    assert result.is_error is False
    restored = ToolResult.model_validate_json(result.model_dump_json())
    assert restored == result
    assert isinstance(restored.result[1], ImageResultContent)


async def test_stream_workbench_yields_progress_then_result() -> None:
    tool = Countdown()
    workbench = StaticStreamWorkbench([tool, FunctionTool(add, description="Add.")])
    items = [item async for item in workbench.call_tool_stream("countdown", {"start": 3})]
    assert items[:-1] == [3, 2, 1]
    assert items[-1] == ToolResult(name="countdown", result=[TextResultContent(content="liftoff")])
    assert tool.closed
    # Non-streaming tools and unknown names give a single result.
    assert [r async for r in workbench.call_tool_stream("add", {"a": 1, "b": 2})] == [
        ToolResult(name="add", result=[TextResultContent(content="3")])
    ]
    (missing,) = [r async for r in workbench.call_tool_stream("nope")]
    assert isinstance(missing, ToolResult) and missing.is_error


async def test_stream_errors_keep_earlier_items() -> None:
    workbench = StaticStreamWorkbench([Countdown(fail_at=2)])
    items = [item async for item in workbench.call_tool_stream("countdown", {"start": 4})]
    assert items[:-1] == [4, 3]
    assert isinstance(items[-1], ToolResult) and items[-1].is_error
    assert items[-1].to_text() == "stuck at 2"
    bad_args = [item async for item in workbench.call_tool_stream("countdown", {"start": "x"})]
    assert len(bad_args) == 1 and "start: Input should be a valid integer" in bad_args[0].to_text()


async def test_stream_must_end_with_the_return_type() -> None:
    workbench = StaticStreamWorkbench([Countdown(bad_end=True)])
    items = [item async for item in workbench.call_tool_stream("countdown", {"start": 1})]
    assert items[:-1] == [1, 0]  # every item the tool produced is delivered before the error
    assert items[-1].is_error and "must end its stream with a str" in items[-1].to_text()


async def test_stream_cancellation_propagates() -> None:
    started = asyncio.Event()

    class Hang(Countdown):
        async def run_stream(
            self, args: CountdownArgs, cancellation_token: CancellationToken
        ) -> AsyncGenerator[int | str, None]:
            yield 1
            started.set()
            await asyncio.Event().wait()
            yield "never"

    token = CancellationToken()
    workbench = StaticStreamWorkbench([Hang()])

    async def consume() -> list[Any]:
        return [item async for item in workbench.call_tool_stream("countdown", {"start": 1}, token)]

    task = asyncio.create_task(consume())
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_run_json_stream_directly() -> None:
    items = [item async for item in Countdown().run_json_stream({"start": 2}, CancellationToken())]
    assert items == [2, 1, "liftoff"]


async def test_stream_errors_use_the_overridden_name() -> None:
    workbench = StaticStreamWorkbench([Countdown()], {"countdown": ToolOverride(name="launch")})
    (result,) = [item async for item in workbench.call_tool_stream("launch", {})]
    assert result.is_error and result.name == "launch"
    assert result.to_text() == "Invalid arguments for tool 'launch': start: Field required"


async def test_a_token_shared_by_1000_workbench_calls_holds_no_callbacks_afterwards() -> None:
    started = asyncio.Event()

    async def wait_forever() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    async def add_async(a: int, b: int) -> int:
        return a + b

    workbench = StaticStreamWorkbench(
        [
            FunctionTool(add, description="Add (sync: runs in a thread)."),
            FunctionTool(add_async, description="Add."),
            FunctionTool(fail, description="Fails."),
            FunctionTool(wait_forever, description="Never returns."),
            Countdown(),
        ]
    )
    token = CancellationToken()
    for i in range(200):
        assert text_of(await workbench.call_tool("add", {"a": i, "b": 1}, token)) == str(i + 1)
        assert text_of(await workbench.call_tool("add_async", {"a": i, "b": 1}, token)) == str(i + 1)
        assert (await workbench.call_tool("fail", {"reason": "no"}, token)).is_error
        items = [item async for item in workbench.call_tool_stream("countdown", {"start": 2}, token)]
        assert items[-1] == ToolResult(name="countdown", result=[TextResultContent(content="liftoff")])
        # A stream its consumer abandons after the first item.
        stream = workbench.call_tool_stream("countdown", {"start": 3}, token)
        assert await anext(stream) == 3
        await stream.aclose()
    # Calls cancelled by their caller (not by the token) let go of it too.

    async def consume_stream() -> None:
        async for _ in workbench.call_tool_stream("wait_forever", {}, token):
            pass

    for call in (workbench.call_tool("wait_forever", {}, token), consume_stream()):
        started.clear()
        task = asyncio.create_task(call)
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(token._callbacks) == 0
