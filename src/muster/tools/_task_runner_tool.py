"""TaskRunnerTool: the shared base of AgentTool and TeamTool (a whole agent or team as one tool).

The tools layer sits above agents and teams, so the task runner is duck-typed: anything
with ``run(task=..., cancellation_token=...)`` and ``run_stream(...)`` returning or ending
with an object that has ``.messages`` (a ``TaskResult``). Chat messages are recognised by
having ``source`` and ``to_model_text()``; events (which only have ``to_text``) are skipped
when rendering, as AutoGen does.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Annotated, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ..core import CancellationToken
from ._base import BaseStreamTool

__all__ = ["TaskRunner", "TaskRunnerTool", "TaskRunnerToolArgs"]


class TaskRunnerToolArgs(BaseModel):
    """Arguments of a task runner tool: the task, in words."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    # A Field, not a bare Annotated string: pydantic models ignore those, and the calling
    # model benefits from the description (AutoGen's schema has none).
    task: Annotated[str, Field(description="The task to be executed.")]


@runtime_checkable
class TaskRunner(Protocol):
    """What a task runner tool drives: an agent or a team."""

    async def run(self, *, task: str, cancellation_token: CancellationToken | None = None) -> Any: ...

    def run_stream(
        self, *, task: str, cancellation_token: CancellationToken | None = None
    ) -> AsyncGenerator[Any, None]: ...

    async def save_state(self) -> Mapping[str, Any]: ...

    async def load_state(self, state: Mapping[str, Any]) -> None: ...


def _is_chat_message(message: Any) -> bool:
    return hasattr(message, "to_model_text") and hasattr(message, "source")


class TaskRunnerTool(BaseStreamTool[TaskRunnerToolArgs, Any, Any], ABC):
    """Run a task on an agent or team and hand the conversation back to the calling model.

    The result seen by the calling model is the runner's chat messages as
    ``"source: text"`` blocks separated by blank lines, skipping the ``user`` task message
    and non-chat events; with ``return_value_as_last_message`` it is only the last
    message's text. The schema is strict (one required ``task`` string).

    Args:
        task_runner: The agent or team (see :class:`TaskRunner`).
        name: The tool name.
        description: The tool description.
        return_value_as_last_message: Return only the last message's text.
        return_type: The result class (``TaskResult``); a stream must end with one.
    """

    component_type = "tool"

    def __init__(
        self,
        task_runner: Any,
        name: str,
        description: str,
        return_value_as_last_message: bool = False,
        *,
        return_type: type[Any] = object,
    ) -> None:
        self._task_runner = task_runner
        self._return_value_as_last_message = return_value_as_last_message
        super().__init__(TaskRunnerToolArgs, return_type, name, description, strict=True)

    async def run(self, args: TaskRunnerToolArgs, cancellation_token: CancellationToken) -> Any:
        """Run the task to completion and return the runner's result (a ``TaskResult``)."""
        return await self._task_runner.run(task=args.task, cancellation_token=cancellation_token)

    async def run_stream(
        self, args: TaskRunnerToolArgs, cancellation_token: CancellationToken
    ) -> AsyncGenerator[Any, None]:
        """Yield the runner's events and messages as they come; its result comes last."""
        async for item in self._task_runner.run_stream(task=args.task, cancellation_token=cancellation_token):
            yield item

    def return_value_as_string(self, value: Any) -> str:
        """Render the result's messages for the calling model.

        Raises:
            ValueError: ``return_value_as_last_message`` is set and the last message is
                not a chat message (or there are none).
        """
        messages: Sequence[Any] = getattr(value, "messages", None) or []
        if self._return_value_as_last_message:
            if messages and _is_chat_message(messages[-1]):
                return str(messages[-1].to_model_text())
            raise ValueError("The last message is not a chat message; cannot return it as the result")
        return "\n\n".join(
            f"{message.source}: {message.to_model_text()}"
            for message in messages
            if _is_chat_message(message) and message.source != "user"
        )

    async def save_state_json(self) -> Mapping[str, Any]:
        """The runner's own state."""
        return await self._task_runner.save_state()  # type: ignore[no-any-return]

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        """Restore the runner's own state."""
        await self._task_runner.load_state(state)
