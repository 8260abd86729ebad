"""Running a task: the result type and the runner contract shared by agents and teams."""

from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict

from muster.core import CancellationToken
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, TextMessage

if TYPE_CHECKING:
    from pydantic import SerializeAsAny
else:  # the same marker, without loading pydantic.functional_serializers (start-up)
    from muster.core.internal import SerializeAsAny

__all__ = ["TaskResult", "TaskRunner", "normalize_task"]


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
