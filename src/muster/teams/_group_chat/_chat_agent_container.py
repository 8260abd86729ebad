"""The runtime agent that stands in for one participant (a ChatAgent or a nested Team).

It buffers every chat message published to the group topic since the participant last
spoke, and when the manager asks it to speak (``GroupChatRequestPublish`` on its own topic)
it hands the buffer to the participant, streams what the participant produces to the run's
output, and publishes the participant's answer back to the group topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from muster.base import ChatAgent, Response, TaskResult, Team
from muster.base.exceptions import StateError
from muster.base.internal import add_message_event, describe_participant
from muster.core import MessageContext, event, rpc
from muster.core.instrumentation import open_span
from muster.messages import BaseAgentEvent, BaseChatMessage, MessageFactory
from muster.models.usage import enter_usage_scope, restore_usage_scope
from muster.state import ChatAgentContainerState

from ._events import (
    GroupChatAgentResponse,
    GroupChatError,
    GroupChatMessage,
    GroupChatPause,
    GroupChatRequestPublish,
    GroupChatReset,
    GroupChatResume,
    GroupChatSnapshot,
    GroupChatStart,
    GroupChatTeamResponse,
    SerializableException,
)
from ._run_control import OutputQueue
from ._sequential_routed_agent import SequentialRoutedAgent
from ._state_checks import check_state_header, parse_thread

if TYPE_CHECKING:
    from muster.core.instrumentation import Span

__all__ = ["ChatAgentContainer", "OutputQueue"]


class ChatAgentContainer(SequentialRoutedAgent):
    """Runs one participant's turns inside a group chat.

    Args:
        parent_topic_type: The group topic: the manager and all containers listen there.
        output_topic_type: The run's output topic, used when no ``output_message_queue``
            is given (AutoGen's behaviour).
        agent: The participant.
        message_factory: Knows every message type the team may carry; used to check
            output and to rebuild the buffer from saved state.
        output_message_queue: The team's output queue. When given, output goes straight
            into it instead of taking a round trip through the runtime and the manager,
            which is both cheaper and keeps a participant's output ahead of the manager's
            reaction to it.
    """

    def __init__(
        self,
        parent_topic_type: str,
        output_topic_type: str,
        agent: ChatAgent | Team,
        message_factory: MessageFactory,
        output_message_queue: OutputQueue | None = None,
    ) -> None:
        super().__init__(
            description=agent.description,
            sequential_message_types=[
                GroupChatStart,
                GroupChatRequestPublish,
                GroupChatReset,
                GroupChatAgentResponse,
                GroupChatTeamResponse,
                GroupChatSnapshot,
            ],
        )
        self._parent_topic_type = parent_topic_type
        self._output_topic_type = output_topic_type
        self._agent = agent
        # ``isinstance`` against ``Team`` goes through the protocol metaclass (a few µs);
        # the participant never changes, so decide once instead of on every turn.
        self._is_team = isinstance(agent, Team)
        self._message_factory = message_factory
        self._output_message_queue = output_message_queue
        self._message_buffer: list[BaseChatMessage] = []

    @property
    def participant(self) -> ChatAgent | Team:
        """The agent or team this container runs."""
        return self._agent

    @event
    async def handle_start(self, message: GroupChatStart, ctx: MessageContext) -> None:
        """Buffer the task messages for the participant's first turn."""
        if message.messages:
            self._message_buffer.extend(message.messages)

    @event
    async def handle_agent_response(self, message: GroupChatAgentResponse, ctx: MessageContext) -> None:
        """Buffer another participant's final message (its own included: the manager may re-select it)."""
        self._message_buffer.append(message.response.chat_message)

    @event
    async def handle_team_response(self, message: GroupChatTeamResponse, ctx: MessageContext) -> None:
        """Buffer the chat messages a nested team produced."""
        self._message_buffer.extend(m for m in message.result.messages if isinstance(m, BaseChatMessage))

    @event
    async def handle_request(self, message: GroupChatRequestPublish, ctx: MessageContext) -> None:
        """Take a turn: run the participant on the buffer and publish its answer.

        A failure is published as a :class:`GroupChatError` naming the participant, so the
        manager ends the run with a typed error; it is not re-raised into the runtime,
        which stays healthy for the next run. The buffer is kept on failure, so a retry
        sees the same messages.
        """
        token = ctx.cancellation_token
        if token.is_cancelled():
            return  # the run was cancelled before this turn began; keep the buffer for the next run
        reply: GroupChatAgentResponse | GroupChatTeamResponse
        previous_scope = enter_usage_scope(run_id=message.run_id) if message.run_id else None
        span = open_span("agent_turn", self._agent.name)
        if span is not None:
            describe_participant(span, self._agent, self._agent.name)
            span.set(run_id=message.run_id, team_participant=self._is_team)
        try:
            if self._is_team:
                reply = await self._run_team(cast(Team, self._agent), ctx, span)
            else:
                reply = await self._run_agent(cast(ChatAgent, self._agent), ctx, span)
        except asyncio.CancelledError as exc:
            if span is not None:
                span.close(exc)
            task = asyncio.current_task()
            if (task is not None and task.cancelling()) or not token.is_cancelled():
                raise
            return  # the participant honoured the run's cancellation token
        except Exception as exc:
            if span is not None:
                span.close(exc)
            error = SerializableException.from_exception(exc, source=self._agent.name)
            await self.publish_message(
                GroupChatError.model_construct(error=error),
                topic_id=self._topic(self._parent_topic_type),
                cancellation_token=token,
            )
            return
        finally:
            if previous_scope is not None:
                restore_usage_scope(previous_scope)
        if span is not None:
            span.close()
        self._message_buffer.clear()
        await self.publish_message(
            reply, topic_id=self._topic(self._parent_topic_type), cancellation_token=token
        )

    async def _run_agent(
        self, agent: ChatAgent, ctx: MessageContext, span: Span | None
    ) -> GroupChatAgentResponse:
        response: Response | None = None
        # Hand over a copy: the agent may keep the list while the buffer is cleared and refilled.
        async for item in agent.on_messages_stream(list(self._message_buffer), ctx.cancellation_token):
            if isinstance(item, Response):
                response = item
                item = item.chat_message
            if span is not None:
                add_message_event(span, item)
            await self._log_message(item)
        if response is None:
            raise RuntimeError(f"Agent '{agent.name}' finished its turn without producing a Response.")
        return GroupChatAgentResponse.model_construct(response=response, name=agent.name)

    async def _run_team(self, team: Team, ctx: MessageContext, span: Span | None) -> GroupChatTeamResponse:
        result: TaskResult | None = None
        # An empty buffer means "continue": a nested team rejects an empty task list.
        task = list(self._message_buffer) or None
        async for item in team.run_stream(
            task=task, cancellation_token=ctx.cancellation_token, output_task_messages=False
        ):
            if isinstance(item, TaskResult):
                result = item
            else:
                if span is not None:
                    add_message_event(span, item)
                await self._log_message(item)
        if result is None:
            raise RuntimeError(f"Team '{team.name}' finished its turn without producing a TaskResult.")
        return GroupChatTeamResponse.model_construct(result=result, name=team.name)

    async def _log_message(self, message: BaseAgentEvent | BaseChatMessage) -> None:
        if not self._message_factory.is_registered(type(message)):
            raise ValueError(
                f"Message type {type(message).__name__} is not registered with the team; "
                "pass it in custom_message_types"
            )
        if self._output_message_queue is not None:
            self._output_message_queue.put_nowait(message)
        else:
            await self.publish_message(
                GroupChatMessage.model_construct(message=message),
                topic_id=self._topic(self._output_topic_type),
            )

    @event
    async def handle_group_chat_error(self, message: GroupChatError, ctx: MessageContext) -> None:
        """Another participant failed; the manager ends the run, nothing to do here."""

    @rpc
    async def handle_snapshot(self, message: GroupChatSnapshot, ctx: MessageContext) -> Mapping[str, Any]:
        """This container's state at a turn boundary (see :class:`GroupChatSnapshot`)."""
        return await self.save_state()

    @rpc
    async def handle_reset(self, message: GroupChatReset, ctx: MessageContext) -> None:
        """Forget the buffer and reset the participant."""
        self._message_buffer.clear()
        if isinstance(self._agent, Team):
            await self._agent.reset()
        else:
            await self._agent.on_reset(ctx.cancellation_token)

    @rpc
    async def handle_pause(self, message: GroupChatPause, ctx: MessageContext) -> None:
        """Pass a pause on to the participant (not serialised: it must reach a busy participant)."""
        if isinstance(self._agent, Team):
            await self._agent.pause()
        else:
            await self._agent.on_pause(ctx.cancellation_token)

    @rpc
    async def handle_resume(self, message: GroupChatResume, ctx: MessageContext) -> None:
        """Pass a resume on to the participant."""
        if isinstance(self._agent, Team):
            await self._agent.resume()
        else:
            await self._agent.on_resume(ctx.cancellation_token)

    async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> None:
        raise ValueError(f"Unhandled message in agent container: {type(message).__name__}")

    async def save_state(self) -> Mapping[str, Any]:
        """The participant's state and the messages it has not seen yet (a ``ChatAgentContainerState``)."""
        return {
            "type": "ChatAgentContainerState",
            "version": "1.0.0",
            "agent_state": await self._agent.save_state(),
            "message_buffer": [m.dump() for m in self._message_buffer],
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` produced; the buffer changes only if the agent loaded.

        Raises:
            StateError: the state does not fit this participant.
        """
        where = self._agent.name
        check_state_header(state, ChatAgentContainerState, where=where)
        try:
            container_state = ChatAgentContainerState.model_validate(state)
        except ValueError as exc:
            raise StateError(f"{where}: {exc}") from exc
        restored = parse_thread(
            container_state.message_buffer, self._message_factory, where=f"{where}.message_buffer"
        )
        buffer: list[BaseChatMessage] = []
        for index, message in enumerate(restored):
            if not isinstance(message, BaseChatMessage):
                raise StateError(f"{where}.message_buffer[{index}]: an event, not a chat message")
            buffer.append(message)
        try:
            await self._agent.load_state(container_state.agent_state)
        except StateError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{where}.agent_state: {exc}") from exc
        self._message_buffer = buffer
