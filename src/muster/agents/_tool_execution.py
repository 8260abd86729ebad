"""Running the tool calls a model asked for, and turning their results into agent messages.

One :class:`ToolExecutor` is built per agent and reused for every run. It routes each
call to the workbench that listed the tool (or to a handoff tool), runs parallel calls
concurrently, forwards the progress events of streaming tools (such as an AgentTool's
inner agent) as they happen, and never lets a bad call end the run: malformed JSON,
unknown tools and failing workbenches all come back to the model as error results.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from muster.base import Handoff, Response
from muster.core import CancellationToken, FunctionCall
from muster.core.instrumentation import open_span
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    ToolCallSummaryMessage,
)
from muster.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
)
from muster.tools import BaseTool, ToolResult, ToolSchema, Workbench
from muster.tools.internal import StreamWorkbench

if TYPE_CHECKING:
    from muster.core.instrumentation import Span

__all__ = ["ExecutedCall", "ToolCallSummaryFormatter", "ToolExecutor"]

ExecutedCall = tuple[FunctionCall, FunctionExecutionResult]
"""A tool call paired with its outcome, in the order the model asked for them."""

ToolCallSummaryFormatter = Callable[[FunctionCall, FunctionExecutionResult], str]
"""Renders one executed call for the ToolCallSummaryMessage."""

_Event = BaseAgentEvent | BaseChatMessage
_DONE = object()
"""Queue sentinel: every concurrent call has finished."""


def _error(call: FunctionCall, text: str) -> FunctionExecutionResult:
    return FunctionExecutionResult(content=text, name=call.name, call_id=call.id, is_error=True)


_PREVIEW = 2000
"""Characters of a call's arguments or result kept on its instrumentation span."""


def _ended(span: Span | None, result: FunctionExecutionResult) -> FunctionExecutionResult:
    """Close a tool call's span (if recording) with its outcome; returns ``result``."""
    if span is not None:
        span.set(is_error=result.is_error, result=result.content[:_PREVIEW])
        if result.is_error:
            span.fail("ToolError", result.content[:_PREVIEW])
        span.close()
    return result


def _parse_arguments(call: FunctionCall) -> dict[str, Any] | FunctionExecutionResult:
    """Decode the model's JSON arguments, or explain to the model what was wrong with them."""
    raw = call.arguments
    # Some models send "" for a tool without parameters; that means "no arguments", not an error.
    if not raw or raw.isspace():
        return {}
    try:
        arguments = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _error(call, f"Error: {exc}")
    if not isinstance(arguments, dict):
        return _error(call, f"Error: arguments must be a JSON object, got {type(arguments).__name__}")
    return arguments


class ToolExecutor:
    """Lists an agent's tools for the model and executes the calls the model makes.

    Args:
        agent_name: Source of the events this executor yields.
        workbenches: Where ordinary tools live, searched in order.
        handoffs: Handoffs keyed by their tool name.
    """

    def __init__(
        self, agent_name: str, workbenches: Sequence[Workbench], handoffs: Mapping[str, Handoff]
    ) -> None:
        self._agent_name = agent_name
        self._workbenches = list(workbenches)
        self._handoffs = dict(handoffs)
        self._handoff_tools: dict[str, BaseTool[Any, Any]] = {
            h.name: h.handoff_tool for h in handoffs.values()
        }
        # Handoff schemas never change: build them once rather than on every model call.
        self._handoff_schemas: list[ToolSchema] = [t.schema for t in self._handoff_tools.values()]
        self._routes: dict[str, Workbench] = {}

    @property
    def handoffs(self) -> Mapping[str, Handoff]:
        """The handoffs, keyed by tool name."""
        return self._handoffs

    @property
    def handoff_tools(self) -> list[BaseTool[Any, Any]]:
        """The tools the model calls to hand off."""
        return list(self._handoff_tools.values())

    async def list_tools(self) -> list[ToolSchema]:
        """Every tool the model may call now; also remembers which workbench serves each.

        Called before every model request because a workbench's tools may change between
        calls; the routes it records are what :meth:`execute` uses, so a call is sent to
        the workbench whose listing the model actually saw.
        """
        schemas: list[ToolSchema] = []
        routes: dict[str, Workbench] = {}
        for wb in self._workbenches:
            for schema in await wb.list_tools():
                routes.setdefault(schema["name"], wb)
                schemas.append(schema)
        self._routes = routes
        if self._handoff_schemas:
            schemas.extend(self._handoff_schemas)
        return schemas

    async def execute(
        self, calls: Sequence[FunctionCall], cancellation_token: CancellationToken
    ) -> AsyncGenerator[_Event | list[ExecutedCall], None]:
        """Run ``calls``, yielding forwarded progress events and, last, the results in call order.

        A single call runs inline: no task, no queue. Several calls run concurrently and
        their progress events are forwarded as they arrive.
        """
        if len(calls) == 1:
            call = calls[0]
            result: FunctionExecutionResult | None = None
            async for item in self._run_call(call, cancellation_token):
                if isinstance(item, FunctionExecutionResult):
                    result = item
                else:
                    yield item
            assert result is not None
            yield [(call, result)]
            return

        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def drain(call: FunctionCall) -> FunctionExecutionResult:
            outcome: FunctionExecutionResult | None = None
            async for item in self._run_call(call, cancellation_token):
                if isinstance(item, FunctionExecutionResult):
                    outcome = item
                else:
                    queue.put_nowait(item)
            assert outcome is not None
            return outcome

        async def run_all() -> list[FunctionExecutionResult]:
            try:
                return list(await asyncio.gather(*(drain(c) for c in calls)))
            finally:
                queue.put_nowait(_DONE)

        runner = asyncio.ensure_future(run_all())
        try:
            while (item := await queue.get()) is not _DONE:
                yield item
            results = await runner
        finally:
            if not runner.done():
                runner.cancel()
        yield list(zip(calls, results, strict=True))

    async def _run_call(
        self, call: FunctionCall, cancellation_token: CancellationToken
    ) -> AsyncGenerator[_Event | FunctionExecutionResult, None]:
        """One call: its progress events (streaming tools only), then its result."""
        span = open_span("tool_call", self._agent_name)
        if span is not None:
            span.set(
                tool=call.name, call_id=call.id, agent=self._agent_name, arguments=call.arguments[:_PREVIEW]
            )
        try:
            arguments = _parse_arguments(call)
            if isinstance(arguments, FunctionExecutionResult):
                yield _ended(span, arguments)
                return
            handoff_tool = self._handoff_tools.get(call.name)
            if handoff_tool is not None:
                if span is not None:
                    span.set(handoff=True)
                yield _ended(
                    span, await self._run_handoff_tool(handoff_tool, call, arguments, cancellation_token)
                )
                return
            workbench = self._routes.get(call.name)
            if workbench is None:
                yield _ended(span, _error(call, f"Error: tool '{call.name}' not found in any workbench"))
                return
            tool_result: ToolResult | None = None
            try:
                if isinstance(workbench, StreamWorkbench):
                    async for event in workbench.call_tool_stream(
                        call.name, arguments, cancellation_token=cancellation_token, call_id=call.id
                    ):
                        if isinstance(event, ToolResult):
                            tool_result = event
                        elif isinstance(event, BaseAgentEvent | BaseChatMessage):
                            yield event
                        else:
                            warnings.warn(
                                f"Unexpected event type: {type(event)} in tool call streaming.",
                                UserWarning,
                                stacklevel=2,
                            )
                else:
                    tool_result = await workbench.call_tool(
                        call.name, arguments, cancellation_token=cancellation_token, call_id=call.id
                    )
            except Exception as exc:
                # Workbenches should report failures as results; one that raises still must not end the run.
                yield _ended(span, _error(call, f"Error: {type(exc).__name__}: {exc}"))
                return
            if tool_result is None:
                yield _ended(span, _error(call, f"Error: tool '{call.name}' produced no result"))
                return
            yield _ended(
                span,
                FunctionExecutionResult(
                    content=tool_result.to_text(),
                    name=call.name,
                    call_id=call.id,
                    is_error=tool_result.is_error,
                ),
            )
        except BaseException as exc:
            if span is not None:
                span.close(exc)
            raise

    @staticmethod
    async def _run_handoff_tool(
        tool: BaseTool[Any, Any],
        call: FunctionCall,
        arguments: Mapping[str, Any],
        cancellation_token: CancellationToken,
    ) -> FunctionExecutionResult:
        try:
            value = await tool.run_json(arguments, cancellation_token, call_id=call.id)
        except Exception as exc:
            return _error(call, f"Error: {exc}")
        return FunctionExecutionResult(
            content=tool.return_value_as_string(value), name=call.name, call_id=call.id, is_error=False
        )

    def handoff_response(
        self,
        model_result: CreateResult,
        executed: Sequence[ExecutedCall],
        inner_messages: list[_Event],
    ) -> Response | None:
        """The HandoffMessage response if the model called a handoff tool, else ``None``.

        The target agent gets, as ``context``, the ordinary tool calls made alongside the
        handoff and their results (or the model's thought when there were none), so it
        can carry on without redoing that work. Only the first handoff is honoured.
        """
        handoffs = self._handoffs
        if not handoffs:
            return None
        requested = [c for c in model_result.content if isinstance(c, FunctionCall) and c.name in handoffs]
        if not requested:
            return None
        selected = handoffs[requested[0].name]
        if len(requested) > 1:
            warnings.warn(
                f"Multiple handoffs detected. Only the first is executed: "
                f"{[handoffs[c.name].name for c in requested]}. "
                "Disable parallel tool calls in the model client to avoid this warning.",
                stacklevel=3,
            )
        message = selected.message
        other_calls: list[FunctionCall] = []
        other_results: list[FunctionExecutionResult] = []
        for call, result in executed:
            if call.name not in handoffs:
                other_calls.append(call)
                other_results.append(result)
            elif call.name == selected.name:
                message = result.content
        context: list[LLMMessage] = []
        if other_calls:
            context.append(
                AssistantMessage(content=other_calls, source=self._agent_name, thought=model_result.thought)
            )
            context.append(FunctionExecutionResultMessage(content=other_results))
        elif model_result.thought:
            context.append(AssistantMessage(content=model_result.thought, source=self._agent_name))
        return Response(
            chat_message=HandoffMessage(
                content=message, target=selected.target, source=self._agent_name, context=context
            ),
            inner_messages=inner_messages,
        )

    def summary_response(
        self,
        executed: Sequence[ExecutedCall],
        inner_messages: list[_Event],
        summary_format: str,
        formatter: ToolCallSummaryFormatter | None,
    ) -> Response:
        """The ToolCallSummaryMessage that ends a turn without reflection."""
        handoffs = self._handoffs
        normal = [(c, r) for c, r in executed if c.name not in handoffs]
        if formatter is None:

            def formatter(call: FunctionCall, result: FunctionExecutionResult) -> str:
                return summary_format.format(
                    tool_name=call.name,
                    arguments=call.arguments,
                    result=result.content,
                    is_error=result.is_error,
                )

        return Response(
            chat_message=ToolCallSummaryMessage(
                content="\n".join(formatter(c, r) for c, r in normal),
                source=self._agent_name,
                tool_calls=[c for c, _ in normal],
                results=[r for _, r in normal],
            ),
            inner_messages=inner_messages,
        )
