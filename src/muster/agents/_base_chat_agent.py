"""The base class most agents extend: task handling, run/run_stream and default lifecycle hooks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from muster.base import ChatAgent, Response, TaskResult, normalize_task
from muster.core import CancellationToken, ComponentBase
from muster.core.instrumentation import open_span
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage
from muster.messages.internal import is_streaming_chunk

__all__ = ["BaseChatAgent"]


class BaseChatAgent(ChatAgent, ABC, ComponentBase[BaseModel]):
    """A chat agent with the task plumbing done: subclasses answer messages, this runs tasks.

    Subclasses implement :meth:`on_messages` (or override :meth:`on_messages_stream` too
    when they can stream), :meth:`on_reset` and :attr:`produced_message_types`. Agents are
    stateful: each call receives only the messages that are new since the previous call,
    so an agent must remember what it needs itself.

    Args:
        name: Unique within a team and used as the ``source`` of the agent's messages, so
            it must be a valid Python identifier (it also becomes a tool name in
            AgentTool and a handoff target).
        description: What the agent can do; selectors and planners read it.

    Raises:
        ValueError: ``name`` is not a valid identifier.
    """

    component_type = "agent"

    def __init__(self, name: str, description: str) -> None:
        if not name.isidentifier():
            raise ValueError("The agent name must be a valid Python identifier.")
        self._name = name
        self._description = description

    @property
    def name(self) -> str:
        """The agent's name, used as the source of its messages."""
        return self._name

    @property
    def description(self) -> str:
        """What the agent does, for the teams and models that choose between agents."""
        return self._description

    @property
    @abstractmethod
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """The chat message types this agent may put in ``Response.chat_message``."""

    @abstractmethod
    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Handle the messages that are new since the last call and answer."""

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Stream the inner messages of :meth:`on_messages` and then its Response.

        Agents that can report progress while working override this; the default only
        replays what :meth:`on_messages` returned once it is done.
        """
        response = await self.on_messages(messages, cancellation_token)
        for inner_message in response.inner_messages or ():
            yield inner_message
        yield response

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        """Run the agent on a task and return everything it produced.

        Args:
            task: A string (sent as a ``TextMessage`` from ``"user"``), a chat message, a
                non-empty list of chat messages, or ``None`` to continue without new input.
            cancellation_token: Cancels the run; a fresh token is used when omitted.
            output_task_messages: Whether the task messages open ``TaskResult.messages``.

        Raises:
            InvalidTaskError: ``task`` is not one of the accepted forms.
        """
        if cancellation_token is None:
            cancellation_token = CancellationToken()
        input_messages = normalize_task(task)
        output: list[BaseAgentEvent | BaseChatMessage] = list(input_messages) if output_task_messages else []
        span = open_span("agent_turn", self._name)
        if span is None:
            response = await self.on_messages(input_messages, cancellation_token)
        else:
            # Loaded only when something records: a plain run never needs these helpers.
            from muster.base.internal import add_message_event, describe_participant

            with span:
                describe_participant(span, self, self._name)
                response = await self.on_messages(input_messages, cancellation_token)
                for message in [*(response.inner_messages or ()), response.chat_message]:
                    add_message_event(span, message)
        if response.inner_messages is not None:
            output.extend(response.inner_messages)
        output.append(response.chat_message)
        return construct_trusted(TaskResult, messages=output)

    async def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        """Like :meth:`run`, yielding each message as it happens and the TaskResult last.

        Streaming chunks are yielded but left out of the TaskResult: the complete message
        they add up to is in it already.
        """
        if cancellation_token is None:
            cancellation_token = CancellationToken()
        input_messages = normalize_task(task)
        output: list[BaseAgentEvent | BaseChatMessage] = []
        if output_task_messages:
            for msg in input_messages:
                output.append(msg)
                yield msg
        span = open_span("agent_turn", self._name)
        if span is not None:
            from muster.base.internal import add_message_event, describe_participant

            describe_participant(span, self, self._name)
        try:
            async for message in self.on_messages_stream(input_messages, cancellation_token):
                if isinstance(message, Response):
                    if span is not None:
                        add_message_event(span, message.chat_message)
                        span.close()
                    yield message.chat_message
                    output.append(message.chat_message)
                    yield construct_trusted(TaskResult, messages=output)
                else:
                    if span is not None:
                        add_message_event(span, message)
                    yield message
                    if not is_streaming_chunk(message):
                        output.append(message)
        except BaseException as exc:
            if span is not None:
                span.close(exc)
            raise

    @abstractmethod
    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Return the agent to the state it had when created."""

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        """Called when the team pauses while this agent runs; nothing to do by default."""

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        """Called when the team resumes after :meth:`on_pause`; nothing to do by default."""

    async def save_state(self) -> Mapping[str, Any]:
        """A stateless agent saves an empty :class:`~muster.state.BaseState`."""
        from muster.state import BaseState  # state models load only when state is saved or loaded

        return BaseState().model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Check that ``state`` is the empty state :meth:`save_state` makes; nothing to restore.

        Checked all the same, so that a team restoring its participants from the wrong
        snapshot (another agent's state in this agent's slot) fails loudly.

        Raises:
            StateError: ``state`` is not a ``BaseState`` of a version this muster reads.
        """
        from muster.base.internal import parse_state
        from muster.state import BaseState

        parse_state(BaseState, state)

    async def close(self) -> None:
        """Release resources; nothing to release by default."""
