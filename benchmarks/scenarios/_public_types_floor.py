"""A start-up floor: pydantic + asyncio + the public pydantic types a plain run returns.

Standalone on purpose (it imports neither muster nor the ``benchmarks`` package; the start-up
scenarios import it by file, see ``_fresh.PUBLIC_TYPES_FLOOR``). After the plain floor's
imports it defines the 12 pydantic classes that ``import muster.agents`` and a plain
``AssistantAgent.run`` define (``tests/test_import_footprint.py``): the message bases and
``TextMessage``, the LLM messages a model call takes, ``CreateResult`` with its logprob types,
and ``TaskResult``; with the same hierarchy, field names, field types and ``model_config`` as
muster's, schema builds deferred as in muster. Any framework whose run returns these types as
pydantic models (AutoGen's does) pays at least this at start-up.

What is not a pydantic class is reduced to the least that gives the fields their types:
``FunctionCall`` and ``RequestUsage`` are dataclasses with an ``__init__`` (muster's also
write out their ``__repr__`` and ``__eq__``), ``Image`` a bare class, ``SerializeAsAny`` the
marker alone. Methods are kept where they make a class abstract or concrete (the ``ABC``
bookkeeping at class creation), with trivial bodies. So the floor is, if anything, low.

No ``from __future__ import annotations``: like muster's modules on this path, the field
annotations are evaluated as the class bodies run, not compiled from strings by pydantic.
"""

import asyncio  # noqa: F401  (part of the floor)
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Image:
    """Stands for muster.core.Image (not a pydantic class)."""

    __slots__ = ("_data",)


@dataclass(init=False, repr=False, eq=False)
class FunctionCall:
    id: str
    arguments: str
    name: str

    def __init__(self, id: str, arguments: str, name: str) -> None:
        self.id = id
        self.arguments = arguments
        self.name = name


@dataclass(init=False, repr=False, eq=False)
class RequestUsage:
    prompt_tokens: int
    completion_tokens: int

    def __init__(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


class SerializeAsAny:
    """The annotation marker only (its schema hook runs at schema build, never here)."""

    __slots__ = ()

    def __class_getitem__(cls, item: Any) -> Any:
        return Annotated[item, cls()]


# The LLM messages and a model call's result (muster.models._types).


class SystemMessage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    content: str
    type: Literal["SystemMessage"] = "SystemMessage"


class UserMessage(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    content: str | list[str | Image]
    source: str
    type: Literal["UserMessage"] = "UserMessage"


class AssistantMessage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    content: str | list[FunctionCall]
    thought: str | None = None
    source: str
    type: Literal["AssistantMessage"] = "AssistantMessage"


FinishReasons = Literal["stop", "length", "function_calls", "content_filter", "unknown"]


class TopLogprob(BaseModel):
    model_config = ConfigDict(defer_build=True)

    logprob: float
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(BaseModel):
    model_config = ConfigDict(defer_build=True)

    token: str
    logprob: float
    top_logprobs: list[TopLogprob] | None = None
    bytes: list[int] | None = None


class CreateResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    finish_reason: FinishReasons
    content: str | list[FunctionCall]
    usage: RequestUsage
    cached: bool
    logprobs: list[ChatCompletionTokenLogprob] | None = None
    thought: str | None = None


# The message bases and TextMessage (muster.messages).


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class BaseMessage(BaseModel, ABC):
    model_config = ConfigDict(defer_build=True)

    @abstractmethod
    def to_text(self) -> str: ...


class BaseChatMessage(BaseMessage, ABC):
    id: str = Field(default_factory=_new_id)
    source: str
    models_usage: RequestUsage | None = None
    metadata: dict[str, str] = {}
    created_at: datetime = Field(default_factory=_now)

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @abstractmethod
    def to_model_text(self) -> str: ...

    @abstractmethod
    def to_model_message(self) -> UserMessage: ...


class BaseTextChatMessage(BaseChatMessage, ABC):
    content: str

    def to_text(self) -> str:
        return self.content

    def to_model_text(self) -> str:
        return self.content

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=self.content, source=self.source)


class TextMessage(BaseTextChatMessage):
    type: Literal["TextMessage"] = "TextMessage"


class BaseAgentEvent(BaseMessage, ABC):
    id: str = Field(default_factory=_new_id)
    source: str
    models_usage: RequestUsage | None = None
    metadata: dict[str, str] = {}
    created_at: datetime = Field(default_factory=_now)

    model_config = ConfigDict(arbitrary_types_allowed=True)


# A run's result (muster.base._task).


class TaskResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    messages: Sequence[SerializeAsAny[BaseAgentEvent | BaseChatMessage]]
    stop_reason: str | None = None
    run_id: str | None = None
