"""Running a task: the result type and the runner contract shared by agents and teams."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, SerializeAsAny

from muster.core import CancellationToken
from muster.messages import BaseAgentEvent, BaseChatMessage

__all__ = ["TaskResult", "TaskRunner"]


class TaskResult(BaseModel):
    """Everything a run produced and why it stopped."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    messages: Sequence[SerializeAsAny[BaseAgentEvent | BaseChatMessage]]
    """The run's messages and events, in order (the task itself included)."""
    stop_reason: str | None = None
    """Why the run stopped (a termination condition's message), if it stopped on one."""


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
