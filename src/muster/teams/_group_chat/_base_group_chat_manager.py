"""The runtime agent that runs a group chat: keeps the thread, checks termination, picks speakers.

A turn is: the manager selects the next speakers, reaches a *turn boundary* (where it
may take a snapshot and await the team's turn hook), then publishes
``GroupChatRequestPublish`` to each speaker's topic; each speaker's container answers with
``GroupChatAgentResponse`` (or ``GroupChatTeamResponse``) on the group topic; when every
selected speaker has answered, the manager appends the turn to the thread, applies the
termination condition and ``max_turns``, and selects again. The run ends at a last
boundary, then one ``GroupChatTermination`` is put on the output queue.

Run status
----------
The chat is ``idle`` (never run, or its last run finished) or ``active`` (a run started
and has not finished: it is running, or was cancelled, failed or saved mid-way). Both
the status and the speakers still owed a turn are part of the saved state, so a team
loaded from any boundary snapshot and run with no task resumes exactly there; a run
with a new task ends an unfinished run and starts over with a fresh budget.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from muster.base import TerminationCondition
from muster.base.exceptions import StateError
from muster.core import AgentId, CancellationToken, MessageContext, event, rpc
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, SelectSpeakerEvent, StopMessage
from muster.state import BaseGroupChatManagerState

from .._checkpoint import TurnCheckpoint, state_delta
from ..exceptions import TurnHookError
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
    GroupChatTermination,
    SerializableException,
)
from ._sequential_routed_agent import SequentialRoutedAgent
from ._state_checks import check_state_header, parse_thread
from ._wiring import GroupChatWiring

__all__ = ["BaseGroupChatManager", "ChatStatus"]

ChatStatus = Literal["idle", "active"]


class BaseGroupChatManager(SequentialRoutedAgent, ABC):
    """Base of every group-chat manager; subclasses decide who speaks next.

    Subclasses implement :meth:`select_speaker`, :meth:`validate_group_state` and
    :meth:`reset` (calling :meth:`_reset_base`); a subclass with state of its own sets
    :attr:`state_type` and overrides :meth:`_state_fields`, :meth:`_check_state` and
    :meth:`_apply_state`. They may override :meth:`update_message_thread` to keep derived
    data (the selector's rendered history) in step with the thread.

    Args:
        wiring: Topics, participants, output, condition and limits, from the team.
    """

    state_type: ClassVar[type[BaseGroupChatManagerState]] = BaseGroupChatManagerState
    """The saved-state model; its default ``type`` tag is what :meth:`load_state` accepts."""

    def __init__(self, wiring: GroupChatWiring) -> None:
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
        self._wiring = wiring
        self._control = wiring.control
        self._name = wiring.name
        self._group_topic_type = wiring.group_topic_type
        self._output_topic_type = wiring.output_topic_type
        self._participant_names = wiring.participant_names
        self._participant_descriptions = wiring.participant_descriptions
        self._participant_name_to_topic_type = dict(
            zip(wiring.participant_names, wiring.participant_topic_types, strict=True)
        )
        self._output_message_queue = wiring.output_message_queue
        self._termination_condition: TerminationCondition | None = wiring.termination_condition
        self._max_turns = wiring.max_turns
        self._message_factory = wiring.message_factory
        self._emit_team_events = wiring.emit_team_events
        self._message_thread: list[BaseAgentEvent | BaseChatMessage] = []
        self._dump_cache: list[tuple[BaseAgentEvent | BaseChatMessage, Mapping[str, Any]]] = []
        self._current_turn = 0
        self._turn_index = 0
        self._status: ChatStatus = "idle"
        self._active_speakers: list[str] = []
        self._turn_delta: list[BaseAgentEvent | BaseChatMessage] = []
        self._current_cancellation_token: CancellationToken = CancellationToken()
        self._request = construct_trusted(GroupChatRequestPublish)

    @property
    def status(self) -> ChatStatus:
        """``"active"`` from a run's start until it finishes (a cancelled or failed run stays active)."""
        return self._status

    # ----------------------------------------------------------------- handlers

    @rpc
    async def handle_start(self, message: GroupChatStart, ctx: MessageContext) -> None:
        """Start a run, or resume an unfinished one when no task is given."""
        token = self._current_cancellation_token = ctx.cancellation_token
        self._request = construct_trusted(GroupChatRequestPublish, run_id=self._control.run_id)
        resuming = not message.messages and self._status == "active"
        if not resuming:
            # Raised to the caller as is (through the start RPC): the task was refused.
            await self.validate_group_state(message.messages)
        try:
            if resuming:
                if self._active_speakers:
                    await self._request_turns(list(self._active_speakers), token)
                else:
                    await self._next_step(token)
                return
            if self._status == "active":
                # A new task ends the unfinished run: a fresh budget, nobody owed a turn.
                await self._reset_run_budget()
                self._active_speakers.clear()
            if self._termination_condition is not None and self._termination_condition.terminated:
                await self._signal_termination(
                    StopMessage(content="The group chat has already terminated.", source=self._name)
                )
                return
            self._status = "active"
            self._turn_index = 0
            self._turn_delta.clear()
            await self._start_run(message, token)
        except Exception as exc:
            # As during the run: the caller gets a typed error from the output stream.
            await self._signal_termination_with_error(SerializableException.from_exception(exc))

    async def _start_run(self, message: GroupChatStart, token: CancellationToken) -> None:
        """Begin a new run: record and relay the task messages, check them, select speakers."""
        if message.messages:
            if message.output_task_messages:
                for msg in message.messages:
                    self._output_message_queue.put_nowait(msg)
            await self.publish_message(
                GroupChatStart.model_construct(messages=message.messages, output_task_messages=True),
                topic_id=self._topic(self._group_topic_type),
                cancellation_token=token,
            )
            await self.update_message_thread(message.messages)
            if await self._apply_termination_condition(message.messages):
                return
        await self._transition_to_next_speakers(token)

    async def _next_step(self, token: CancellationToken) -> None:
        """What a resumed run does when nobody is owed a turn: select the next speakers."""
        await self._transition_to_next_speakers(token)

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
            if self._status != "active":
                return
            if self._active_speakers:
                # Parallel speakers: the condition judges the whole turn once it is complete.
                self._turn_delta.extend(delta)
                return
            if self._turn_delta:
                delta = [*self._turn_delta, *delta]
                self._turn_delta.clear()
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
        self._status = "idle"
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
        """Select the next speakers, reach the turn boundary, then ask each to speak.

        A cancelled run stops here, between turns, so the state it leaves is a clean
        boundary and ``run()`` with no task resumes from it.
        """
        if cancellation_token.is_cancelled():
            return
        self._current_cancellation_token = cancellation_token
        selected = await self.select_speaker(self._message_thread)
        speakers = [selected] if isinstance(selected, str) else list(selected)
        if not speakers:
            raise RuntimeError(f"{type(self).__name__}.select_speaker selected no speaker")
        for speaker in speakers:
            if speaker not in self._participant_name_to_topic_type:
                raise RuntimeError(f"Speaker {speaker!r} is not a participant of this group chat")
        self._active_speakers = list(speakers)
        await self._log_speaker_selection(speakers)
        if self._control.wants_snapshot:
            await self._turn_boundary()
        else:  # no hook, no save_state waiting: the boundary is just its number
            self._turn_index += 1
        if cancellation_token.is_cancelled():
            return  # nobody asked yet: a resumed run asks them
        await self._request_turns(speakers, cancellation_token)

    async def _request_turns(self, speakers: Sequence[str], cancellation_token: CancellationToken) -> None:
        for speaker in speakers:
            await self.publish_message(
                self._request,
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
                await self._finish_run(stop)
                return True
        if increment_turn_count:
            self._current_turn += 1
        if self._max_turns is not None and self._current_turn >= self._max_turns:
            await self._finish_run(
                StopMessage(content=f"Maximum number of turns {self._max_turns} reached.", source=self._name)
            )
            return True
        return False

    async def _finish_run(self, stop: StopMessage) -> None:
        """End the run normally: fresh budget for the next one, last boundary, termination."""
        await self._reset_run_budget()
        self._status = "idle"
        self._active_speakers.clear()
        await self._signal_termination(stop)

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
        """The last boundary of a run, then the termination the caller's stream ends on."""
        self._status = "idle"
        await self._turn_boundary(stop=message)
        self._output_message_queue.put_nowait(
            GroupChatTermination.model_construct(message=message, error=None)
        )

    async def _signal_termination_with_error(self, error: SerializableException) -> None:
        """End the run with an error; the chat stays active so a retry resumes it."""
        self._output_message_queue.put_nowait(
            GroupChatTermination.model_construct(
                message=StopMessage(content="An error occurred in the group chat.", source=self._name),
                error=error,
            )
        )

    # ----------------------------------------------------------------- turn boundaries

    async def _turn_boundary(self, stop: StopMessage | None = None) -> None:
        """Snapshot and hand the checkpoint to the turn hook (when anyone wants it).

        With no hook and no pending ``save_state()``, this is a counter increment.
        A raising hook fails the run with :class:`TurnHookError`.
        """
        index = self._turn_index
        self._turn_index += 1
        control = self._control
        if not control.wants_snapshot:
            return
        messages = self._output_message_queue.take_turn()
        state = await self._team_snapshot()
        control.deliver_snapshot(state)
        hook = control.turn_hook
        if hook is None:
            return
        previous = control.previous_state
        control.previous_state = state
        checkpoint = TurnCheckpoint(
            run_id=control.run_id or "",
            team=self._wiring_team_name(),
            turn=index,
            messages=messages,
            state=state,
            delta=state_delta(previous, state) if previous is not None else None,
            status="finished" if stop is not None else "running",
            stop_reason=stop.content if stop is not None else None,
            next_speakers=tuple(self._active_speakers),
        )
        try:
            await hook(checkpoint)
        except Exception as exc:
            error = control.hook_error = TurnHookError(index, exc)
            raise error from exc

    def _wiring_team_name(self) -> str:
        return self._control.team_name or self._name

    async def _team_snapshot(self) -> Mapping[str, Any]:
        """Every participant's state and the manager's, as ``TeamState`` would save them.

        Each container is asked through the runtime, so the request queues behind any
        message of this turn the container has not handled yet: the snapshot includes it.
        """
        agent_states: dict[str, Any] = {}
        for name, topic_type in self._participant_name_to_topic_type.items():
            agent_states[name] = await self.send_message(
                GroupChatSnapshot(), recipient=AgentId(topic_type, self.id.key)
            )
        agent_states[self._name] = await self.save_state()
        return {"type": "TeamState", "version": "1.0.0", "agent_states": agent_states}

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
        self._turn_index = 0
        self._status = "idle"
        self._active_speakers.clear()
        self._turn_delta.clear()
        if self._termination_condition is not None:
            await self._termination_condition.reset()

    # ----------------------------------------------------------------- saved state

    def _dump_thread(self) -> list[Mapping[str, Any]]:
        """The thread as plain JSON, dumping each message once over the chat's life.

        A boundary snapshot is taken every turn when a hook is installed; re-dumping the
        whole thread each time would make a run quadratic. The cache is trusted only
        while its last entry is still the message at that position of the thread.
        """
        thread, cache = self._message_thread, self._dump_cache
        if len(cache) > len(thread) or (cache and thread[len(cache) - 1] is not cache[-1][0]):
            cache.clear()
        for message in thread[len(cache) :]:
            cache.append((message, message.dump()))
        return [dumped for _, dumped in cache]

    def _state_fields(self) -> dict[str, Any]:
        """The subclass's own fields of :attr:`state_type`."""
        return {}

    async def save_state(self) -> Mapping[str, Any]:
        """The thread, turn counts, run status, speakers owed a turn, condition progress.

        Built as a plain dict with :attr:`state_type`'s fields (not through the model, whose
        dump would copy the whole thread again at every turn).
        """
        condition = self._termination_condition
        return {
            "type": self.state_type.model_fields["type"].default,
            "version": self.state_type.model_fields["version"].default,
            "message_thread": self._dump_thread(),
            "current_turn": self._current_turn,
            "turn_index": self._turn_index,
            "run_status": self._status,
            "next_speakers": list(self._active_speakers),
            "termination_state": await condition.save_state() if condition is not None else None,
            **self._state_fields(),
        }

    def _check_state(self, state: Any) -> None:
        """Check the subclass's fields against this team (names, indices); raise StateError."""

    def _apply_state(self, state: Any) -> None:
        """Take the subclass's fields from a checked state (must not fail)."""

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` produced, or AutoGen's state of the same type.

        Everything is checked before anything changes.

        Raises:
            StateError: the state's ``type``/``version`` or a field does not fit this team.
        """
        check_state_header(state, self.state_type, where=self._name)
        try:
            loaded = self.state_type.model_validate(state)
        except ValidationError as exc:
            raise StateError(f"{self._name}: {exc}") from exc
        thread = parse_thread(
            loaded.message_thread, self._message_factory, where=f"{self._name}.message_thread"
        )
        if loaded.current_turn < 0 or loaded.turn_index < 0:
            raise StateError(f"{self._name}.current_turn/turn_index: must not be negative")
        unknown = [s for s in loaded.next_speakers if s not in self._participant_name_to_topic_type]
        if unknown:
            raise StateError(
                f"{self._name}.next_speakers: {unknown} are not participants {self._participant_names}"
            )
        if loaded.run_status not in ("idle", "active"):
            raise StateError(f"{self._name}.run_status: {loaded.run_status!r} is neither 'idle' nor 'active'")
        self._check_state(loaded)
        condition = self._termination_condition
        if condition is not None and loaded.termination_state is not None:
            try:
                await condition.load_state(loaded.termination_state)
            except StateError as exc:
                field = f"{self._name}.termination_state" + (f".{exc.field}" if exc.field else "")
                raise StateError(exc.detail, field=field) from exc
        elif condition is not None:
            # A state without condition progress (AutoGen's): the condition starts afresh.
            await condition.reset()
        self._message_thread = thread
        self._dump_cache = []
        self._current_turn = loaded.current_turn
        self._turn_index = loaded.turn_index
        self._status = "active" if loaded.run_status == "active" else "idle"
        self._active_speakers = list(loaded.next_speakers)
        self._turn_delta.clear()
        self._apply_state(loaded)
