"""A workbench over a fixed list of tools, optionally renamed, and its streaming variant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from ..core import CancellationToken, Component, ComponentModel, is_component_instance
from ..core.instrumentation import open_span
from ..core.internal import Tool, ToolSchema, scoped_link
from ._base import BaseTool
from ._result import TextResultContent, ToolResult
from ._workbench import StreamWorkbench, ToolOverride, Workbench
from .exceptions import ToolArgumentsError, ToolNotFoundError, ToolOverrideConflictError, ToolTimeoutError

if TYPE_CHECKING:
    from ..core.instrumentation import Span

__all__ = ["StaticStreamWorkbench", "StaticWorkbench", "StaticWorkbenchConfig", "StaticWorkbenchState"]


class StaticWorkbenchConfig(BaseModel):
    """Declarative config of a :class:`StaticWorkbench`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    tools: list[ComponentModel] = []
    """The tools' own specs."""
    tool_overrides: dict[str, ToolOverride] = Field(default_factory=dict)
    """Overrides keyed by the tool's original name."""
    timeout: float | None = None
    """Per-call time limit in seconds (muster addition; AutoGen has none)."""


class StaticWorkbenchState(BaseModel):
    """Saved state of a :class:`StaticWorkbench`: each tool's state under its original name."""

    model_config = ConfigDict(defer_build=True)

    type: Literal["StaticWorkbenchState"] = "StaticWorkbenchState"
    tools: dict[str, Mapping[str, Any]] = {}


_EMPTY_OVERRIDES: Mapping[str, ToolOverride] = MappingProxyType({})
_EMPTY_TOOLS: Mapping[str, Tool] = MappingProxyType({})


def _format_error(error: BaseException, called_as: str | None = None) -> str:
    # The model reads this: flatten groups (``asyncio.TaskGroup`` inside tools) into their causes.
    if isinstance(error, BaseExceptionGroup):
        return "\n".join(_format_error(sub, called_as) for sub in error.exceptions)
    if isinstance(error, ToolArgumentsError) and called_as is not None and error.tool_name != called_as:
        # Name the tool as the model called it, which may be an override.
        return str(ToolArgumentsError(called_as, error.errors))
    return str(error) or type(error).__name__


def _error_result(name: str, message: str) -> ToolResult:
    return ToolResult(name=name, result=[TextResultContent(content=message)], is_error=True)


class StaticWorkbench(Workbench, Component[StaticWorkbenchConfig]):
    """A workbench whose tools never change: the usual way to give an agent a list of tools.

    Every failure of a call comes back as ``ToolResult(is_error=True)`` whose text tells
    the model what to fix: an unknown name lists the available tools, bad arguments name
    the bad fields, an exception in the tool gives its message.

    Args:
        tools: The tools.
        tool_overrides: New names and/or descriptions keyed by original tool name. The
            model sees and calls the new name; the original name still resolves when it
            is not taken by another tool.
        timeout: Optional per-call limit in seconds (muster addition). A call past it is
            cancelled and reported as an error result.

    Raises:
        ToolOverrideConflictError: two tools would be exposed under the same name.
    """

    component_provider_override = "muster.tools.StaticWorkbench"
    component_config_schema = StaticWorkbenchConfig

    def __init__(
        self,
        tools: Sequence[Tool],
        tool_overrides: Mapping[str, ToolOverride] | None = None,
        *,
        timeout: float | None = None,
    ) -> None:
        self._tools: list[Tool] = list(tools)
        # Empty tables are shared: every tool-less AssistantAgent has one of these workbenches.
        self._tool_overrides: Mapping[str, ToolOverride] = (
            dict(tool_overrides) if tool_overrides else _EMPTY_OVERRIDES
        )
        self._timeout = timeout
        self._by_exposed_name: Mapping[str, Tool] = _EMPTY_TOOLS
        self._by_original_name: Mapping[str, Tool] = _EMPTY_TOOLS
        if not self._tools:
            return
        by_exposed_name: dict[str, Tool] = {}
        by_original_name: dict[str, Tool] = {}
        self._by_exposed_name, self._by_original_name = by_exposed_name, by_original_name
        for tool in self._tools:
            override = self._tool_overrides.get(tool.name)
            exposed = override.name if override is not None and override.name else tool.name
            if exposed in by_exposed_name:
                raise ToolOverrideConflictError(exposed, [by_exposed_name[exposed].name, tool.name])
            by_exposed_name[exposed] = tool
            by_original_name.setdefault(tool.name, tool)

    def _resolve(self, name: str) -> Tool | None:
        return self._by_exposed_name.get(name) or self._by_original_name.get(name)

    def _not_found(self, name: str) -> ToolResult:
        return _error_result(name, str(ToolNotFoundError(name, list(self._by_exposed_name))))

    def _apply_override(self, tool: Tool) -> ToolSchema:
        schema = tool.schema
        override = self._tool_overrides.get(tool.name)
        if override is None:
            return schema
        renamed = schema.copy()
        if override.name is not None:
            renamed["name"] = override.name
        if override.description is not None:
            renamed["description"] = override.description
        return renamed

    async def list_tools(self) -> list[ToolSchema]:
        """The tools' schemas, with overrides applied."""
        return [self._apply_override(tool) for tool in self._tools]

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        """Call a tool; failures come back as error results, cancellation propagates.

        Raises:
            asyncio.CancelledError: ``cancellation_token`` was cancelled during the call.
        """
        span = open_span("tool_call", type(self).__name__)
        if span is None:
            return await self._call_tool(name, arguments, cancellation_token, call_id)
        with span:
            _describe_call(span, name, arguments, call_id)
            result = await self._call_tool(name, arguments, cancellation_token, call_id)
            _describe_result(span, result)
            return result

    async def _call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None,
        cancellation_token: CancellationToken | None,
        call_id: str | None,
    ) -> ToolResult:
        tool = self._resolve(name)
        if tool is None:
            return self._not_found(name)
        token = cancellation_token or CancellationToken()
        future = asyncio.ensure_future(tool.run_json(arguments or {}, token, call_id=call_id))
        # Unlinked in ``finally`` rather than left to the future's done-callback, so the
        # token (often shared by a whole run) holds nothing of this call once it returns.
        unlink = scoped_link(token, future)
        deadline = asyncio.timeout(self._timeout)
        try:
            async with deadline:
                value = await future
            text = tool.return_value_as_string(value)
        except TimeoutError as exc:
            if not deadline.expired():
                return _error_result(name, _format_error(exc))
            return _error_result(name, str(ToolTimeoutError(name, self._timeout or 0.0)))
        except Exception as exc:
            return _error_result(name, _format_error(exc, name))
        finally:
            unlink()
        return ToolResult(name=name, result=[TextResultContent(content=text)])

    async def start(self) -> None:
        """Nothing to acquire: the tools are plain objects."""

    async def stop(self) -> None:
        """Nothing to release."""

    async def reset(self) -> None:
        """Nothing to reset: tool state is only changed through :meth:`load_state`."""

    async def save_state(self) -> Mapping[str, Any]:
        """Each tool's ``save_state_json`` under its original name."""
        state = StaticWorkbenchState()
        for tool in self._tools:
            state.tools[tool.name] = await tool.save_state_json()
        return state.model_dump(mode="json")

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Give each tool its saved state; tools missing from ``state`` keep theirs."""
        parsed = StaticWorkbenchState.model_validate(state)
        for tool in self._tools:
            if tool.name in parsed.tools:
                await tool.load_state_json(parsed.tools[tool.name])

    def _to_config(self) -> StaticWorkbenchConfig:
        specs: list[ComponentModel] = []
        for tool in self._tools:
            if not is_component_instance(tool):
                raise TypeError(f"Tool {tool.name!r} ({type(tool).__name__}) is not a component")
            specs.append(tool.dump_component())
        return StaticWorkbenchConfig(
            tools=specs, tool_overrides=dict(self._tool_overrides), timeout=self._timeout
        )

    @classmethod
    def _from_config(cls, config: StaticWorkbenchConfig) -> Self:
        tools: list[Tool] = []
        for spec in config.tools:
            tool: BaseTool[Any, Any] = BaseTool.load_component(spec)
            tools.append(tool)
        return cls(tools, config.tool_overrides, timeout=config.timeout)


class StaticStreamWorkbench(StaticWorkbench, StreamWorkbench):
    """A :class:`StaticWorkbench` that also streams the progress of streaming tools.

    Tools that are not streaming tools yield just their final :class:`ToolResult`.
    """

    component_provider_override = "muster.tools.StaticStreamWorkbench"

    async def call_tool_stream(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> AsyncGenerator[Any | ToolResult, None]:
        """Yield a streaming tool's progress items, then the :class:`ToolResult` built from its last item.

        Items yielded before a failure are still delivered, followed by the error result.

        Raises:
            asyncio.CancelledError: ``cancellation_token`` was cancelled during the call.
        """
        tool = self._resolve(name)
        # A duck-typed check: isinstance against the runtime-checkable StreamTool protocol
        # inspects every protocol member and costs tens of microseconds per call.
        run_json_stream = getattr(tool, "run_json_stream", None)
        if tool is None or not callable(run_json_stream):
            yield await self.call_tool(name, arguments, cancellation_token, call_id)
            return
        span = open_span("tool_call", type(self).__name__)
        if span is None:
            async for item in self._stream_tool(
                tool, run_json_stream, name, arguments, cancellation_token, call_id
            ):
                yield item
            return
        with span:
            _describe_call(span, name, arguments, call_id)
            async for item in self._stream_tool(
                tool, run_json_stream, name, arguments, cancellation_token, call_id
            ):
                if isinstance(item, ToolResult):
                    _describe_result(span, item)
                yield item

    async def _stream_tool(
        self,
        tool: Tool,
        run_json_stream: Any,
        name: str,
        arguments: Mapping[str, Any] | None,
        cancellation_token: CancellationToken | None,
        call_id: str | None,
    ) -> AsyncGenerator[Any | ToolResult, None]:
        token = cancellation_token or CancellationToken()
        stream = run_json_stream(arguments or {}, token, call_id=call_id)
        loop = asyncio.get_running_loop()
        deadline_at = None if self._timeout is None else loop.time() + self._timeout
        # One callback for the whole stream (not one per item) cancels whichever step is pending.
        pending: list[asyncio.Future[Any]] = []

        def cancel_pending() -> None:
            for step in pending:
                step.cancel()

        remove_callback = token.add_callback(cancel_pending)
        previous: Any = None
        have_previous = False
        try:
            while True:
                step: asyncio.Future[Any] = asyncio.ensure_future(anext(stream))
                pending[:] = [step]
                if token.is_cancelled():
                    step.cancel()
                deadline = asyncio.timeout_at(deadline_at)
                try:
                    async with deadline:
                        item = await step
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    message = (
                        str(ToolTimeoutError(name, self._timeout or 0.0))
                        if deadline.expired()
                        else _format_error(exc)
                    )
                    if have_previous:
                        yield previous
                    yield _error_result(name, message)
                    return
                except Exception as exc:
                    if have_previous:
                        yield previous
                    yield _error_result(name, _format_error(exc, name))
                    return
                if have_previous:
                    yield previous
                previous, have_previous = item, True
        finally:
            # Also reached when the consumer abandons the stream (aclose at a yield).
            remove_callback()
            pending.clear()
            await stream.aclose()
        try:
            text = tool.return_value_as_string(previous)
        except Exception as exc:
            yield _error_result(name, _format_error(exc))
            return
        yield ToolResult(name=name, result=[TextResultContent(content=text)])


_PREVIEW = 2000
"""Characters of a tool's arguments or result kept on its span (for the timeline's hover)."""


def _describe_call(span: Span, name: str, arguments: Mapping[str, Any] | None, call_id: str | None) -> None:
    span.set(tool=name, call_id=call_id, arguments=repr(dict(arguments or {}))[:_PREVIEW])


def _describe_result(span: Span, result: ToolResult) -> None:
    span.set(is_error=result.is_error, result=result.to_text()[:_PREVIEW])
    if result.is_error:
        span.fail("ToolError", result.to_text()[:_PREVIEW])
