"""Running a task: the runner contract agents and teams share, its result, and the chat agent.

:class:`TaskRunner` and :class:`TaskResult` are what agents and teams share;
:class:`ChatAgent` is the runner every agent is, and :class:`Response` what it answers a turn
with. The chat agent's contract shares this module with the runner's (it used to have one of
its own) because every agent loads both, and a module costs a process about 0.3 ms to find
and load (docs/performance.md, "Start-up").

No ``from __future__ import annotations``: pydantic would turn each of ``TaskResult``'s string
annotations into a ``ForwardRef`` to compile and evaluate; native annotations are plain name
lookups.
"""

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from muster.core import CancellationToken, ComponentBase
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, TextMessage

if TYPE_CHECKING:
    from pydantic import SerializeAsAny
else:  # the same marker, without loading pydantic.functional_serializers (start-up)
    from muster.core.internal import SerializeAsAny

__all__ = ["ChatAgent", "Response", "TaskResult", "TaskRunner", "normalize_task"]


def normalize_task(
    task: str | BaseChatMessage | Sequence[BaseChatMessage] | None,
) -> list[BaseChatMessage]:
    """Turn any accepted form of ``task`` into the list of messages a run starts with.

    A string becomes a ``TextMessage`` from ``"user"``; ``None`` means "continue" and gives
    no messages. Agents and teams both use it, so both accept exactly the same inputs.

    Raises:
        InvalidTaskError: an empty list, a list holding something other than chat
            messages, or a value of another type altogether.
    """
    if task is None:
        return []
    if type(task) is str:  # exactly str: a subclass goes through validation, which converts it
        return [construct_trusted(TextMessage, content=task, source="user")]
    if isinstance(task, str):
        return [TextMessage(content=task, source="user")]
    if isinstance(task, BaseChatMessage):
        return [task]
    # The exceptions load with the first invalid task, not with every agent (start-up).
    from .exceptions import InvalidTaskError

    if not isinstance(task, Sequence):
        raise InvalidTaskError(
            f"Invalid task type: {type(task).__name__}; expected str, a chat message or a list of them"
        )
    if not task:
        raise InvalidTaskError("Task list cannot be empty.")
    messages: list[BaseChatMessage] = []
    for msg in task:
        if not isinstance(msg, BaseChatMessage):
            raise InvalidTaskError(f"Invalid message type in sequence: {type(msg)}")
        messages.append(msg)
    return messages


class TaskResult(BaseModel):
    """Everything a run produced and why it stopped."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    messages: Sequence[SerializeAsAny[BaseAgentEvent | BaseChatMessage]]
    """The run's messages and events, in order (the task itself included)."""
    stop_reason: str | None = None
    """Why the run stopped (a termination condition's message), if it stopped on one."""
    run_id: str | None = None
    """The run's id (teams set it; the same id their turn checkpoints and usage records carry)."""


class TaskRunner(Protocol):
    """Something that can run a task: an agent or a team."""

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        """Run the task to completion and return the result."""
        ...

    def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        """Run the task, yielding messages as they are produced and the TaskResult last."""
        ...


# A dataclass whose methods are written out, as ``@dataclass(kw_only=True)`` would generate
# them: the decorator compiles them at import, about 0.25 ms of every process's start-up
# (tests/core/test_handwritten_dataclasses.py).
@dataclass(init=False, repr=False, eq=False, kw_only=True)
class Response:
    """An agent's answer to ``on_messages``: the final message and what happened on the way."""

    chat_message: BaseChatMessage
    inner_messages: Sequence[BaseAgentEvent | BaseChatMessage] | None = field(default=None)

    def __init__(
        self,
        *,
        chat_message: BaseChatMessage,
        inner_messages: Sequence[BaseAgentEvent | BaseChatMessage] | None = None,
    ) -> None:
        self.chat_message = chat_message
        self.inner_messages = inner_messages

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(chat_message={self.chat_message!r}, inner_messages={self.inner_messages!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.chat_message, self.inner_messages) == (other.chat_message, other.inner_messages)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


class ChatAgent(ABC, TaskRunner, ComponentBase[BaseModel]):
    """An agent that takes chat messages and answers with a :class:`Response`."""

    component_type = "agent"

    @property
    @abstractmethod
    def name(self) -> str:
        """Unique within a team; used as the message ``source``."""

    @property
    @abstractmethod
    def description(self) -> str:
        """What the agent does; group chats use it to choose speakers."""

    @property
    @abstractmethod
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """The chat message types the agent can produce in its response."""

    @abstractmethod
    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Handle new messages and answer."""

    @abstractmethod
    def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Like :meth:`on_messages`, yielding events as they happen and the Response last."""

    @abstractmethod
    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation."""

    @abstractmethod
    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        """Called when the agent's team is paused while the agent is running."""

    @abstractmethod
    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        """Called when the agent's team resumes."""

    @abstractmethod
    async def save_state(self) -> Mapping[str, Any]:
        """A JSON-ready snapshot of the agent's state."""

    @abstractmethod
    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot made by :meth:`save_state`."""

    @abstractmethod
    async def close(self) -> None:
        """Release resources held by the agent."""
