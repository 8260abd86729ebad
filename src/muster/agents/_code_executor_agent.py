"""CodeExecutorAgent: runs the code in a conversation, or writes, runs and explains code with a model."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import re
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from muster import TRACE_LOGGER_NAME
from muster.base import Response
from muster.base.internal import StatePlan, parse_state
from muster.code_executor import CodeBlock, CodeExecutor, CodeResult
from muster.code_executor.exceptions import ApprovalNotSerializableError, CodeExecutionConfigError
from muster.core import CancellationToken, Component, ComponentModel
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    CodeExecutionEvent,
    CodeGenerationEvent,
    HandoffMessage,
    TextMessage,
    ThoughtEvent,
)
from muster.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from muster.models import ChatCompletionClient, CreateResult, LLMMessage, SystemMessage, UserMessage
from muster.state import BaseState

from ._base_chat_agent import BaseChatAgent
from ._model_turn import ModelTurn, new_message_id
from .exceptions import ModelTurnError

__all__ = [
    "ApprovalFuncType",
    "ApprovalRequest",
    "ApprovalResponse",
    "AsyncApprovalFunc",
    "CodeExecutorAgent",
    "CodeExecutorAgentConfig",
    "CodeExecutorAgentState",
    "RetryDecision",
    "SyncApprovalFunc",
]

logger = logging.getLogger(TRACE_LOGGER_NAME)


class ApprovalRequest(BaseModel):
    """What an approval function is shown before any code runs."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    code: str
    """All blocks about to run, each in its markdown fence."""
    context: list[LLMMessage]
    """The conversation that led to the code, as the model sees it."""


class ApprovalResponse(BaseModel):
    """An approval function's verdict."""

    model_config = ConfigDict(defer_build=True)

    approved: bool
    reason: str
    """Why; on a denial it is reported in place of the code's output."""


SyncApprovalFunc = Callable[[ApprovalRequest], ApprovalResponse]
AsyncApprovalFunc = Callable[[ApprovalRequest], Awaitable[ApprovalResponse]]
ApprovalFuncType = SyncApprovalFunc | AsyncApprovalFunc
"""A function (plain or async) deciding whether code may run."""


class RetryDecision(BaseModel):
    """The model's structured answer to "the code failed: try again?"."""

    model_config = ConfigDict(defer_build=True)

    reason: str
    retry: bool


class CodeExecutorAgentConfig(BaseModel):
    """The declarative spec of a CodeExecutorAgent: AutoGen's fields plus ``max_retries_on_error``.

    The approval function is code and never part of a spec.
    """

    model_config = ConfigDict(defer_build=True)

    name: str
    code_executor: ComponentModel
    model_client: ComponentModel | None = None
    description: str | None = None
    sources: list[str] | None = None
    system_message: str | None = None
    model_client_stream: bool = False
    model_context: ComponentModel | None = None
    supported_languages: list[str] | None = None
    max_retries_on_error: int = Field(default=0, ge=0)
    """Not in AutoGen's spec (which silently resets it to 0); AutoGen ignores the extra field."""


class CodeExecutorAgentState(BaseState):
    """A CodeExecutorAgent's model context, as saved by the context's own ``save_state``."""

    llm_context: Mapping[str, Any] = Field(default_factory=lambda: {"messages": []})
    type: str = Field(default="CodeExecutorAgentState")


_RETRY_PROMPT = (
    "Running the code failed:\n{output}\n\n"
    "Decide whether another attempt can fix it. Answer with 'retry' (true or false) and a "
    "'reason' naming the cause of the failure and, if you retry, how the next version fixes it."
)


class CodeExecutorAgent(BaseChatAgent, Component[CodeExecutorAgentConfig]):
    """An agent that executes code found in messages, or generates code with a model and executes it.

    .. warning::
        The code runs wherever ``code_executor`` runs it; with
        :class:`~muster.code_executors.local.LocalCommandLineCodeExecutor` that is your
        machine, with your permissions. Give an ``approval_func`` to review code first.

    Without ``model_client`` the agent is a terminal: it collects the fenced blocks in a
    supported language (```` ```python ````, ```` ```sh ````) from the new TextMessages
    (from ``sources`` only, if given), runs them, and answers with their output, or with
    :attr:`NO_CODE_BLOCKS_FOUND_MESSAGE` when there were none.

    With ``model_client`` the agent asks the model for code, reports it as a
    CodeGenerationEvent, runs it and reports a CodeExecutionEvent. A failed run is offered
    to the model, which decides in a structured answer whether to try again, up to
    ``max_retries_on_error`` times. The model then reflects on the final output and its
    reply is the agent's answer. A model reply without code is the answer directly.

    When ``approval_func`` is set it sees every batch of code before it runs; a denial
    becomes the result (exit code 1, ``"Code execution was not approved. Reason: ..."``),
    which the model (or the next agent) reads like any other failure.

    Differences from AutoGen, on purpose: ``run()`` returns the code events that
    ``run_stream()`` yields (AutoGen's ``run()`` drops them); retries do not add the new
    messages to the model context a second time; ``on_reset`` clears the model context;
    the model context is saved by ``save_state``; the spec keeps ``max_retries_on_error``.

    Args:
        name: The agent's name (a valid identifier).
        code_executor: Runs the code.
        model_client: Writes the code; without it the agent only executes.
        model_context: What the model sees; an unbounded context by default.
        model_client_stream: Stream the model's text as ModelClientStreamingChunkEvents.
        max_retries_on_error: Extra generate-and-run rounds after a failure; needs a model
            client with structured output.
        description: Defaults to a terminal description without a model, an agent one with.
        system_message: First message of every prompt; ``None`` for none. Only with a model.
        sources: Only run code from messages by these sources (no-model mode).
        supported_languages: Fence languages to extract; ``["python", "sh"]`` by default.
        approval_func: Decides, plain or async, whether each batch of code may run. A
            plain function runs on the event loop: one that waits for a human should be async.

    Raises:
        CodeExecutionConfigError: ``max_retries_on_error`` is negative, or positive without a
            model client that supports structured output.
    """

    component_config_schema = CodeExecutorAgentConfig
    component_provider_override = "muster.agents.CodeExecutorAgent"

    DEFAULT_TERMINAL_DESCRIPTION: ClassVar[str] = (
        "A computer terminal that performs no other action than running Python scripts (provided to it "
        "quoted in ```python code blocks), or sh shell scripts (provided to it quoted in ```sh code blocks)."
    )
    DEFAULT_AGENT_DESCRIPTION: ClassVar[str] = (
        "A Code Execution Agent that generates and executes Python and shell scripts based on user "
        "instructions. It ensures correctness, efficiency, and minimal errors while gracefully handling "
        "edge cases."
    )
    DEFAULT_SYSTEM_MESSAGE: ClassVar[str] = (
        "You are a Code Execution Agent. Your role is to generate and execute Python code and shell scripts "
        "based on user instructions, ensuring correctness, efficiency, and minimal errors. Handle edge cases "
        "gracefully. Python code should be provided in ```python code blocks, and sh shell scripts should be "
        "provided in ```sh code blocks for execution."
    )
    NO_CODE_BLOCKS_FOUND_MESSAGE: ClassVar[str] = (
        "No code blocks found in the thread. Please provide at least one markdown-encoded code block to "
        "execute (i.e., quoting code in ```python or ```sh code blocks)."
    )
    DEFAULT_SUPPORTED_LANGUAGES: ClassVar[list[str]] = ["python", "sh"]

    def __init__(
        self,
        name: str,
        code_executor: CodeExecutor,
        *,
        model_client: ChatCompletionClient | None = None,
        model_context: ChatCompletionContext | None = None,
        model_client_stream: bool = False,
        max_retries_on_error: int = 0,
        description: str | None = None,
        system_message: str | None = DEFAULT_SYSTEM_MESSAGE,
        sources: Sequence[str] | None = None,
        supported_languages: list[str] | None = None,
        approval_func: ApprovalFuncType | None = None,
    ) -> None:
        if description is None:
            description = (
                self.DEFAULT_TERMINAL_DESCRIPTION if model_client is None else self.DEFAULT_AGENT_DESCRIPTION
            )
        super().__init__(name=name, description=description)
        if approval_func is None:
            warnings.warn(
                f"CodeExecutorAgent {name!r} has no approval_func: code will run without review. "
                "Pass an approval_func to inspect code (and its context) before it runs.",
                UserWarning,
                stacklevel=2,
            )
        if max_retries_on_error < 0:
            raise CodeExecutionConfigError(
                "max_retries_on_error", f"must be 0 or more, got {max_retries_on_error}"
            )
        if max_retries_on_error > 0 and (
            model_client is None or not model_client.model_info.get("structured_output", False)
        ):
            raise CodeExecutionConfigError(
                "max_retries_on_error",
                "retrying needs a model_client whose model_info has structured_output, "
                "because the model decides about retries in a structured answer",
            )
        self._code_executor = code_executor
        self._model_client = model_client
        self._model_context = model_context if model_context is not None else UnboundedChatCompletionContext()
        self._model_client_stream = model_client_stream
        self._max_retries_on_error = max_retries_on_error
        self._system_messages = [] if system_message is None else [SystemMessage(content=system_message)]
        self._sources = list(sources) if sources is not None else None
        self._supported_languages = list(
            supported_languages if supported_languages is not None else self.DEFAULT_SUPPORTED_LANGUAGES
        )
        languages = "|".join(re.escape(language) for language in self._supported_languages)
        # The fence's language must be one we run, alone on its line; the code runs to the
        # next fence. Case-insensitive: models write ```Python too.
        self._code_block_pattern = re.compile(
            rf"```[ \t]*(?P<language>{languages})[ \t]*\r?\n(?P<code>.*?)```", re.IGNORECASE | re.DOTALL
        )
        self._approval_func = approval_func
        self._unrecorded_messages: Sequence[BaseChatMessage] = ()
        """Messages of the current no-model call: never put in the model context, yet the
        approval function must see what it is approving."""

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """Only text: the code's output, the model's reflection, or the no-code notice."""
        return (TextMessage,)

    @property
    def model_context(self) -> ChatCompletionContext:
        """The context holding this agent's conversation with its model."""
        return self._model_context

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Handle new messages and return the final Response (the stream, drained)."""
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                return item
        raise AssertionError("The stream should have returned the final result.")

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Handle new messages, yielding code events as they happen and the Response last."""
        if self._model_client is None:
            yield await self._execute_from_messages(messages, cancellation_token)
            return
        async for item in self._generate_and_execute(self._model_client, messages, cancellation_token):
            yield item

    async def _execute_from_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        code_blocks = await self.extract_code_blocks_from_messages(messages)
        if not code_blocks:
            return Response(
                chat_message=TextMessage(content=self.NO_CODE_BLOCKS_FOUND_MESSAGE, source=self.name)
            )
        # Agents handle one call at a time, so an attribute can carry the messages to the
        # approval check without changing execute_code_block's (overridable) signature.
        self._unrecorded_messages = messages
        try:
            result = await self.execute_code_block(code_blocks, cancellation_token)
        finally:
            self._unrecorded_messages = ()
        return Response(chat_message=TextMessage(content=result.output, source=self.name))

    async def _generate_and_execute(
        self,
        model_client: ChatCompletionClient,
        messages: Sequence[BaseChatMessage],
        cancellation_token: CancellationToken,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        name = self.name
        context = self._model_context
        for msg in messages:
            if isinstance(msg, HandoffMessage):
                for llm_message in msg.context:
                    await context.add_message(llm_message)
            await context.add_message(msg.to_model_message())
        turn = ModelTurn(
            agent_name=name,
            model_client=model_client,
            model_context=context,
            system_messages=self._system_messages,
            stream=self._model_client_stream,
            output_content_type=None,
            structured_factory=None,
            format_string=None,
        )
        inner: list[BaseAgentEvent | BaseChatMessage] = []
        for attempt in range(self._max_retries_on_error + 1):
            message_id = new_message_id()
            result: CreateResult | None = None
            async for item in turn.call((), cancellation_token, message_id):
                if isinstance(item, CreateResult):
                    result = item
                else:
                    yield item
            assert result is not None
            for event in self._thought(result, inner):
                yield event
            await turn.record(result)
            if not isinstance(result.content, str):
                raise ModelTurnError(name, "the model answered with function calls; it was asked for code")
            code_blocks = self._extract_markdown_code_blocks(result.content)
            if not code_blocks:
                answer = TextMessage(
                    content=result.content, source=name, models_usage=result.usage, id=message_id
                )
                yield Response(chat_message=answer, inner_messages=inner)
                return

            generation = CodeGenerationEvent(
                retry_attempt=attempt,
                content=result.content,
                code_blocks=code_blocks,
                source=name,
                models_usage=result.usage,
                id=message_id,
            )
            inner.append(generation)
            yield generation
            executed = await self.execute_code_block(code_blocks, cancellation_token)
            await context.add_message(UserMessage(content=executed.output, source=name))
            execution = CodeExecutionEvent(retry_attempt=attempt, result=executed, source=name)
            inner.append(execution)
            yield execution
            if executed.exit_code == 0 or attempt == self._max_retries_on_error:
                break
            decision = await self._decide_retry(turn, model_client, executed, cancellation_token)
            if decision is None or not decision.retry:
                break
            plan = CodeGenerationEvent(
                retry_attempt=attempt,
                content=f"Attempt number: {attempt + 1}\nProposed correction: {decision.reason}",
                code_blocks=[],
                source=name,
            )
            inner.append(plan)
            yield plan

        async for reflected in self._reflect(turn, cancellation_token, inner):
            yield reflected

    def _thought(
        self, result: CreateResult, inner: list[BaseAgentEvent | BaseChatMessage]
    ) -> list[ThoughtEvent]:
        if not result.thought:
            return []
        thought = ThoughtEvent(content=result.thought, source=self.name)
        inner.append(thought)
        return [thought]

    async def _decide_retry(
        self,
        turn: ModelTurn,
        model_client: ChatCompletionClient,
        executed: CodeResult,
        cancellation_token: CancellationToken,
    ) -> RetryDecision | None:
        """Ask the model whether to try again; None (stop retrying) if its answer is unusable.

        The question is not added to the context: only the code and its output belong
        to the conversation the model later reflects on.
        """
        prompt = [
            *await turn.prompt(),
            UserMessage(content=_RETRY_PROMPT.format(output=executed.output), source=self.name),
        ]
        response = await model_client.create(
            prompt, json_output=RetryDecision, cancellation_token=cancellation_token
        )
        if isinstance(response.content, str):
            try:
                return RetryDecision.model_validate_json(response.content)
            except ValidationError as exc:
                # One malformed answer should not throw away a run whose result we can still explain.
                logger.warning("Agent %s: unusable retry decision, not retrying: %s", self.name, exc)
                return None
        logger.warning("Agent %s: the retry decision was not text, not retrying", self.name)
        return None

    async def _reflect(
        self,
        turn: ModelTurn,
        cancellation_token: CancellationToken,
        inner: list[BaseAgentEvent | BaseChatMessage],
    ) -> AsyncGenerator[BaseAgentEvent | Response, None]:
        message_id = new_message_id()
        result: CreateResult | None = None
        async for item in turn.call((), cancellation_token, message_id):
            if isinstance(item, CreateResult):
                result = item
            else:
                yield item
        if result is None or not isinstance(result.content, str):
            raise ModelTurnError(self.name, "reflecting on the code's output produced no text response")
        for event in self._thought(result, inner):
            yield event
        await turn.record(result)
        answer = TextMessage(
            content=result.content, source=self.name, models_usage=result.usage, id=message_id
        )
        yield Response(chat_message=answer, inner_messages=inner)

    async def extract_code_blocks_from_messages(self, messages: Sequence[BaseChatMessage]) -> list[CodeBlock]:
        """The supported code blocks in the TextMessages of ``messages`` (from ``sources`` only, if set)."""
        code_blocks: list[CodeBlock] = []
        for msg in messages:
            if isinstance(msg, TextMessage) and (self._sources is None or msg.source in self._sources):
                code_blocks.extend(self._extract_markdown_code_blocks(msg.content))
        return code_blocks

    def _extract_markdown_code_blocks(self, markdown_text: str) -> list[CodeBlock]:
        return [
            CodeBlock(code=match["code"], language=match["language"])
            for match in self._code_block_pattern.finditer(markdown_text)
        ]

    async def execute_code_block(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        """Ask for approval, run the blocks, and phrase the output so a reader knows what happened.

        Empty output and failures get an explanation, because an empty reply or a bare
        traceback leaves the next agent (or model) guessing whether the code ran at all.

        Args:
            code_blocks: The blocks to run, in order.
            cancellation_token: Stops the execution.
        """
        denial = await self._check_approval(code_blocks)
        if denial is not None:
            return denial
        result = await self._code_executor.execute_code_blocks(
            code_blocks, cancellation_token=cancellation_token
        )
        if not result.output.strip():
            output = (
                "The script ran but produced no output to console. The POSIX exit code was: "
                f"{result.exit_code}. If you were expecting output, consider revising the script to "
                "ensure content is printed to stdout."
            )
        elif result.exit_code != 0:
            output = (
                f"The script ran, then exited with an error (POSIX exit code: {result.exit_code})\n"
                f"Its output was:\n{result.output}"
            )
        else:
            return result
        # A copy, so the executor's own result object (and subclass fields) stay intact.
        return dataclasses.replace(result, output=output)

    async def _check_approval(self, code_blocks: Sequence[CodeBlock]) -> CodeResult | None:
        """None if the code may run, else the result reporting the denial."""
        if self._approval_func is None:
            return None
        code = "\n\n".join(f"```{block.language}\n{block.code}\n```" for block in code_blocks)
        context: list[LLMMessage] = list(await self._model_context.get_messages())
        context.extend(msg.to_model_message() for msg in self._unrecorded_messages)
        verdict = self._approval_func(ApprovalRequest(code=code, context=context))
        # Checked on the value, not the function, so partials and callable objects work too.
        response = await verdict if inspect.isawaitable(verdict) else verdict
        if response.approved:
            return None
        return CodeResult(exit_code=1, output=f"Code execution was not approved. Reason: {response.reason}")

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation with the model (clears the model context)."""
        await self._model_context.clear()

    async def save_state(self) -> Mapping[str, Any]:
        """The model context's state inside a :class:`CodeExecutorAgentState`."""
        llm_context = await self._model_context.save_state()
        return CodeExecutorAgentState(llm_context=llm_context).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a model context saved by :meth:`save_state`.

        A state saved by AutoGen's CodeExecutorAgent (a bare ``BaseState``) holds no
        context and leaves the agent as it is.

        Raises:
            StateError: the state does not fit this agent; the message names the field
                and the agent is unchanged.
        """
        if isinstance(state, Mapping) and state.get("type") == "BaseState":
            parse_state(BaseState, state)
            return
        saved = parse_state(CodeExecutorAgentState, state)
        plan = StatePlan()
        plan.load("llm_context", self._model_context, saved.llm_context)
        await plan.run()

    def _to_config(self) -> CodeExecutorAgentConfig:
        if self._approval_func is not None:
            raise ApprovalNotSerializableError(self.name)
        system_message = self._system_messages[0].content if self._system_messages else None
        return CodeExecutorAgentConfig(
            name=self.name,
            code_executor=self._code_executor.dump_component(),
            model_client=self._model_client.dump_component() if self._model_client is not None else None,
            description=self.description,
            sources=self._sources,
            system_message=system_message,
            model_client_stream=self._model_client_stream,
            model_context=self._model_context.dump_component(),
            supported_languages=self._supported_languages,
            max_retries_on_error=self._max_retries_on_error,
        )

    @classmethod
    def _from_config(cls, config: CodeExecutorAgentConfig) -> Self:
        return cls(
            name=config.name,
            code_executor=CodeExecutor.load_component(config.code_executor),
            model_client=(
                ChatCompletionClient.load_component(config.model_client) if config.model_client else None
            ),
            model_context=(
                ChatCompletionContext.load_component(config.model_context) if config.model_context else None
            ),
            model_client_stream=config.model_client_stream,
            max_retries_on_error=config.max_retries_on_error,
            description=config.description,
            system_message=config.system_message,
            sources=config.sources,
            supported_languages=config.supported_languages,
        )
