"""AssistantAgent: a model-driven agent that can call tools, hand off, remember and answer in structure."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel

from muster import messages as _messages
from muster.base import Response
from muster.core import CancellationToken, Component
from muster.core.internal import LazyClassAttribute, construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, TextMessage
from muster.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from muster.models import ChatCompletionClient, CreateResult, SystemMessage

from ._base_chat_agent import BaseChatAgent
from ._model_turn import ModelTurn, new_message_id

if TYPE_CHECKING:
    from muster.base import Handoff
    from muster.core.internal import ToolSchema
    from muster.memory import Memory
    from muster.messages import MemoryQueryEvent, StructuredMessageFactory
    from muster.tools import BaseTool, FunctionTool, Workbench

    from ._assistant_agent_config import AssistantAgentConfig
    from ._tool_execution import ExecutedCall, ToolCallSummaryFormatter, ToolExecutor

__all__ = ["AssistantAgent", "AssistantAgentConfig"]

_DEFAULT_DESCRIPTION = "An agent that provides assistance with ability to use tools."
_DEFAULT_SYSTEM_MESSAGE = (
    "You are a helpful AI assistant. Solve tasks using your tools. "
    "Reply with TERMINATE when the task has been completed."
)

_STATE_VERSION = "1.0.0"
"""``AssistantAgentState.version``: the format :meth:`AssistantAgent.save_state` writes."""

_NO_HANDOFFS: Mapping[str, Handoff] = MappingProxyType({})
"""The handoffs of every agent that has none (shared: agents never change their handoffs)."""

if TYPE_CHECKING:
    ToolLike = BaseTool[Any, Any] | Callable[..., Any] | Callable[..., Awaitable[Any]]
    """What ``tools=`` accepts: tools, or plain (async) functions wrapped in FunctionTool."""


_function_tools: weakref.WeakKeyDictionary[Callable[..., Any], FunctionTool] = weakref.WeakKeyDictionary()
"""FunctionTools already built for plain functions.

Wrapping a function builds a pydantic model and a JSON schema: far more work than a whole
replayed run. Agents are often created per request with the same module-level functions,
so the wrapper is built once per function and shared; FunctionTool holds no per-agent
state, and AutoGen users share tool objects between agents all the time. Only
module-level functions are cached: the cached tool refers to its function, so a
closure or bound method used as a key would never be released.
"""


def _as_tool(tool: ToolLike) -> BaseTool[Any, Any]:
    # Loaded here, not with the module: an agent without tools never needs the tool
    # machinery (docs/performance.md, "Start-up").
    from muster.tools import BaseTool, FunctionTool

    if isinstance(tool, BaseTool):
        return tool
    if not callable(tool):
        raise ValueError(f"Unsupported tool type: {type(tool)}")

    description = getattr(tool, "__doc__", None) or ""
    if not inspect.isfunction(tool) or "<locals>" in tool.__qualname__:
        return FunctionTool(tool, description=description)
    cached = _function_tools.get(tool)
    if cached is not None and cached.description == description:
        return cached
    wrapped = FunctionTool(tool, description=description)
    _function_tools[tool] = wrapped
    return wrapped


def __getattr__(name: str) -> Any:
    # AssistantAgentConfig lives in its own module, loaded when a spec is dumped or loaded;
    # this keeps ``from muster.agents._assistant_agent import AssistantAgentConfig`` working.
    if name == "AssistantAgentConfig":
        from ._assistant_agent_config import AssistantAgentConfig

        return AssistantAgentConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AssistantAgent(BaseChatAgent, Component["AssistantAgentConfig"]):
    """An agent that answers with a model and can use tools, handoffs and memory.

    Each call adds the new messages to the model context, lets each memory enrich the
    context, then asks the model. A text reply ends the turn. Tool calls are executed
    (in parallel when the model asks for several) and then, up to
    ``max_tool_iterations`` times, the model is asked again with the results. A turn that
    ends on tool results either asks the model to reflect on them
    (``reflect_on_tool_use``) or returns a ToolCallSummaryMessage built from
    ``tool_call_summary_format``. Calling a handoff tool ends the turn with a
    HandoffMessage to its target.

    Args:
        name: The agent's name (a valid identifier).
        model_client: The model; must support function calling if tools or handoffs are given.
        tools: Tools, or plain functions (their docstring becomes the description).
            Cannot be combined with ``workbench``.
        workbench: One or more workbenches providing the tools instead.
        handoffs: Agents this one may hand off to, as names or :class:`Handoff`.
        model_context: What the model sees; an unbounded context by default.
        description: What the agent does, for teams choosing a speaker.
        system_message: First message of every prompt; ``None`` for none.
        model_client_stream: Stream the model's text as ModelClientStreamingChunkEvents.
        reflect_on_tool_use: Ask the model again after tool calls for a text answer.
            Defaults to True when ``output_content_type`` is set, else False.
        max_tool_iterations: How many rounds of tool calls one turn may run (>= 1).
        tool_call_summary_format: ``str.format`` template over ``tool_name``,
            ``arguments``, ``result`` and ``is_error`` for the summary message.
        tool_call_summary_formatter: A function rendering each call instead of the template.
        output_content_type: A pydantic model: the model answers in that structure and
            the agent returns a StructuredMessage.
        output_content_type_format: Template used for the StructuredMessage's text.
        memory: Memories queried before each model call.
        metadata: Free-form labels kept with the agent's spec.

    Raises:
        ValueError: bad tools, handoffs, iteration count, or tools for a model without
            function calling (same checks and messages as AutoGen).
        TypeError: ``memory`` is not a list.
    """

    if TYPE_CHECKING:
        component_config_schema = AssistantAgentConfig
    else:  # defined when first read, by a dump or a load (start-up, docs/performance.md)
        component_config_schema = LazyClassAttribute(
            "muster.agents._assistant_agent_config", "AssistantAgentConfig"
        )
    component_provider_override = "muster.agents.AssistantAgent"
    # AutoGen 0.7 writes version 2 (tools moved into the workbench); version 1 specs still load.
    component_version = 2

    def __init__(
        self,
        name: str,
        model_client: ChatCompletionClient,
        *,
        tools: list[ToolLike] | None = None,
        workbench: Workbench | Sequence[Workbench] | None = None,
        handoffs: list[Handoff | str] | None = None,
        model_context: ChatCompletionContext | None = None,
        description: str = _DEFAULT_DESCRIPTION,
        system_message: str | None = _DEFAULT_SYSTEM_MESSAGE,
        model_client_stream: bool = False,
        reflect_on_tool_use: bool | None = None,
        max_tool_iterations: int = 1,
        tool_call_summary_format: str = "{result}",
        tool_call_summary_formatter: ToolCallSummaryFormatter | None = None,
        output_content_type: type[BaseModel] | None = None,
        output_content_type_format: str | None = None,
        memory: Sequence[Memory] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name=name, description=description)
        # What an agent keeps is small and, where empty, shared: a service may hold thousands
        # of agents (docs/performance.md, "Memory per agent"). Nothing per agent is built
        # before the agent needs it: the tool executor waits for the first turn, and the
        # system message is kept as its text.
        self._metadata = metadata
        self._model_client = model_client
        self._model_client_stream = model_client_stream
        self._output_content_type = output_content_type
        self._output_content_type_format = output_content_type_format
        self._structured_message_factory: StructuredMessageFactory | None = None
        if output_content_type is not None:
            self._structured_message_factory = _messages.StructuredMessageFactory(
                input_model=output_content_type, format_string=output_content_type_format
            )
        if memory is not None and not isinstance(memory, list | tuple):
            raise TypeError(f"Expected Memory, List[Memory], or None, got {type(memory)}")
        self._memory: list[Memory] | None = list(memory) if memory is not None else None
        self._system_message = system_message

        function_calling = model_client.model_info["function_calling"]
        self._tools: Sequence[BaseTool[Any, Any]] = ()
        if tools is not None:
            if function_calling is False:
                raise ValueError("The model does not support function calling.")
            self._tools = [_as_tool(t) for t in tools]
        tool_names = [t.name for t in self._tools]
        if len(tool_names) != len(set(tool_names)):
            raise ValueError(f"Tool names must be unique: {tool_names}")

        self._handoffs: Mapping[str, Handoff] = _NO_HANDOFFS
        if handoffs is not None:
            if function_calling is False:
                raise ValueError("The model does not support function calling, which is needed for handoffs.")
            self._handoffs = self._index_handoffs(handoffs, set(tool_names))

        # None: the default workbench of an agent without tools, built when first needed
        # (see ``_workbench``): a plain agent loads no tool machinery and holds no workbench.
        self._workbenches: list[Workbench] | None = None
        if workbench is not None:
            if self._tools:
                raise ValueError("Tools cannot be used with a workbench.")
            self._workbenches = list(workbench) if isinstance(workbench, Sequence) else [workbench]
        elif self._tools:
            self._workbenches = self._default_workbench()
        self._model_context = model_context if model_context is not None else UnboundedChatCompletionContext()

        if reflect_on_tool_use is None:
            reflect_on_tool_use = output_content_type is not None
        self._reflect_on_tool_use = reflect_on_tool_use
        if max_tool_iterations < 1:
            raise ValueError(
                "Maximum number of tool iterations must be greater than or equal to 1, "
                f"got {max_tool_iterations}"
            )
        self._max_tool_iterations = max_tool_iterations
        self._tool_call_summary_format = tool_call_summary_format
        self._tool_call_summary_formatter = tool_call_summary_formatter
        self._tool_executor: ToolExecutor | None = None

    @staticmethod
    def _index_handoffs(handoffs: Sequence[Handoff | str], tool_names: set[str]) -> dict[str, Handoff]:
        from muster.base import Handoff

        indexed: dict[str, Handoff] = {}
        for item in handoffs:
            if isinstance(item, str):
                handoff = Handoff(target=item)
            elif isinstance(item, Handoff):
                handoff = item
            else:
                raise ValueError(f"Unsupported handoff type: {type(item)}")
            if handoff.name in indexed:
                raise ValueError(f"Handoff names must be unique: {[*indexed, handoff.name]}")
            if handoff.name in tool_names or handoff.target in tool_names:
                raise ValueError("Handoff names must be unique from tool names")
            indexed[handoff.name] = handoff
        return indexed

    def _default_workbench(self) -> list[Workbench]:
        from muster.tools import StaticStreamWorkbench

        # The streaming workbench forwards the inner events of AgentTool/TeamTool calls.
        return [StaticStreamWorkbench(self._tools)]

    @property
    def _workbench(self) -> list[Workbench]:
        """The workbenches serving the agent's tools (AutoGen's attribute).

        An agent given neither tools nor a workbench gets an empty default one, as in
        AutoGen, but only when something asks for it (a dump, a tool call the model made up).
        """
        workbenches = self._workbenches
        if workbenches is None:
            workbenches = self._workbenches = self._default_workbench()
        return workbenches

    @_workbench.setter
    def _workbench(self, workbenches: list[Workbench]) -> None:
        self._workbenches = workbenches
        self._tool_executor = None

    @property
    def _executor(self) -> ToolExecutor:
        """Routes the model's tool calls; built on the agent's first turn that needs it."""
        executor = self._tool_executor
        if executor is None:
            from ._tool_execution import ToolExecutor

            executor = self._tool_executor = ToolExecutor(self.name, self._workbench, self._handoffs)
        return executor

    async def _list_tools(self) -> list[ToolSchema]:
        """What the model is offered: nothing, without building anything, for a plain agent."""
        if self._workbenches is None and not self._handoffs and self._tool_executor is None:
            return []
        return await self._executor.list_tools()

    @property
    def _handoff_tools(self) -> list[BaseTool[Any, Any]]:
        """The tools the model calls to hand off (AutoGen's attribute, computed here)."""
        return [h.handoff_tool for h in self._handoffs.values()]

    @property
    def _system_messages(self) -> list[SystemMessage]:
        """The system messages each prompt starts with: none, or one (AutoGen's attribute).

        Built afresh on each access from the text the agent keeps; assign a list of at most
        one ``SystemMessage`` to change the system message.
        """
        text = self._system_message
        return [] if text is None else [construct_trusted(SystemMessage, content=text)]

    @_system_messages.setter
    def _system_messages(self, messages: Sequence[SystemMessage]) -> None:
        if len(messages) > 1:
            raise ValueError("An AssistantAgent has at most one system message")
        self._system_message = messages[0].content if messages else None

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """Text, tool summaries and handoffs; structured messages too with ``output_content_type``."""
        types: list[type[BaseChatMessage]] = [
            TextMessage,
            _messages.ToolCallSummaryMessage,
            _messages.HandoffMessage,
        ]
        if self._structured_message_factory is not None:
            types.append(_messages.StructuredMessage)
        return types

    @property
    def model_context(self) -> ChatCompletionContext:
        """The context holding this agent's conversation with its model."""
        return self._model_context

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Handle new messages and return the final Response (the stream, drained).

        Drained to its end, not left at the Response: what the turn holds (a leased model
        client, see :meth:`model_client_for_turn`) is released before this returns.
        """
        response: Response | None = None
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                response = item
        if response is None:
            raise AssertionError("The stream should have returned the final result.")
        return response

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Handle new messages, yielding every event as it happens and the Response last.

        Raises:
            StructuredOutputError: with ``output_content_type``, the model's final reply
                does not validate. The model context is restored to what it was before
                this call (the new messages, memory and model turns of the call are all
                undone), so the caller can retry the same call or carry on as if it had
                not happened; tools the model called during the turn did run, though.
        """
        if self._structured_message_factory is None:
            async for item in self._respond(messages, cancellation_token):
                yield item
            return
        # Only a structured reply can be refused after the call has changed the context, so
        # only structured agents pay for the snapshot (a copy of the whole context), and
        # only they load the exceptions.
        from .exceptions import StructuredOutputError

        context = self._model_context
        snapshot = await context.save_state()
        try:
            async for item in self._respond(messages, cancellation_token):
                yield item
        except StructuredOutputError:
            await context.load_state(snapshot)
            raise

    def model_client_for_turn(self) -> AbstractAsyncContextManager[ChatCompletionClient]:
        """The model client one turn uses, held for the whole turn (tool rounds, reflection).

        By default the agent's own ``model_client``. Override it to lease a client per
        turn instead: :class:`muster.ops.PooledAgent` borrows one from a pool and gives it
        back when the turn ends, however it ends.
        """
        return nullcontext(self._model_client)

    def _respond(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        if type(self).model_client_for_turn is AssistantAgent.model_client_for_turn:
            # The agent's own client: no lease to hold, no extra generator layer per turn.
            return self._respond_with(self._model_client, messages, cancellation_token)
        return self._respond_leased(messages, cancellation_token)

    async def _respond_leased(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        async with self.model_client_for_turn() as model_client:
            async for item in self._respond_with(model_client, messages, cancellation_token):
                yield item

    async def _respond_with(
        self,
        model_client: ChatCompletionClient,
        messages: Sequence[BaseChatMessage],
        cancellation_token: CancellationToken,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        name = self.name
        context = self._model_context
        for msg in messages:
            # A TextMessage (most messages) is no handoff: the check loads no other message class.
            if type(msg) is not TextMessage and isinstance(msg, _messages.HandoffMessage):
                # The handing-off agent's tool work travels with the handoff.
                for llm_message in msg.context:
                    await context.add_message(llm_message)
            await context.add_message(msg.to_model_message())

        inner: list[BaseAgentEvent | BaseChatMessage] = []
        for memory_event in await self._query_memory():
            inner.append(memory_event)
            yield memory_event

        turn = ModelTurn(
            agent_name=name,
            model_client=model_client,
            model_context=context,
            system_messages=self._system_messages,
            stream=self._model_client_stream,
            output_content_type=self._output_content_type,
            structured_factory=self._structured_message_factory,
            format_string=self._output_content_type_format,
        )
        message_id = new_message_id()
        executed: list[ExecutedCall] = []
        for _ in range(self._max_tool_iterations):
            result: CreateResult | None = None
            async for item in turn.call(await self._list_tools(), cancellation_token, message_id):
                if isinstance(item, CreateResult):
                    result = item
                else:
                    yield item
            assert result is not None
            thought = turn.thought_event(result, message_id)
            if thought is not None:
                inner.append(thought)
                yield thought
                # The answer that follows a thought is a different message from the chunks so far.
                message_id = new_message_id()
            await turn.record(result)

            if isinstance(result.content, str):
                yield Response(chat_message=turn.final_message(result, message_id), inner_messages=inner)
                return

            executor = self._executor
            request = _messages.ToolCallRequestEvent(
                content=result.content, source=name, models_usage=result.usage
            )
            inner.append(request)
            yield request
            async for event in executor.execute(result.content, cancellation_token):
                if isinstance(event, list):
                    executed = event
                else:
                    inner.append(event)
                    yield event
            results = [r for _, r in executed]
            execution = _messages.ToolCallExecutionEvent(content=results, source=name)
            from muster.models import FunctionExecutionResultMessage  # defined by the first tool round

            await context.add_message(FunctionExecutionResultMessage(content=results))
            inner.append(execution)
            yield execution

            handoff = executor.handoff_response(result, executed, inner)
            if handoff is not None:
                yield handoff
                return

        if self._reflect_on_tool_use:
            async for reflected in turn.reflect(cancellation_token, inner):
                yield reflected
        else:
            yield self._executor.summary_response(
                executed, inner, self._tool_call_summary_format, self._tool_call_summary_formatter
            )

    async def _query_memory(self) -> list[MemoryQueryEvent]:
        if not self._memory:
            return []
        events: list[MemoryQueryEvent] = []
        for memory in self._memory:
            update = await memory.update_context(self._model_context)
            if update and update.memories.results:
                events.append(_messages.MemoryQueryEvent(content=update.memories.results, source=self.name))
        return events

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation (clears the model context)."""
        await self._model_context.clear()

    async def save_state(self) -> Mapping[str, Any]:
        """The model context's and the memories' states in an :class:`~muster.state.AssistantAgentState`.

        Memories are saved because items added while running are in no spec: an agent
        resumed in a fresh process would otherwise recall less, and prompt differently.
        An agent without memories saves no ``memory_states`` key, exactly AutoGen's state.
        """
        # A plain dict with the model's tags, not a model dump: the dump would walk (and
        # copy) the whole context again, and durable runs save state at every turn.
        state: dict[str, Any] = {
            "type": "AssistantAgentState",
            "version": _STATE_VERSION,
            "llm_context": await self._model_context.save_state(),
        }
        if self._memory:
            state["memory_states"] = [await memory.save_state() for memory in self._memory]
        return state

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the model context and memories saved by :meth:`save_state`.

        Everything is checked before anything changes. A state without ``memory_states``
        (saved by AutoGen, or by an agent without memories) leaves the memories as they are.

        Raises:
            StateError: the state does not fit this agent (wrong ``type`` or ``version``,
                a malformed field, not one memory state per memory); the message names
                the field and the agent is unchanged.
        """
        # Loaded here: saving and loading state is not every agent's business.
        from muster.base.internal import StatePlan, parse_state
        from muster.state import AssistantAgentState

        from ._memory_state import plan_memory_states

        saved = parse_state(AssistantAgentState, state)
        plan = StatePlan()
        plan.load("llm_context", self._model_context, saved.llm_context)
        if saved.memory_states is not None:
            plan.include(plan_memory_states(self._memory or [], saved.memory_states), "")
        await plan.run()

    async def close(self) -> None:
        """Nothing to release here: the model client is shared and closed by its owner."""

    def _to_config(self) -> AssistantAgentConfig:
        from ._assistant_agent_config import AssistantAgentConfig

        system_message = self._system_message
        factory = self._structured_message_factory
        return AssistantAgentConfig(
            name=self.name,
            model_client=self._model_client.dump_component(),
            tools=None,
            workbench=[wb.dump_component() for wb in self._workbench] if self._workbench else None,
            handoffs=list(self._handoffs.values()) if self._handoffs else None,
            model_context=self._model_context.dump_component(),
            memory=[m.dump_component() for m in self._memory] if self._memory else None,
            description=self.description,
            system_message=system_message,
            model_client_stream=self._model_client_stream,
            reflect_on_tool_use=self._reflect_on_tool_use,
            max_tool_iterations=self._max_tool_iterations,
            tool_call_summary_format=self._tool_call_summary_format,
            structured_message_factory=factory.dump_component() if factory is not None else None,
            metadata=self._metadata or {},
        )

    @classmethod
    def _from_config_past_version(cls, config: dict[str, Any], version: int) -> Self:
        """Version 1 specs carried tools in ``tools``; the current schema still reads that field."""
        from ._assistant_agent_config import AssistantAgentConfig

        return cls._from_config(AssistantAgentConfig.model_validate(config))

    @classmethod
    def _from_config(cls, config: AssistantAgentConfig) -> Self:
        from muster.memory import Memory
        from muster.tools import BaseTool, Workbench

        output_content_type: type[BaseModel] | None = None
        format_string: str | None = None
        if config.structured_message_factory is not None:
            factory = _messages.StructuredMessageFactory.load_component(config.structured_message_factory)
            output_content_type = factory.ContentModel
            format_string = factory.format_string
        return cls(
            name=config.name,
            model_client=ChatCompletionClient.load_component(config.model_client),
            tools=[BaseTool.load_component(t) for t in config.tools] if config.tools else None,
            workbench=[Workbench.load_component(wb) for wb in config.workbench] if config.workbench else None,
            handoffs=list(config.handoffs) if config.handoffs else None,
            model_context=(
                ChatCompletionContext.load_component(config.model_context) if config.model_context else None
            ),
            memory=[Memory.load_component(m) for m in config.memory] if config.memory else None,
            description=config.description,
            system_message=config.system_message,
            model_client_stream=config.model_client_stream,
            reflect_on_tool_use=config.reflect_on_tool_use,
            max_tool_iterations=config.max_tool_iterations,
            tool_call_summary_format=config.tool_call_summary_format,
            output_content_type=output_content_type,
            output_content_type_format=format_string,
            metadata=config.metadata,
        )
