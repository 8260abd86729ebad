"""The runtime agent that runs a group chat: keeps the thread, checks termination, picks speakers.

A turn is: the manager publishes ``GroupChatRequestPublish`` to each selected speaker's
topic; each speaker's container answers with ``GroupChatAgentResponse`` (or
``GroupChatTeamResponse``) on the group topic; when every selected speaker has answered,
the manager appends the turn to the thread, applies the termination condition and
``max_turns``, and selects the next speakers. The run ends with one
``GroupChatTermination`` put on the output queue.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from muster.base import TerminationCondition
from muster.core import CancellationToken, MessageContext, event, rpc
from muster.messages import BaseAgentEvent, BaseChatMessage, MessageFactory, SelectSpeakerEvent, StopMessage
from muster.state import BaseGroupChatManagerState

from ._chat_agent_container import OutputQueue
from ._events import (
    GroupChatAgentResponse,
    GroupChatError,
    GroupChatMessage,
    GroupChatPause,
    GroupChatRequestPublish,
    GroupChatReset,
    GroupChatResume,
    GroupChatStart,
    GroupChatTeamResponse,
    GroupChatTermination,
    SerializableException,
)
from ._sequential_routed_agent import SequentialRoutedAgent

__all__ = ["BaseGroupChatManager"]

_REQUEST = GroupChatRequestPublish()  # stateless; one instance serves every turn


class BaseGroupChatManager(SequentialRoutedAgent, ABC):
    """Base of every group-chat manager; subclasses decide who speaks next.

    The caller (:class:`~muster.teams.BaseGroupChat`) guarantees the topology: every
    participant container subscribes to the group topic and to its own topic (whose type
    equals its agent type), and the manager subscribes to the group topic.

    Subclasses implement :meth:`select_speaker`, :meth:`validate_group_state`,
    :meth:`reset`, and :meth:`save_state`/:meth:`load_state` (use
    :meth:`_dump_thread`/:meth:`_load_thread` for the thread). They may override
    :meth:`update_message_thread` to keep derived data (the selector's rendered
    history) in step with the thread.

    Args:
        name: The manager's name, used as ``source`` of its messages and as its key in
            the team's saved state.
        group_topic_type: Topic type every participant and the manager listen on.
        output_topic_type: Topic type of the run's output (kept for AutoGen parity).
        participant_topic_types: Each participant's own topic type, in participant order.
        participant_names: The participants' names, in the same order.
        participant_descriptions: The participants' descriptions, in the same order.
        output_message_queue: Where the run's output and final termination go.
        termination_condition: Checked after the task messages and after every turn.
        max_turns: Stop after this many turns; ``None`` for no limit.
        message_factory: Rebuilds messages from saved state.
        emit_team_events: Also put a ``SelectSpeakerEvent`` on the output at every turn.
    """

    def __init__(
        self,
        name: str,
        group_topic_type: str,
        output_topic_type: str,
        participant_topic_types: list[str],
        participant_names: list[str],
        participant_descriptions: list[str],
        output_message_queue: OutputQueue,
        termination_condition: TerminationCondition | None,
        max_turns: int | None,
        message_factory: MessageFactory,
        emit_team_events: bool = False,
    ) -> None:
        super().__init__(
            description="Group chat manager",
            sequential_message_types=[
                GroupChatStart,
                GroupChatAgentResponse,
                GroupChatTeamResponse,
                GroupChatMessage,
                GroupChatReset,
            ],
        )
        if max_turns is not None and max_turns <= 0:
            raise ValueError("max_turns must be greater than 0")
        if not len(participant_topic_types) == len(participant_names) == len(participant_descriptions):
            raise ValueError("participant topic types, names and descriptions must have the same length")
        if len(set(participant_topic_types)) != len(participant_topic_types):
            raise ValueError("participant topic types must be unique")
        if group_topic_type in participant_topic_types:
            raise ValueError("the group topic type must differ from every participant topic type")
        self._name = name
        self._group_topic_type = group_topic_type
        self._output_topic_type = output_topic_type
        self._participant_names = participant_names
        self._participant_descriptions = participant_descriptions
        self._participant_name_to_topic_type = dict(
            zip(participant_names, participant_topic_types, strict=True)
        )
        self._output_message_queue = output_message_queue
        self._termination_condition = termination_condition
        self._max_turns = max_turns
        self._message_factory = message_factory
        self._emit_team_events = emit_team_events
        self._message_thread: list[BaseAgentEvent | BaseChatMessage] = []
        self._current_turn = 0
        self._active_speakers: list[str] = []
        self._run_active = False
        self._interrupted = False
        self._current_cancellation_token: CancellationToken = CancellationToken()
        self._checkpoint_requests: list[asyncio.Future[Callable[[], None]]] = []

    # ----------------------------------------------------------------- handlers

    @rpc
    async def handle_start(self, message: GroupChatStart, ctx: MessageContext) -> None:
        """Start or continue a run: record the task messages, then select the first speakers."""
        self._current_cancellation_token = ctx.cancellation_token
        # A cancelled or failed previous run may have left speakers that will never answer.
        self._active_speakers.clear()
        if self._run_active or self._interrupted:
            # That run ended without reaching its termination; give this one a fresh budget,
            # as a normal end of run does.
            await self._reset_run_budget()
        self._interrupted = False
        if self._termination_condition is not None and self._termination_condition.terminated:
            await self._signal_termination(
                StopMessage(content="The group chat has already terminated.", source=self._name)
            )
            return
        await self.validate_group_state(message.messages)
        self._run_active = True
        if message.messages:
            if message.output_task_messages:
                for msg in message.messages:
                    self._output_message_queue.put_nowait(msg)
            await self.publish_message(
                GroupChatStart.model_construct(messages=message.messages, output_task_messages=True),
                topic_id=self._topic(self._group_topic_type),
                cancellation_token=ctx.cancellation_token,
            )
        try:
            if message.messages:
                await self.update_message_thread(message.messages)
                if await self._apply_termination_condition(message.messages):
                    return
            await self._transition_to_next_speakers(ctx.cancellation_token)
        except Exception as exc:
            # As during the run: the caller gets a typed error from the output stream.
            await self._signal_termination_with_error(SerializableException.from_exception(exc))

    @event
    async def handle_agent_response(
        self, message: GroupChatAgentResponse | GroupChatTeamResponse, ctx: MessageContext
    ) -> None:
        """Record a speaker's turn; once every selected speaker answered, check and move on."""
        try:
            delta: list[BaseAgentEvent | BaseChatMessage]
            if isinstance(message, GroupChatAgentResponse):
                inner = message.response.inner_messages
                delta = [*inner, message.response.chat_message] if inner else [message.response.chat_message]
            else:
                delta = list(message.result.messages)
            await self.update_message_thread(delta)
            if message.name in self._active_speakers:
                self._active_speakers.remove(message.name)
            if self._active_speakers or not self._run_active:
                return
            if await self._apply_termination_condition(delta, increment_turn_count=True):
                return
            await self._transition_to_next_speakers(ctx.cancellation_token)
        except Exception as exc:
            await self._signal_termination_with_error(SerializableException.from_exception(exc))

    @event
    async def handle_group_chat_message(self, message: GroupChatMessage, ctx: MessageContext) -> None:
        """Forward output published on the output topic (by AutoGen-style containers) to the caller."""
        self._output_message_queue.put_nowait(message.message)

    @event
    async def handle_group_chat_error(self, message: GroupChatError, ctx: MessageContext) -> None:
        """A participant failed: end the run with its error."""
        await self._signal_termination_with_error(message.error)

    @rpc
    async def handle_reset(self, message: GroupChatReset, ctx: MessageContext) -> None:
        """Forget the conversation (see :meth:`reset`)."""
        self._active_speakers.clear()
        self._run_active = False
        await self.reset()

    @rpc
    async def handle_pause(self, message: GroupChatPause, ctx: MessageContext) -> None:
        """Pausing needs nothing from the manager itself; subclasses may react."""

    @rpc
    async def handle_resume(self, message: GroupChatResume, ctx: MessageContext) -> None:
        """Resuming needs nothing from the manager itself; subclasses may react."""

    async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> None:
        raise ValueError(f"Unhandled message in group chat manager: {type(message).__name__}")

    # ----------------------------------------------------------------- machinery

    async def _transition_to_next_speakers(self, cancellation_token: CancellationToken) -> None:
        """Select the next speakers and ask each to speak.

        A cancelled run stops here, between turns, so the saved state is a clean turn
        boundary and ``run()`` can continue from it.
        """
        if self._checkpoint_requests:  # checked here too: no coroutine per turn when nobody waits
            await self._checkpoint()
        if cancellation_token.is_cancelled():
            self._run_active = False
            self._interrupted = True
            return
        self._current_cancellation_token = cancellation_token
        selected = await self.select_speaker(self._message_thread)
        speakers = [selected] if isinstance(selected, str) else list(selected)
        if not speakers:
            raise RuntimeError(f"{type(self).__name__}.select_speaker selected no speaker")
        for speaker in speakers:
            if speaker not in self._participant_name_to_topic_type:
                raise RuntimeError(f"Speaker {speaker!r} is not a participant of this group chat")
        await self._log_speaker_selection(speakers)
        for speaker in speakers:
            self._active_speakers.append(speaker)
            await self.publish_message(
                _REQUEST,
                topic_id=self._topic(self._participant_name_to_topic_type[speaker]),
                cancellation_token=cancellation_token,
            )

    async def _apply_termination_condition(
        self, delta: Sequence[BaseAgentEvent | BaseChatMessage], increment_turn_count: bool = False
    ) -> bool:
        """Check the condition and ``max_turns`` against ``delta``; on a stop, end the run.

        Ending resets the condition and the turn count, so the next ``run()`` continues
        the conversation with a fresh budget (AutoGen's behaviour).
        """
        if self._termination_condition is not None:
            stop = await self._termination_condition(delta)
            if stop is not None:
                await self._reset_run_budget()
                await self._signal_termination(stop)
                return True
        if increment_turn_count:
            self._current_turn += 1
        if self._max_turns is not None and self._current_turn >= self._max_turns:
            await self._reset_run_budget()
            await self._signal_termination(
                StopMessage(content=f"Maximum number of turns {self._max_turns} reached.", source=self._name)
            )
            return True
        return False

    async def _reset_run_budget(self) -> None:
        """Reset the termination condition and turn count, as at the end of every run."""
        if self._termination_condition is not None:
            await self._termination_condition.reset()
        self._current_turn = 0

    async def _log_speaker_selection(self, speaker_names: list[str]) -> None:
        if self._emit_team_events:
            self._output_message_queue.put_nowait(
                SelectSpeakerEvent(content=speaker_names, source=self._name)
            )

    async def _log_message(self, message: BaseAgentEvent | BaseChatMessage) -> None:
        """Put a message the manager itself produced on the run's output."""
        self._output_message_queue.put_nowait(message)

    async def _signal_termination(self, message: StopMessage) -> None:
        self._run_active = False
        self._output_message_queue.put_nowait(
            GroupChatTermination.model_construct(message=message, error=None)
        )
        await self._checkpoint()

    async def _signal_termination_with_error(self, error: SerializableException) -> None:
        self._run_active = False
        self._interrupted = True
        self._output_message_queue.put_nowait(
            GroupChatTermination.model_construct(
                message=StopMessage(content="An error occurred in the group chat.", source=self._name),
                error=error,
            )
        )
        await self._checkpoint()

    # ----------------------------------------------------------------- checkpoints

    def wait_for_checkpoint(self) -> asyncio.Future[Callable[[], None]]:
        """A future resolved at the next turn boundary with a ``release`` callable.

        Until every requester calls its ``release``, the manager holds the chat at that
        boundary: the thread holds every finished turn, participants have buffered it,
        and no new turn has started. That is what makes a snapshot taken during a run
        consistent (``BaseGroupChat.save_state`` uses it).
        """
        future: asyncio.Future[Callable[[], None]] = asyncio.get_running_loop().create_future()
        self._checkpoint_requests.append(future)
        return future

    async def _checkpoint(self) -> None:
        """Serve pending checkpoint requests; free (one list check) when there are none."""
        if not self._checkpoint_requests:
            return
        requests, self._checkpoint_requests = self._checkpoint_requests, []
        requests = [r for r in requests if not r.done()]
        if not requests:
            return
        hold: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        outstanding = [len(requests)]

        def make_release() -> Callable[[], None]:
            released = False

            def release() -> None:
                nonlocal released
                if released:
                    return
                released = True
                outstanding[0] -= 1
                if outstanding[0] == 0 and not hold.done():
                    hold.set_result(None)

            return release

        for request in requests:
            request.set_result(make_release())
        await hold

    # ----------------------------------------------------------------- subclass hooks

    @abstractmethod
    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Check that a run can start with ``messages`` (``None``: continue); raise if not."""

    async def update_message_thread(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        """Append to the thread; called with the task messages and with each turn's output."""
        self._message_thread.extend(messages)

    @abstractmethod
    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str] | str:
        """Name the participant(s) to speak next, given the whole thread so far."""

    @abstractmethod
    async def reset(self) -> None:
        """Forget the conversation: thread, turn count, condition and selection state."""

    async def _reset_base(self) -> None:
        """Reset what every manager has; subclasses call it from :meth:`reset`."""
        self._message_thread.clear()
        self._current_turn = 0
        self._active_speakers.clear()
        if self._termination_condition is not None:
            await self._termination_condition.reset()

    def _dump_thread(self) -> list[Mapping[str, Any]]:
        return [m.dump() for m in self._message_thread]

    def _load_thread(self, dumped: Sequence[Mapping[str, Any]]) -> None:
        self._message_thread = [self._message_factory.create(m) for m in dumped]

    async def save_state(self) -> Mapping[str, Any]:
        """The thread and turn count; subclasses with more state override this."""
        return BaseGroupChatManagerState(
            message_thread=self._dump_thread(), current_turn=self._current_turn
        ).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` produced."""
        loaded = BaseGroupChatManagerState.model_validate(state)
        self._load_thread(loaded.message_thread)
        self._current_turn = loaded.current_turn
