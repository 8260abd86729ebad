"""BaseGroupChat: a team whose participants take turns on the core runtime.

How a team type plugs in
------------------------
A concrete team is two small classes:

1. A manager, subclassing
   :class:`~muster.teams._group_chat._base_group_chat_manager.BaseGroupChatManager`
   (built from one :class:`~muster.teams._group_chat._wiring.GroupChatWiring`), that
   implements ``select_speaker(thread) -> str | list[str]`` (who speaks next; a list
   means "these speak in parallel, then the manager decides again"),
   ``validate_group_state(messages)`` (reject a task the team cannot start with) and
   ``reset()`` (call ``self._reset_base()`` plus your own fields). State of its own goes
   in a ``BaseGroupChatManagerState`` subclass named by ``state_type``, with
   ``_state_fields``/``_check_state``/``_apply_state``.
   Managers that drive the chat themselves (MagenticOne) override ``handle_start`` /
   ``handle_agent_response`` and use ``_turn_boundary``, ``_request_turns``,
   ``_finish_run``, ``_log_message`` and ``_signal_termination_with_error``.
2. A team, subclassing :class:`BaseGroupChat` (and ``Component[YourConfig]``), whose
   ``__init__`` passes ``group_chat_manager_name`` and ``group_chat_manager_class`` up,
   and whose ``_create_group_chat_manager_factory(wiring)`` returns a zero-argument
   callable building the manager. Add ``_to_config``/``_from_config`` for specs.

Everything else (runtime set-up, topics, participant containers, task checking, the
output stream, cancellation, errors, reset, pause/resume, the turn hook, saved state
keyed by participant name and manager name, closing) is done here.

Topology (per team instance, ``team_id`` a uuid and the agent key of every agent):
``group_topic_<id>`` (manager + all containers), ``<participant>_<id>`` (one container
each, also its agent type), ``<manager name>_<id>`` (the manager's type), and
``output_topic_<id>``. Output travels through an in-process queue, not the runtime.
"""

from __future__ import annotations

import asyncio
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from muster.base import ChatAgent, TaskResult, Team, TerminationCondition, normalize_task
from muster.base.exceptions import InvalidTaskError
from muster.core import (
    AgentId,
    AgentRuntime,
    CancellationToken,
    ComponentBase,
    SingleThreadedAgentRuntime,
    TypeSubscription,
)
from muster.core.internal import construct_trusted
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    MessageFactory,
    ModelClientStreamingChunkEvent,
    StopMessage,
    StructuredMessage,
)
from muster.models.usage import current_usage_scope

from ..exceptions import GroupChatRuntimeError, ParticipantError, TeamNotInitializedError
from ._chat_agent_container import ChatAgentContainer
from ._events import (
    GroupChatPause,
    GroupChatReset,
    GroupChatResume,
    GroupChatStart,
    GroupChatTermination,
    SerializableException,
)
from ._run_control import RunControl, TurnHook
from ._sequential_routed_agent import SequentialRoutedAgent
from ._team_phase import TeamPhase, TeamPhaseMachine
from ._team_state import load_team_state, save_team_state
from ._wiring import GroupChatWiring

__all__ = ["BaseGroupChat"]

_ManagerT = TypeVar("_ManagerT", bound=SequentialRoutedAgent)

# Put on the output queue (compared by identity) when the caller's cancellation token fires.
_CANCELLED = GroupChatTermination.model_construct(
    message=StopMessage.model_construct(content="Cancelled.", source="cancellation_token"), error=None
)


def _error_for(error: SerializableException) -> Exception:
    if error.source is not None:
        return ParticipantError(error.source, error.error_type, error.error_message, error.traceback)
    return GroupChatRuntimeError(error.error_type, error.error_message, error.traceback)


class BaseGroupChat(Team, ABC, ComponentBase[BaseModel]):
    """The shared machinery of every group-chat team (see the module docstring).

    Args:
        name: The team's name (its name as a participant of another team).
        description: What the team does.
        participants: Agents and/or teams, with unique names.
        group_chat_manager_name: The manager's name: ``source`` of its messages and its key
            in saved state.
        group_chat_manager_class: The manager class, registered with the runtime.
        termination_condition: When to stop; checked after the task and every turn.
        max_turns: Stop after this many turns; ``None`` for no limit.
        runtime: Run on this (caller-managed, already started) runtime; by default the
            team embeds a ``SingleThreadedAgentRuntime`` started for each run.
        custom_message_types: Extra message classes the participants exchange.
        emit_team_events: Also stream ``SelectSpeakerEvent`` at every turn.
    """

    component_type = "team"

    def __init__(
        self,
        name: str,
        description: str,
        participants: list[ChatAgent | Team],
        group_chat_manager_name: str,
        group_chat_manager_class: type[SequentialRoutedAgent],
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
    ) -> None:
        if not participants:
            raise ValueError("At least one participant is required.")
        names = [p.name for p in participants]
        if len(set(names)) != len(names):
            raise ValueError(f"Participant names must be unique: {names}")
        if max_turns is not None and max_turns <= 0:
            raise ValueError("max_turns must be greater than 0")
        self._name = name
        self._description = description
        self._participants = list(participants)
        self._base_group_chat_manager_class = group_chat_manager_class
        self._termination_condition = termination_condition
        self._max_turns = max_turns
        self._emit_team_events = emit_team_events
        self._message_factory = MessageFactory()
        for message_type in custom_message_types or []:
            self._message_factory.register(message_type)
        self._custom_message_types = list(custom_message_types or [])
        for participant in participants:
            if isinstance(participant, ChatAgent):
                for produced in participant.produced_message_types:
                    # Structured output classes are generated per content model: register them
                    # so their messages can be restored from saved state.
                    if issubclass(produced, StructuredMessage) and not self._message_factory.is_registered(
                        produced
                    ):
                        self._message_factory.register(produced)

        self._team_id = str(uuid.uuid4())
        self._group_chat_manager_name = group_chat_manager_name
        self._participant_names = names
        self._participant_descriptions = [p.description for p in participants]
        self._group_topic_type = f"group_topic_{self._team_id}"
        self._group_chat_manager_topic_type = f"{group_chat_manager_name}_{self._team_id}"
        self._participant_topic_types = [f"{n}_{self._team_id}" for n in names]
        self._output_topic_type = f"output_topic_{self._team_id}"
        self._control = RunControl(name)
        self._turn_hook: TurnHook | None = None

        self._runtime: AgentRuntime
        if runtime is not None:
            self._runtime = runtime
            self._embedded_runtime = False
        else:
            self._runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
            self._embedded_runtime = True
        self._initialized = False
        self._phase = TeamPhaseMachine(name)
        # Set by the running run_stream; lets save_state() tell a settled run from a live one.
        self._run_settled: asyncio.Event | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @property
    def participants(self) -> list[ChatAgent | Team]:
        """The team's participants, in order."""
        return list(self._participants)

    @property
    def turn_hook(self) -> TurnHook | None:
        """An async callback awaited at every turn boundary with a :class:`TurnCheckpoint`.

        Set it before a run; ``None`` (the default) takes no snapshot and costs nothing.
        The hook holds the run while it runs, and a raising hook stops the run with
        :class:`~muster.teams.exceptions.TurnHookError` before the next turn starts.
        """
        return self._turn_hook

    @turn_hook.setter
    def turn_hook(self, hook: TurnHook | None) -> None:
        self._turn_hook = hook

    @property
    def run_id(self) -> str | None:
        """The id of the run in progress, or of the last run."""
        return self._control.run_id

    # ----------------------------------------------------------------- subclass helpers

    def _common_config_fields(self) -> dict[str, Any]:
        """Spec fields every group chat shares; a team's ``_to_config`` adds its own to these."""
        return {
            "name": self._name,
            "description": self._description,
            "participants": [p.dump_component() for p in self._participants],
            "termination_condition": (
                self._termination_condition.dump_component() if self._termination_condition else None
            ),
            "max_turns": self._max_turns,
            "emit_team_events": self._emit_team_events,
        }

    def _wiring(self) -> GroupChatWiring:
        return GroupChatWiring(
            name=self._group_chat_manager_name,
            group_topic_type=self._group_topic_type,
            output_topic_type=self._output_topic_type,
            participant_topic_types=self._participant_topic_types,
            participant_names=self._participant_names,
            participant_descriptions=self._participant_descriptions,
            termination_condition=self._termination_condition,
            max_turns=self._max_turns,
            message_factory=self._message_factory,
            emit_team_events=self._emit_team_events,
            control=self._control,
        )

    # ----------------------------------------------------------------- subclass hooks

    @abstractmethod
    def _create_group_chat_manager_factory(
        self, wiring: GroupChatWiring
    ) -> Callable[[], SequentialRoutedAgent]:
        """A factory building this team's manager from ``wiring``."""

    def _create_participant_factory(
        self,
        parent_topic_type: str,
        output_topic_type: str,
        agent: ChatAgent | Team,
        message_factory: MessageFactory,
    ) -> Callable[[], ChatAgentContainer]:
        """A factory building the container for one participant."""
        queue = self._control.output

        def _factory() -> ChatAgentContainer:
            return ChatAgentContainer(parent_topic_type, output_topic_type, agent, message_factory, queue)

        return _factory

    # ----------------------------------------------------------------- runtime wiring

    @property
    def _manager_id(self) -> AgentId:
        return AgentId(self._group_chat_manager_topic_type, self._team_id)

    def _participant_ids(self) -> list[tuple[str, AgentId]]:
        return [
            (name, AgentId(topic_type, self._team_id))
            for name, topic_type in zip(self._participant_names, self._participant_topic_types, strict=True)
        ]

    def _state_parts(self) -> list[tuple[str, AgentId]]:
        return [*self._participant_ids(), (self._group_chat_manager_name, self._manager_id)]

    async def _init(self, runtime: AgentRuntime) -> None:
        """Register the containers and the manager with the runtime, and wire the topics."""
        for participant, agent_type in zip(self._participants, self._participant_topic_types, strict=True):
            await ChatAgentContainer.register(
                runtime,
                type=agent_type,
                factory=self._create_participant_factory(
                    self._group_topic_type, self._output_topic_type, participant, self._message_factory
                ),
            )
            await runtime.add_subscription(TypeSubscription(topic_type=agent_type, agent_type=agent_type))
            await runtime.add_subscription(
                TypeSubscription(topic_type=self._group_topic_type, agent_type=agent_type)
            )
        manager_type = self._group_chat_manager_topic_type
        await self._base_group_chat_manager_class.register(
            runtime, type=manager_type, factory=self._create_group_chat_manager_factory(self._wiring())
        )
        for topic_type in (manager_type, self._group_topic_type, self._output_topic_type):
            await runtime.add_subscription(TypeSubscription(topic_type=topic_type, agent_type=manager_type))
        self._initialized = True

    async def _ensure_ready(self) -> None:
        if not self._initialized:
            await self._init(self._runtime)

    def _start_embedded_runtime(self) -> None:
        if self._embedded_runtime:
            assert isinstance(self._runtime, SingleThreadedAgentRuntime)
            self._runtime.start()

    async def _stop_embedded_runtime(self) -> None:
        if self._embedded_runtime:
            assert isinstance(self._runtime, SingleThreadedAgentRuntime)
            await self._runtime.stop_when_idle()

    # ----------------------------------------------------------------- running

    def _task_messages(
        self, task: str | BaseChatMessage | Sequence[BaseChatMessage] | None
    ) -> list[BaseChatMessage] | None:
        messages = normalize_task(task)
        for msg in messages:
            if not self._message_factory.is_registered(type(msg)):
                raise InvalidTaskError(
                    f"Message type {type(msg).__name__} is not registered with team '{self._name}'; "
                    "add it to custom_message_types"
                )
        return messages or None

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
        run_id: str | None = None,
    ) -> TaskResult:
        """Run the team until it stops and return every message it produced.

        ``task`` is a string, a chat message, a list of chat messages, or ``None`` to
        continue from where the previous run stopped (an unfinished run resumes exactly
        where it was cancelled, failed or saved).

        Args:
            task: The task, or ``None`` to continue.
            cancellation_token: Cancels the run at its next turn boundary (the turn in
                progress is asked to stop too).
            output_task_messages: Whether the task messages appear in the output.
            run_id: The run's id, carried by the turn hook's checkpoints, the usage
                records of its model calls and the result; generated when not given
                (or taken from an enclosing ``usage_scope(run_id=...)``).

        Raises:
            InvalidTaskError: ``task`` is not a task, or holds unregistered message types.
            TeamRunningError: the team is already running.
            TeamClosedError: the team was closed.
            ParticipantError: a participant failed (``agent_name`` says which).
            TurnHookError: the turn hook raised.
            asyncio.CancelledError: ``cancellation_token`` was cancelled.
        """
        result: TaskResult | None = None
        async for item in self.run_stream(
            task=task,
            cancellation_token=cancellation_token,
            output_task_messages=output_task_messages,
            run_id=run_id,
        ):
            if isinstance(item, TaskResult):
                result = item
        assert result is not None, "run_stream always ends with a TaskResult"
        return result

    async def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
        run_id: str | None = None,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        """Like :meth:`run`, yielding each message and event as produced, then the TaskResult.

        Streaming chunks (``ModelClientStreamingChunkEvent``) are yielded but left out of
        the result.
        """
        messages = self._task_messages(task)
        self._phase.enter(TeamPhase.RUNNING, "run")
        control = self._control
        control.run_id = run_id or current_usage_scope().run_id or uuid.uuid4().hex
        control.turn_hook = self._turn_hook
        control.hook_error = None
        queue = control.output
        queue.record_turns(self._turn_hook is not None)
        # The run's own token travels with every message of the run. It follows the
        # caller's token, and is also cancelled when the caller abandons the stream, so an
        # abandoned run stops at its next turn boundary instead of running on unobserved.
        token = CancellationToken()
        run_settled = self._run_settled = asyncio.Event()
        watchdog: asyncio.Task[None] | None = None
        unlink: Callable[[], None] | None = None
        completed = False
        try:
            self._start_embedded_runtime()
            await self._ensure_ready()
            loop = asyncio.get_running_loop()

            def _on_cancel() -> None:
                loop.call_soon_threadsafe(queue.put_nowait, _CANCELLED)

            token.add_callback(_on_cancel)
            if cancellation_token is not None:
                # Removed when the run ends: a token cancelled later must not reach later runs.
                unlink = cancellation_token.add_callback(token.cancel)
            if self._embedded_runtime:
                watchdog = asyncio.create_task(self._watch_runtime(queue))
            await self._runtime.send_message(
                GroupChatStart.model_construct(messages=messages, output_task_messages=output_task_messages),
                recipient=self._manager_id,
                cancellation_token=token,
            )
            output: list[BaseAgentEvent | BaseChatMessage] = []
            while True:
                item = await queue.get()
                if isinstance(item, GroupChatTermination):
                    if item is _CANCELLED:
                        raise asyncio.CancelledError()
                    if item.error is not None:
                        if control.hook_error is not None:
                            raise control.hook_error
                        raise _error_for(item.error)
                    stop_reason = item.message.content
                    break
                yield item
                if not isinstance(item, ModelClientStreamingChunkEvent):
                    output.append(item)
            completed = True
            yield construct_trusted(
                TaskResult, messages=output, stop_reason=stop_reason, run_id=control.run_id
            )
        finally:
            if unlink is not None:
                unlink()
            if not completed:
                token.cancel()
            try:
                if watchdog is not None:
                    await watchdog
            finally:
                run_settled.set()
                control.turn_hook = None
                control.drain()
                self._phase.leave()

    async def _watch_runtime(self, queue: asyncio.Queue[Any]) -> None:
        """Stop the embedded runtime once idle; end the stream if nothing else did.

        A chat normally ends with the manager's GroupChatTermination; this catches the
        cases where the runtime went quiet without one (a handler failed inside the
        runtime), so a run can never hang.
        """
        assert isinstance(self._runtime, SingleThreadedAgentRuntime)
        try:
            await self._runtime.stop_when_idle()
        except Exception as exc:
            if self._run_settled is not None:
                self._run_settled.set()
            queue.put_nowait(
                GroupChatTermination.model_construct(
                    message=construct_trusted(
                        StopMessage,
                        content="An exception occurred in the runtime.",
                        source=self._group_chat_manager_name,
                    ),
                    error=SerializableException.from_exception(exc),
                )
            )
            return
        queue.put_nowait(
            GroupChatTermination.model_construct(
                message=construct_trusted(
                    StopMessage, content="The group chat is stopped.", source=self._group_chat_manager_name
                ),
                error=None,
            )
        )

    # ----------------------------------------------------------------- lifecycle

    async def reset(self) -> None:
        """Reset the manager and every participant; the next run starts a new conversation.

        Raises:
            TeamRunningError: the team is running.
            TeamClosedError: the team was closed.
        """
        self._phase.enter(TeamPhase.RESETTING, "reset")
        try:
            self._start_embedded_runtime()
            await self._ensure_ready()
            for _, agent_id in self._participant_ids():
                await self._runtime.send_message(GroupChatReset(), recipient=agent_id)
            await self._runtime.send_message(GroupChatReset(), recipient=self._manager_id)
            self._control.previous_state = None
        finally:
            try:
                await self._stop_embedded_runtime()
            finally:
                self._control.drain()
                self._phase.leave()

    async def _broadcast_control(self, message: GroupChatPause | GroupChatResume, operation: str) -> None:
        if not self._initialized:
            raise TeamNotInitializedError(self._name, operation)
        # Outside a run the embedded runtime is stopped and would never deliver.
        idle_embedded = self._embedded_runtime and not self._phase.running
        if idle_embedded:
            self._start_embedded_runtime()
        try:
            for _, agent_id in self._participant_ids():
                await self._runtime.send_message(message, recipient=agent_id)
            await self._runtime.send_message(message, recipient=self._manager_id)
        finally:
            if idle_embedded:
                await self._stop_embedded_runtime()

    async def pause(self) -> None:
        """Ask every participant to pause (``on_pause``); the run itself keeps its place.

        Raises:
            TeamNotInitializedError: the team has never been run.
        """
        await self._broadcast_control(GroupChatPause(), "pause")

    async def resume(self) -> None:
        """Ask every participant to resume (``on_resume``).

        Raises:
            TeamNotInitializedError: the team has never been run.
        """
        await self._broadcast_control(GroupChatResume(), "resume")

    async def close(self) -> None:
        """Unregister what this team registered on its runtime; the team cannot run again.

        On a shared runtime this is what keeps the runtime from holding every finished
        team's agents and subscriptions. Idempotent.

        Raises:
            TeamRunningError: the team is busy (a run, reset or load is in progress).
        """
        if self._phase.phase is TeamPhase.CLOSED:
            return
        self._phase.enter(TeamPhase.CLOSED, "close")
        if self._initialized:
            self._initialized = False
            # Not part of the AgentRuntime protocol (AutoGen's); a custom runtime without it
            # keeps the registrations, as AutoGen's runtimes always do.
            unregister = getattr(self._runtime, "unregister_agent_type", None)
            wait = getattr(self._runtime, "wait_for_agent_type", None)
            if unregister is not None:
                for agent_type in (*self._participant_topic_types, self._group_chat_manager_topic_type):
                    if wait is not None:
                        # The run returned on the manager's last message; its handler may
                        # still be returning.
                        await wait(agent_type)
                    await unregister(agent_type)
        self._control.drain()
        self._control.previous_state = None

    async def save_state(self) -> Mapping[str, Any]:
        """The manager's and every participant's state, keyed by name (``TeamState``).

        Called during a run, it returns the snapshot taken at the run's next turn
        boundary (or its state once it ends), so the snapshot is always consistent: a
        team loaded from it continues exactly as the original would have. Cancelling the
        call leaves the run untouched.
        """
        await self._ensure_ready()
        if self._phase.running and self._run_settled is not None and not self._run_settled.is_set():
            snapshot = await self._snapshot_from_run(self._run_settled)
            if snapshot is not None:
                return snapshot
        return await save_team_state(self._runtime, self._state_parts())

    async def _snapshot_from_run(self, run_settled: asyncio.Event) -> Mapping[str, Any] | None:
        """The next boundary's snapshot, or ``None`` if the run settled first."""
        control = self._control
        snapshot = control.request_snapshot()
        settled: asyncio.Future[Any] = asyncio.ensure_future(run_settled.wait())
        waiting: list[asyncio.Future[Any]] = [snapshot, settled]
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            settled.cancel()
            if not snapshot.done():
                snapshot.cancel()
            control.discard_request(snapshot)
        if snapshot.cancelled():
            return None
        return snapshot.result()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`save_state` snapshot, from this team or one built from the same spec.

        Everything is checked against this team (``type``, ``version``, names, indices)
        and a refused state leaves the team as it was.

        Raises:
            TeamRunningError: the team is running.
            TeamClosedError: the team was closed.
            StateError: the snapshot does not fit this team (the message names the field).
        """
        self._phase.enter(TeamPhase.LOADING, "load_state")
        try:
            await self._ensure_ready()
            await load_team_state(self._runtime, self._state_parts(), state, team_name=self._name)
            self._control.previous_state = dict(state)
        finally:
            self._phase.leave()
