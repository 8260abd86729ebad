"""BaseGroupChat: a team whose participants take turns on the core runtime.

How a team type plugs in
------------------------
A concrete team is two small classes:

1. A manager, subclassing
   :class:`~muster.teams._group_chat._base_group_chat_manager.BaseGroupChatManager`,
   that implements ``select_speaker(thread) -> str | list[str]`` (who speaks next; a
   list means "these speak in parallel, then the manager decides again"),
   ``validate_group_state(messages)`` (reject a task the team cannot start with),
   ``reset()`` (call ``self._reset_base()`` plus your own fields) and
   ``save_state()``/``load_state()`` (a ``BaseGroupChatManagerState`` subclass from
   ``muster.state``; ``self._dump_thread()``/``self._load_thread()`` do the thread).
   Managers that drive the chat themselves (MagenticOne) override ``handle_start`` /
   ``handle_agent_response`` and use ``_transition_to_next_speakers``,
   ``_apply_termination_condition``, ``_signal_termination``, ``_log_message`` and
   ``publish_message(GroupChatRequestPublish(), topic_id=self._topic(topic_type))``.
2. A team, subclassing :class:`BaseGroupChat` (and ``Component[YourConfig]``), whose
   ``__init__`` passes ``group_chat_manager_name`` and ``group_chat_manager_class`` up,
   and whose ``_create_group_chat_manager_factory(...)`` returns a zero-argument callable
   building the manager from the arguments it is given (they carry the team's topic
   types, names, output queue, condition, ``max_turns`` and message factory). Add
   ``_to_config``/``_from_config`` for declarative specs.

Everything else (runtime set-up, topics, participant containers, task checking, the
output stream, cancellation, errors, reset, pause/resume, saved state keyed by participant
name and manager name) is done here.

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

from pydantic import BaseModel, ValidationError

from muster.agents._base_chat_agent import normalize_task
from muster.base import ChatAgent, TaskResult, Team, TerminationCondition
from muster.base.exceptions import InvalidTaskError, StateError
from muster.core import (
    AgentId,
    AgentRuntime,
    CancellationToken,
    ComponentBase,
    SingleThreadedAgentRuntime,
    TypeSubscription,
)
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    MessageFactory,
    ModelClientStreamingChunkEvent,
    StopMessage,
    StructuredMessage,
)
from muster.state import TeamState

from ..exceptions import GroupChatRuntimeError, ParticipantError, TeamNotInitializedError, TeamRunningError
from ._base_group_chat_manager import BaseGroupChatManager
from ._chat_agent_container import ChatAgentContainer, OutputQueue
from ._events import (
    GroupChatPause,
    GroupChatReset,
    GroupChatResume,
    GroupChatStart,
    GroupChatTermination,
    SerializableException,
)
from ._sequential_routed_agent import SequentialRoutedAgent

__all__ = ["BaseGroupChat"]


# Put on the output queue (compared by identity) when the caller's cancellation token fires.
_ManagerT = TypeVar("_ManagerT", bound=SequentialRoutedAgent)

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
        # Built on first use (see ``_output_message_queue``): an idle team costs no queue.
        self._output_queue: OutputQueue | None = None

        self._runtime: AgentRuntime
        if runtime is not None:
            self._runtime = runtime
            self._embedded_runtime = False
        else:
            self._runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
            self._embedded_runtime = True
        self._initialized = False
        self._is_running = False
        self._run_in_progress = False
        # Replaced by a fresh event at the start of every run; only read while a run is in
        # progress (or by the run's own watchdog), so an idle team needs none.
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
    def _output_message_queue(self) -> OutputQueue:
        """The run's output queue, created on first use.

        An ``asyncio.Queue`` is three deques and an event (about 3 KiB); a server holding
        many idle teams should not pay for one per team before it ever runs.
        """
        queue = self._output_queue
        if queue is None:
            queue = self._output_queue = asyncio.Queue()
        return queue

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

    def _manager_factory(
        self, manager_class: Callable[..., _ManagerT], *wiring: Any
    ) -> Callable[[], _ManagerT]:
        """A factory for managers taking the standard wiring followed by ``emit_team_events``.

        ``wiring`` is the argument list of :meth:`_create_group_chat_manager_factory`, in order.
        """
        emit_team_events = self._emit_team_events

        def _factory() -> _ManagerT:
            return manager_class(*wiring, emit_team_events)

        return _factory

    # ----------------------------------------------------------------- subclass hooks

    @abstractmethod
    def _create_group_chat_manager_factory(
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
    ) -> Callable[[], SequentialRoutedAgent]:
        """A factory building this team's manager from the given wiring."""

    def _create_participant_factory(
        self,
        parent_topic_type: str,
        output_topic_type: str,
        agent: ChatAgent | Team,
        message_factory: MessageFactory,
    ) -> Callable[[], ChatAgentContainer]:
        """A factory building the container for one participant."""
        queue = self._output_message_queue

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
            runtime,
            type=manager_type,
            factory=self._create_group_chat_manager_factory(
                name=self._group_chat_manager_name,
                group_topic_type=self._group_topic_type,
                output_topic_type=self._output_topic_type,
                participant_topic_types=self._participant_topic_types,
                participant_names=self._participant_names,
                participant_descriptions=self._participant_descriptions,
                output_message_queue=self._output_message_queue,
                termination_condition=self._termination_condition,
                max_turns=self._max_turns,
                message_factory=self._message_factory,
            ),
        )
        for topic_type in (manager_type, self._group_topic_type, self._output_topic_type):
            await runtime.add_subscription(TypeSubscription(topic_type=topic_type, agent_type=manager_type))
        self._initialized = True

    def _start_embedded_runtime(self) -> None:
        if self._embedded_runtime:
            assert isinstance(self._runtime, SingleThreadedAgentRuntime)
            self._runtime.start()

    async def _stop_embedded_runtime(self) -> None:
        if self._embedded_runtime:
            assert isinstance(self._runtime, SingleThreadedAgentRuntime)
            await self._runtime.stop_when_idle()

    def _drain_output(self) -> None:
        queue = self._output_queue
        if queue is None:
            return
        while not queue.empty():
            queue.get_nowait()

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
    ) -> TaskResult:
        """Run the team until it stops and return every message it produced.

        ``task`` is a string, a chat message, a list of chat messages, or ``None`` to
        continue from where the previous run stopped.

        Raises:
            InvalidTaskError: ``task`` is not a task, or holds unregistered message types.
            TeamRunningError: the team is already running.
            ParticipantError: a participant failed (``agent_name`` says which).
            asyncio.CancelledError: ``cancellation_token`` was cancelled.
        """
        result: TaskResult | None = None
        async for item in self.run_stream(
            task=task, cancellation_token=cancellation_token, output_task_messages=output_task_messages
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
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        """Like :meth:`run`, yielding each message and event as produced, then the TaskResult.

        Streaming chunks (``ModelClientStreamingChunkEvent``) are yielded but left out of
        the result.
        """
        messages = self._task_messages(task)
        if self._is_running:
            raise TeamRunningError(self._name, "run")
        self._is_running = True
        queue = self._output_message_queue
        # The run's own token travels with every message of the run. It follows the
        # caller's token, and is also cancelled when the caller abandons the stream, so an
        # abandoned run stops at its next turn boundary instead of running on unobserved.
        token = CancellationToken()
        run_settled = self._run_settled = asyncio.Event()
        watchdog: asyncio.Task[None] | None = None
        completed = False
        try:
            self._start_embedded_runtime()
            if not self._initialized:
                await self._init(self._runtime)
            loop = asyncio.get_running_loop()

            # One callback per run, not per message; thread-safe because a token may be
            # cancelled from another thread.
            def _on_cancel() -> None:
                loop.call_soon_threadsafe(queue.put_nowait, _CANCELLED)

            token.add_callback(_on_cancel)
            if cancellation_token is not None:
                cancellation_token.add_callback(token.cancel)
            if self._embedded_runtime:
                watchdog = asyncio.create_task(self._watch_runtime())
            self._run_in_progress = True
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
                        raise _error_for(item.error)
                    stop_reason = item.message.content
                    break
                yield item
                if not isinstance(item, ModelClientStreamingChunkEvent):
                    output.append(item)
            completed = True
            yield TaskResult(messages=output, stop_reason=stop_reason)
        finally:
            if not completed:
                token.cancel()
            try:
                if watchdog is not None:
                    await watchdog
            finally:
                self._run_in_progress = False
                run_settled.set()
                self._drain_output()
                self._is_running = False

    async def _watch_runtime(self) -> None:
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
            self._output_message_queue.put_nowait(
                GroupChatTermination.model_construct(
                    message=StopMessage(
                        content="An exception occurred in the runtime.", source=self._group_chat_manager_name
                    ),
                    error=SerializableException.from_exception(exc),
                )
            )
            return
        self._output_message_queue.put_nowait(
            GroupChatTermination.model_construct(
                message=StopMessage(
                    content="The group chat is stopped.", source=self._group_chat_manager_name
                ),
                error=None,
            )
        )

    # ----------------------------------------------------------------- lifecycle

    async def reset(self) -> None:
        """Reset the manager and every participant; the next run starts a new conversation.

        Raises:
            TeamRunningError: the team is running.
        """
        if self._is_running:
            raise TeamRunningError(self._name, "reset")
        self._is_running = True
        try:
            self._start_embedded_runtime()
            if not self._initialized:
                await self._init(self._runtime)
            for _, agent_id in self._participant_ids():
                await self._runtime.send_message(GroupChatReset(), recipient=agent_id)
            await self._runtime.send_message(GroupChatReset(), recipient=self._manager_id)
        finally:
            try:
                await self._stop_embedded_runtime()
            finally:
                self._drain_output()
                self._is_running = False

    async def _broadcast_control(self, message: GroupChatPause | GroupChatResume, operation: str) -> None:
        if not self._initialized:
            raise TeamNotInitializedError(self._name, operation)
        # Outside a run the embedded runtime is stopped and would never deliver.
        idle_embedded = self._embedded_runtime and not self._is_running
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

    async def save_state(self) -> Mapping[str, Any]:
        """The manager's and every participant's state, keyed by name (``TeamState``).

        Called during a run, it waits for the next turn boundary (or the end of the run)
        and holds the chat there while it takes the snapshot, so the snapshot is always
        consistent: a team loaded from it continues exactly as the original would have.
        """
        if not self._initialized:
            await self._init(self._runtime)
        release = await self._wait_for_turn_boundary() if self._run_in_progress else None
        try:
            agent_states: dict[str, Mapping[str, Any]] = {}
            for name, agent_id in self._participant_ids():
                agent_states[name] = await self._runtime.agent_save_state(agent_id)
            agent_states[self._group_chat_manager_name] = await self._runtime.agent_save_state(
                self._manager_id
            )
        finally:
            if release is not None:
                release()
        return TeamState(agent_states=agent_states).model_dump()

    async def _wait_for_turn_boundary(self) -> Callable[[], None] | None:
        """Wait until the manager holds the chat at a turn boundary; ``None`` if the run ended first."""
        manager: object = await self._runtime.try_get_underlying_agent_instance(self._manager_id)
        if not isinstance(manager, BaseGroupChatManager):
            return None
        run_settled = self._run_settled
        assert run_settled is not None, "set by run_stream before a run is in progress"
        checkpoint = manager.wait_for_checkpoint()
        settled: asyncio.Future[Any] = asyncio.ensure_future(run_settled.wait())
        waiting: list[asyncio.Future[Any]] = [checkpoint, settled]
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            settled.cancel()
        if checkpoint.done() and not checkpoint.cancelled():
            return checkpoint.result()
        checkpoint.cancel()
        return None

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`save_state` snapshot, from this team or one with the same participants.

        Raises:
            TeamRunningError: the team is running.
            StateError: the snapshot does not fit this team.
        """
        if self._is_running:
            raise TeamRunningError(self._name, "load_state")
        if not self._initialized:
            await self._init(self._runtime)
        self._is_running = True
        try:
            try:
                team_state = TeamState.model_validate(state)
            except ValidationError as exc:
                raise StateError(f"Not a team state: {exc}") from exc
            agent_states = team_state.agent_states
            expected = [*self._participant_names, self._group_chat_manager_name]
            missing = [n for n in expected if n not in agent_states]
            if missing:
                raise StateError(f"Saved team state has no state for {missing}")
            try:
                for name, agent_id in self._participant_ids():
                    await self._runtime.agent_load_state(agent_id, agent_states[name])
                await self._runtime.agent_load_state(
                    self._manager_id, agent_states[self._group_chat_manager_name]
                )
            except (ValidationError, KeyError, TypeError) as exc:
                raise StateError(f"Saved team state does not fit team '{self._name}': {exc}") from exc
        finally:
            self._is_running = False
