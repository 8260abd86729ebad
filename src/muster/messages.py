"""Chat messages and events exchanged by agents and teams (AutoGen: ``autogen_agentchat.messages``).

Two families: *chat messages* (``BaseChatMessage``) are what agents say to each other and
what a team's transcript is made of; *events* (``BaseAgentEvent``) report what happened
inside an agent (tool calls, streaming chunks, thoughts) for observers such as the console.
Every concrete class is a pydantic model with a ``type`` discriminator, so transcripts
round-trip through JSON for persistence and the HTTP API.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, computed_field, create_model

from muster.code_executor import CodeBlock, CodeResult
from muster.core import Component, FunctionCall, Image
from muster.core.internal import construct_trusted
from muster.memory import MemoryContent
from muster.models import FunctionExecutionResult, LLMMessage, RequestUsage, UserMessage

__all__ = [
    "AgentEvent",
    "BaseAgentEvent",
    "BaseChatMessage",
    "BaseMessage",
    "BaseTextChatMessage",
    "ChatMessage",
    "CodeExecutionEvent",
    "CodeGenerationEvent",
    "HandoffMessage",
    "MemoryQueryEvent",
    "MessageFactory",
    "ModelClientStreamingChunkEvent",
    "MultiModalMessage",
    "SelectSpeakerEvent",
    "StopMessage",
    "StructuredContentType",
    "StructuredMessage",
    "StructuredMessageFactory",
    "TextMessage",
    "ThoughtEvent",
    "ToolCallExecutionEvent",
    "ToolCallRequestEvent",
    "ToolCallSummaryMessage",
    "UserInputRequestedEvent",
]


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class BaseMessage(BaseModel, ABC):
    """Anything an agent or team emits."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    @abstractmethod
    def to_text(self) -> str:
        """A plain-text rendering for consoles and logs."""

    def dump(self) -> Mapping[str, Any]:
        """A JSON-ready dict; :meth:`load` (or :class:`MessageFactory`) reverses it."""
        return self.model_dump(mode="json")

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a message from :meth:`dump` output."""
        return cls.model_validate(data)


class BaseChatMessage(BaseMessage, ABC):
    """A message agents exchange; the unit a team's transcript is made of."""

    id: str = Field(default_factory=_new_id)
    source: str
    """Name of the agent that sent it."""
    models_usage: RequestUsage | None = None
    """Model tokens spent producing it, if a model did."""
    metadata: dict[str, str] = {}
    created_at: datetime = Field(default_factory=_now)

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @abstractmethod
    def to_model_text(self) -> str:
        """The text a model should see for this message."""

    @abstractmethod
    def to_model_message(self) -> UserMessage:
        """This message as model input, from the model's point of view a user turn."""


class BaseTextChatMessage(BaseChatMessage, ABC):
    """A chat message whose content is a string."""

    content: str

    def to_text(self) -> str:
        return self.content

    def to_model_text(self) -> str:
        return self.content

    def to_model_message(self) -> UserMessage:
        return construct_trusted(UserMessage, content=self.content, source=self.source)


class BaseAgentEvent(BaseMessage, ABC):
    """Something that happened inside an agent, reported to observers but not to other agents."""

    id: str = Field(default_factory=_new_id)
    source: str
    models_usage: RequestUsage | None = None
    metadata: dict[str, str] = {}
    created_at: datetime = Field(default_factory=_now)

    model_config = ConfigDict(arbitrary_types_allowed=True)


StructuredContentType = TypeVar("StructuredContentType", bound=BaseModel, covariant=True)


class StructuredMessage(BaseChatMessage, Generic[StructuredContentType]):
    """A chat message whose content is a pydantic model (structured output)."""

    content: StructuredContentType
    format_string: str | None = None
    """A ``str.format`` template over the content's fields used for :meth:`to_text`."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type(self) -> str:
        """``StructuredMessage[<ContentModel>]``, so the content model is recorded in dumps."""
        return f"StructuredMessage[{self.content.__class__.__name__}]"

    def to_text(self) -> str:
        if self.format_string is not None:
            return self.format_string.format(**self.content.model_dump())
        return self.content.model_dump_json()

    def to_model_text(self) -> str:
        return self.to_text()

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=self.to_text(), source=self.source)


class TextMessage(BaseTextChatMessage):
    """Plain text."""

    type: Literal["TextMessage"] = "TextMessage"


class StopMessage(BaseTextChatMessage):
    """Asks the team to stop; ``content`` says why."""

    type: Literal["StopMessage"] = "StopMessage"


class HandoffMessage(BaseTextChatMessage):
    """Hands the conversation to ``target`` (Swarm), optionally carrying model context."""

    target: str
    context: list[LLMMessage] = []
    type: Literal["HandoffMessage"] = "HandoffMessage"


class ToolCallSummaryMessage(BaseTextChatMessage):
    """The final message of an agent turn that ended with tool calls and no reflection."""

    tool_calls: list[FunctionCall]
    results: list[FunctionExecutionResult]
    type: Literal["ToolCallSummaryMessage"] = "ToolCallSummaryMessage"


class MultiModalMessage(BaseChatMessage):
    """Text and images."""

    content: list[str | Image]
    type: Literal["MultiModalMessage"] = "MultiModalMessage"

    def _render(self, image_placeholder: str) -> str:
        return "\n".join(c if isinstance(c, str) else image_placeholder for c in self.content)

    def to_model_text(self, image_placeholder: str | None = "[image]") -> str:
        """Text with each image replaced by ``image_placeholder`` (dropped when ``None``)."""
        if image_placeholder is None:
            return "\n".join(c for c in self.content if isinstance(c, str))
        return self._render(image_placeholder)

    def to_text(self, iterm: bool = False) -> str:
        """Text with images shown as ``<image>``; ``iterm=True`` inlines them for iTerm2."""
        if not iterm:
            return self._render("<image>")
        parts = []
        for c in self.content:
            if isinstance(c, str):
                parts.append(c)
            else:
                parts.append(f"\033]1337;File=inline=1:{c.to_base64()}\a\n")
        return "\n".join(parts)

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=list(self.content), source=self.source)


class ToolCallRequestEvent(BaseAgentEvent):
    """The model asked for these tool calls."""

    content: list[FunctionCall]
    type: Literal["ToolCallRequestEvent"] = "ToolCallRequestEvent"

    def to_text(self) -> str:
        return str(self.content)


class ToolCallExecutionEvent(BaseAgentEvent):
    """The tool calls ran; these are their results."""

    content: list[FunctionExecutionResult]
    type: Literal["ToolCallExecutionEvent"] = "ToolCallExecutionEvent"

    def to_text(self) -> str:
        return str(self.content)


class UserInputRequestedEvent(BaseAgentEvent):
    """A UserProxyAgent is waiting for human input (``request_id`` pairs it with the answer)."""

    request_id: str
    content: Literal[""] = ""
    type: Literal["UserInputRequestedEvent"] = "UserInputRequestedEvent"

    def to_text(self) -> str:
        return str(self.content)


class MemoryQueryEvent(BaseAgentEvent):
    """Memories retrieved and added to the model context."""

    content: list[MemoryContent]
    type: Literal["MemoryQueryEvent"] = "MemoryQueryEvent"

    def to_text(self) -> str:
        return str(self.content)


class ModelClientStreamingChunkEvent(BaseAgentEvent):
    """One streamed text chunk; ``full_message_id`` names the message it will become."""

    content: str
    full_message_id: str | None = None
    type: Literal["ModelClientStreamingChunkEvent"] = "ModelClientStreamingChunkEvent"

    def to_text(self) -> str:
        return self.content


class ThoughtEvent(BaseAgentEvent):
    """Reasoning the model produced alongside its answer."""

    content: str
    type: Literal["ThoughtEvent"] = "ThoughtEvent"

    def to_text(self) -> str:
        return self.content


class SelectSpeakerEvent(BaseAgentEvent):
    """A group chat manager picked the next speaker(s)."""

    content: list[str]
    type: Literal["SelectSpeakerEvent"] = "SelectSpeakerEvent"

    def to_text(self) -> str:
        return str(self.content)


class CodeGenerationEvent(BaseAgentEvent):
    """A model produced code blocks to execute."""

    retry_attempt: int
    content: str
    code_blocks: list[CodeBlock]
    type: Literal["CodeGenerationEvent"] = "CodeGenerationEvent"

    def to_text(self) -> str:
        return self.content


class CodeExecutionEvent(BaseAgentEvent):
    """Generated code ran with this result."""

    retry_attempt: int
    result: CodeResult
    type: Literal["CodeExecutionEvent"] = "CodeExecutionEvent"

    def to_text(self) -> str:
        return self.result.output


ChatMessage = Annotated[
    TextMessage | MultiModalMessage | StopMessage | ToolCallSummaryMessage | HandoffMessage,
    Field(discriminator="type"),
]
"""Deprecated union of the built-in chat messages; prefer :class:`BaseChatMessage`."""

AgentEvent = Annotated[
    ToolCallRequestEvent
    | ToolCallExecutionEvent
    | MemoryQueryEvent
    | UserInputRequestedEvent
    | ModelClientStreamingChunkEvent
    | ThoughtEvent
    | SelectSpeakerEvent
    | CodeGenerationEvent
    | CodeExecutionEvent,
    Field(discriminator="type"),
]
"""Deprecated union of the built-in events; prefer :class:`BaseAgentEvent`."""

_BUILTIN_TYPES: tuple[type[BaseChatMessage | BaseAgentEvent], ...] = (
    TextMessage,
    MultiModalMessage,
    StopMessage,
    ToolCallSummaryMessage,
    HandoffMessage,
    ToolCallRequestEvent,
    ToolCallExecutionEvent,
    MemoryQueryEvent,
    UserInputRequestedEvent,
    ModelClientStreamingChunkEvent,
    ThoughtEvent,
    SelectSpeakerEvent,
    CodeGenerationEvent,
    CodeExecutionEvent,
)


class MessageFactory:
    """Rebuilds messages from dumped dicts by their ``type``; custom types are registered."""

    def __init__(self) -> None:
        self._message_types: dict[str, type[BaseChatMessage | BaseAgentEvent]] = {
            cls.__name__: cls for cls in _BUILTIN_TYPES
        }

    def is_registered(self, message_type: type[BaseAgentEvent | BaseChatMessage]) -> bool:
        """Whether ``message_type`` can be rebuilt by this factory."""
        return message_type.__name__ in self._message_types

    def register(self, message_type: type[BaseAgentEvent | BaseChatMessage]) -> None:
        """Register a custom message or event class (by class name)."""
        if not (issubclass(message_type, BaseChatMessage) or issubclass(message_type, BaseAgentEvent)):
            raise ValueError(f"{message_type!r} must subclass BaseChatMessage or BaseAgentEvent")
        if self.is_registered(message_type):
            raise ValueError(f"Message type {message_type.__name__} is already registered")
        self._message_types[message_type.__name__] = message_type

    def create(self, data: Mapping[str, Any]) -> BaseAgentEvent | BaseChatMessage:
        """Rebuild a message; raises ValueError naming an unknown or missing ``type``."""
        message_type = data.get("type")
        if not isinstance(message_type, str):
            raise ValueError("message data has no 'type' field")
        cls = self._message_types.get(message_type)
        if cls is None:
            raise ValueError(
                f"Unknown message type {message_type!r}; register it with MessageFactory.register"
            )
        return cls.load(data)


class StructuredMessageFactoryConfig(BaseModel):
    """Spec of a :class:`StructuredMessageFactory`: the content model as JSON schema."""

    model_config = ConfigDict(defer_build=True)

    json_schema: dict[str, Any]
    format_string: str | None = None
    content_model_name: str


_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list[Any],
    "object": dict[str, Any],
}


def _model_from_schema(name: str, schema: Mapping[str, Any]) -> type[BaseModel]:
    """A flat pydantic model from a JSON schema (enough to reload dumped output types)."""
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for field_name, prop in schema.get("properties", {}).items():
        py_type = _JSON_TYPES.get(prop.get("type", ""), Any)
        if field_name in required:
            fields[field_name] = (py_type, ...)
        else:
            fields[field_name] = (py_type | None, prop.get("default"))
    return cast("type[BaseModel]", create_model(name, **fields))


class StructuredMessageFactory(Component[StructuredMessageFactoryConfig]):
    """Makes ``StructuredMessage[Model]`` instances for an agent's ``output_content_type``."""

    component_type = "structured_message"
    component_config_schema = StructuredMessageFactoryConfig
    component_provider_override = "muster.messages.StructuredMessageFactory"

    def __init__(
        self,
        json_schema: dict[str, Any] | None = None,
        input_model: type[BaseModel] | None = None,
        format_string: str | None = None,
        content_model_name: str | None = None,
    ) -> None:
        if input_model is not None:
            self.ContentModel = input_model
        elif json_schema is not None:
            self.ContentModel = _model_from_schema(
                content_model_name or json_schema.get("title", "StructuredContent"), json_schema
            )
        else:
            raise ValueError("StructuredMessageFactory needs input_model or json_schema")
        self.format_string = format_string
        self.StructuredMessage: type[StructuredMessage[BaseModel]] = StructuredMessage[self.ContentModel]  # type: ignore[name-defined]

    def _to_config(self) -> StructuredMessageFactoryConfig:
        return StructuredMessageFactoryConfig(
            json_schema=self.ContentModel.model_json_schema(),
            format_string=self.format_string,
            content_model_name=self.ContentModel.__name__,
        )

    @classmethod
    def _from_config(cls, config: StructuredMessageFactoryConfig) -> Self:
        return cls(
            json_schema=config.json_schema,
            format_string=config.format_string,
            content_model_name=config.content_model_name,
        )
