"""Messages the group-chat manager and participant containers exchange over the runtime.

The names and fields match AutoGen's (``autogen_agentchat.teams._group_chat._events``) so
code that publishes or subscribes to them directly keeps working. One addition:
:class:`SerializableException` records ``source``, the participant that raised, so the
caller gets an error naming the agent.

These objects are built on the hot path (several per chat message), so the machinery
creates them with ``model_construct``: their contents are already-validated messages.
"""

from __future__ import annotations

import traceback as _traceback
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from muster.base import Response, TaskResult
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage

if TYPE_CHECKING:
    from pydantic import SerializeAsAny
else:  # the same marker, without loading pydantic.functional_serializers (start-up)
    from muster.core.internal import SerializeAsAny

__all__ = [
    "GroupChatAgentResponse",
    "GroupChatError",
    "GroupChatMessage",
    "GroupChatPause",
    "GroupChatRequestPublish",
    "GroupChatReset",
    "GroupChatResume",
    "GroupChatSnapshot",
    "GroupChatStart",
    "GroupChatTeamResponse",
    "GroupChatTermination",
    "SerializableException",
]


class SerializableException(BaseModel):
    """An exception flattened to data so it can cross the runtime and be stored."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    error_type: str
    """The exception's class name."""
    error_message: str
    """``str(exception)``."""
    traceback: str | None = None
    """The formatted traceback, when it was captured."""
    source: str | None = None
    """The participant whose turn raised, or ``None`` when the machinery itself failed."""

    @classmethod
    def from_exception(cls, exc: BaseException, source: str | None = None) -> SerializableException:
        """Capture ``exc`` (type, message, traceback), attributing it to ``source``."""
        return cls(
            error_type=type(exc).__name__,
            error_message=str(exc),
            traceback="".join(_traceback.format_exception(type(exc), exc, exc.__traceback__)),
            source=source,
        )

    def __str__(self) -> str:
        text = f"{self.error_type}: {self.error_message}"
        return f"{text}\nTraceback:\n{self.traceback}" if self.traceback else text


class GroupChatStart(BaseModel):
    """Starts (or continues, with no messages) a run; sent to the manager, relayed to participants."""

    model_config = ConfigDict(defer_build=True)

    messages: list[SerializeAsAny[BaseChatMessage]] | None = None
    """The task messages, or ``None`` to continue from the current state."""
    output_task_messages: bool = True
    """Whether the task messages appear in the run's output stream and result."""


class GroupChatAgentResponse(BaseModel):
    """An agent finished its turn; published to the group topic."""

    model_config = ConfigDict(defer_build=True)

    response: SerializeAsAny[Response]
    """The agent's response (final message and inner events)."""
    name: str
    """The participant that answered."""


class GroupChatTeamResponse(BaseModel):
    """A nested team finished its turn; published to the group topic."""

    model_config = ConfigDict(defer_build=True)

    result: SerializeAsAny[TaskResult]
    """The nested team's result for this turn."""
    name: str
    """The participant (team) that answered."""


class GroupChatRequestPublish(BaseModel):
    """Asks one participant to take its turn; published to that participant's topic."""

    model_config = ConfigDict(defer_build=True)

    run_id: str | None = None
    """The run the turn belongs to: model calls made during the turn are billed to it."""


class GroupChatSnapshot(BaseModel):
    """Asks a participant container for its state at a turn boundary (an RPC).

    Sent through the runtime rather than read directly, so that it queues behind any
    message of the finished turn the container has not buffered yet.
    """

    model_config = ConfigDict(defer_build=True)


class GroupChatMessage(BaseModel):
    """A message for the run's output stream (published to the output topic)."""

    model_config = ConfigDict(defer_build=True)

    message: SerializeAsAny[BaseAgentEvent | BaseChatMessage]
    """The message or event to show the caller."""


class GroupChatTermination(BaseModel):
    """The run ended: why, and the error when it ended by failing."""

    model_config = ConfigDict(defer_build=True)

    message: StopMessage
    """The stop message; its content becomes ``TaskResult.stop_reason``."""
    error: SerializableException | None = None
    """Set when the run ended because something raised."""


class GroupChatReset(BaseModel):
    """Asks the manager or a participant to forget the conversation."""

    model_config = ConfigDict(defer_build=True)


class GroupChatPause(BaseModel):
    """Asks the manager or a participant to pause."""

    model_config = ConfigDict(defer_build=True)


class GroupChatResume(BaseModel):
    """Asks the manager or a participant to resume after a pause."""

    model_config = ConfigDict(defer_build=True)


class GroupChatError(BaseModel):
    """A participant failed; published to the group topic so the manager ends the run."""

    model_config = ConfigDict(defer_build=True)

    error: SerializableException
    """What was raised, and by whom (``error.source``)."""
