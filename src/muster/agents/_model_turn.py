"""Calling the model for an AssistantAgent: context assembly, streaming, thoughts and final messages."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from muster import messages as _messages
from muster.base import Response
from muster.core import CancellationToken
from muster.core.instrumentation import open_span
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, TextMessage
from muster.model_context import ChatCompletionContext
from muster.models import AssistantMessage, ChatCompletionClient, CreateResult, SystemMessage
from muster.models.usage import enter_usage_scope, restore_usage_scope

if TYPE_CHECKING:
    from muster.core.instrumentation import Span
    from muster.core.internal import ToolSchema
    from muster.messages import ModelClientStreamingChunkEvent, StructuredMessageFactory, ThoughtEvent
    from muster.models import LLMMessage

__all__ = ["ModelTurn", "new_message_id"]

_content = attrgetter("content")
_is_str = str.__instancecheck__


def new_message_id() -> str:
    """An id shared by a final message and the streaming chunks that preceded it."""
    return str(uuid.uuid4())


class ModelTurn:
    """Everything needed to ask the model for the next reply, captured for one run.

    Captured per run (not per agent) so that a subclass or user swapping the agent's
    model client or context between runs is honoured, as in AutoGen. A plain class with
    slots rather than a dataclass: the dataclass decorator generates and compiles its
    methods at import, about 0.4 ms of every process's start-up.
    """

    __slots__ = (
        "agent_name",
        "format_string",
        "model_client",
        "model_context",
        "output_content_type",
        "stream",
        "structured_factory",
        "system_messages",
    )

    def __init__(
        self,
        *,
        agent_name: str,
        model_client: ChatCompletionClient,
        model_context: ChatCompletionContext,
        system_messages: list[SystemMessage],
        stream: bool,
        output_content_type: type[BaseModel] | None,
        structured_factory: StructuredMessageFactory | None,
        format_string: str | None,
    ) -> None:
        self.agent_name = agent_name
        self.model_client = model_client
        self.model_context = model_context
        self.system_messages = system_messages
        self.stream = stream
        self.output_content_type = output_content_type
        self.structured_factory = structured_factory
        self.format_string = format_string

    async def prompt(self) -> Sequence[LLMMessage]:
        """System messages plus the context, without images unless the model has vision."""
        context_messages = await self.model_context.get_messages()
        messages: list[LLMMessage] = (
            [*self.system_messages, *context_messages] if self.system_messages else context_messages
        )
        if self.model_client.model_info["vision"]:
            return messages
        # Only a multi-part content can hold an image. With an unbounded context the prompt
        # is the whole history, every turn: when all contents are plain strings (any chat
        # without tool calls or images), this C-level scan is about 3x cheaper than
        # remove_images's per-message checks, and the result is the same new list.
        try:
            plain = all(map(_is_str, map(_content, messages)))
        except AttributeError:  # a foreign object in a custom context: let remove_images judge
            plain = False
        if plain:
            return messages if messages is not context_messages else list(messages)
        from muster.utils import remove_images  # loaded by the first prompt that may hold images

        return remove_images(messages)

    async def call(
        self,
        tools: Sequence[ToolSchema],
        cancellation_token: CancellationToken,
        message_id: str,
        *,
        reflection: bool = False,
    ) -> AsyncGenerator[ModelClientStreamingChunkEvent | CreateResult, None]:
        """Ask the model once: streamed text chunks (when streaming), then the CreateResult.

        ``reflection`` asks for a text answer with tools disabled, after tool calls.

        Raises:
            ModelTurnError: a streaming client ended without a CreateResult or sent
                something that is neither text nor a result.
        """
        messages = await self.prompt()
        kwargs: dict[str, Any] = {
            "json_output": self.output_content_type,
            "cancellation_token": cancellation_token,
        }
        if reflection:
            kwargs["tool_choice"] = "none"
        else:
            kwargs["tools"] = tools
        span = open_span("model_call", self.agent_name)
        if span is not None:
            span.set(
                agent=self.agent_name,
                client=type(self.model_client).__name__,
                prompt_messages=len(messages),
                tools_offered=len(tools) if not reflection else 0,
                reflection=reflection,
                streamed=self.stream,
            )
        previous = enter_usage_scope(agent=self.agent_name)
        result: CreateResult | None = None
        try:
            if not self.stream:
                result = await self.model_client.create(messages, **kwargs)
            else:
                async for chunk in self.model_client.create_stream(messages, **kwargs):
                    if isinstance(chunk, CreateResult):
                        result = chunk
                    elif isinstance(chunk, str):
                        yield _messages.ModelClientStreamingChunkEvent(
                            content=chunk, source=self.agent_name, full_message_id=message_id
                        )
                    else:
                        from .exceptions import ModelTurnError  # loaded by the first failure

                        raise ModelTurnError(
                            self.agent_name, f"invalid chunk type from the model: {type(chunk)}"
                        )
                if result is None:
                    from .exceptions import ModelTurnError

                    raise ModelTurnError(self.agent_name, "no final model result in streaming mode")
        except BaseException as exc:
            if span is not None:
                span.close(exc)
            raise
        finally:
            restore_usage_scope(previous)
        assert result is not None  # both branches raise without one
        if span is not None:
            _describe(span, result)
        yield result

    async def record(self, result: CreateResult) -> None:
        """Add the model's reply to the context so the next call sees it."""
        content = result.content
        if isinstance(content, str):
            message = construct_trusted(
                AssistantMessage, content=content, source=self.agent_name, thought=result.thought
            )
        else:  # validated: it copies the list of calls, which the result keeps too
            message = AssistantMessage(content=content, source=self.agent_name, thought=result.thought)
        await self.model_context.add_message(message)

    def thought_event(self, result: CreateResult, message_id: str) -> ThoughtEvent | None:
        """The model's reasoning as an event, if it gave any."""
        if not result.thought:
            return None
        return _messages.ThoughtEvent(content=result.thought, source=self.agent_name, id=message_id)

    def final_message(self, result: CreateResult, message_id: str) -> BaseChatMessage:
        """The text reply as a TextMessage, or a StructuredMessage with ``output_content_type``.

        Raises:
            StructuredOutputError: the reply does not match ``output_content_type``.
        """
        assert isinstance(result.content, str)
        if self.output_content_type is None or self.structured_factory is None:
            return construct_trusted(
                TextMessage,
                content=result.content,
                source=self.agent_name,
                models_usage=result.usage,
                id=message_id,
            )
        try:
            content = self.output_content_type.model_validate_json(result.content)
        except ValidationError as exc:
            from .exceptions import StructuredOutputError

            raise StructuredOutputError(self.agent_name, result.content, exc) from exc
        return self.structured_factory.StructuredMessage(
            content=content,
            source=self.agent_name,
            models_usage=result.usage,
            format_string=self.format_string,
            id=message_id,
        )

    async def reflect(
        self,
        cancellation_token: CancellationToken,
        inner_messages: list[BaseAgentEvent | BaseChatMessage],
    ) -> AsyncGenerator[BaseAgentEvent | Response, None]:
        """Ask the model to answer from the tool results just added to the context.

        Raises:
            ModelTurnError: the model answered with tool calls instead of text.
        """
        message_id = new_message_id()
        result: CreateResult | None = None
        async for item in self.call((), cancellation_token, message_id, reflection=True):
            if isinstance(item, CreateResult):
                result = item
            else:
                yield item
        if result is None or not isinstance(result.content, str):
            from .exceptions import ModelTurnError

            raise ModelTurnError(self.agent_name, "reflect on tool use produced no valid text response")
        if result.thought:
            # Unlike the first call, the reflection's thought keeps a fresh id of its own.
            thought = _messages.ThoughtEvent(content=result.thought, source=self.agent_name)
            inner_messages.append(thought)
            yield thought
        await self.record(result)
        yield Response(chat_message=self.final_message(result, message_id), inner_messages=inner_messages)


def _describe(span: Span, result: CreateResult) -> None:
    """End a model-call span with the result; a client layer's own figures take precedence."""
    content = result.content
    span.set_default(
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        cached=result.cached,
        finish_reason=result.finish_reason,
        response=content if isinstance(content, str) else ", ".join(call.name for call in content),
    )
    span.close()
