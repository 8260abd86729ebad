"""RoundRobinGroupChat: participants speak in turn, in the order given."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self

from pydantic import BaseModel

from muster.base import ChatAgent, Team, TerminationCondition
from muster.core import AgentRuntime, Component, ComponentModel
from muster.messages import BaseAgentEvent, BaseChatMessage, MessageFactory
from muster.state import RoundRobinManagerState

from ._base_group_chat import BaseGroupChat
from ._base_group_chat_manager import BaseGroupChatManager
from ._chat_agent_container import OutputQueue
from ._specs import load_participants, load_termination

__all__ = ["RoundRobinGroupChat", "RoundRobinGroupChatConfig", "RoundRobinGroupChatManager"]


class RoundRobinGroupChatManager(BaseGroupChatManager):
    """Selects participants cyclically; the position survives runs and saved state."""

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
            name,
            group_topic_type,
            output_topic_type,
            participant_topic_types,
            participant_names,
            participant_descriptions,
            output_message_queue,
            termination_condition,
            max_turns,
            message_factory,
            emit_team_events,
        )
        self._next_speaker_index = 0
        self._turn_speaker_index = 0

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any task (or none) is fine for a round robin."""

    async def reset(self) -> None:
        await self._reset_base()
        self._next_speaker_index = 0

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> str:
        index = self._turn_speaker_index = self._next_speaker_index
        self._next_speaker_index = (index + 1) % len(self._participant_names)
        return self._participant_names[index]

    async def save_state(self) -> Mapping[str, Any]:
        # Saved mid-turn, the speaker still owes its answer: a team restored from this
        # state must ask it again rather than skip it.
        index = self._turn_speaker_index if self._active_speakers else self._next_speaker_index
        return RoundRobinManagerState(
            message_thread=self._dump_thread(),
            current_turn=self._current_turn,
            next_speaker_index=index,
        ).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        loaded = RoundRobinManagerState.model_validate(state)
        self._load_thread(loaded.message_thread)
        self._current_turn = loaded.current_turn
        self._next_speaker_index = loaded.next_speaker_index


class RoundRobinGroupChatConfig(BaseModel):
    """Declarative spec of a :class:`RoundRobinGroupChat`."""

    name: str | None = None
    description: str | None = None
    participants: list[ComponentModel]
    termination_condition: ComponentModel | None = None
    max_turns: int | None = None
    emit_team_events: bool = False


class RoundRobinGroupChat(BaseGroupChat, Component[RoundRobinGroupChatConfig]):
    """A team whose participants speak one after another, in order, sharing one thread.

    Every participant sees every chat message (not the inner events) produced since its
    previous turn. The run stops when ``termination_condition`` fires or after
    ``max_turns`` turns; ``run()`` again (with or without a task) continues with the next
    participant in the cycle.

    Args:
        participants: Agents and/or teams, with unique names.
        name: The team's name; defaults to ``"RoundRobinGroupChat"``.
        description: What the team does; defaults to ``"A team of agents."``.
        termination_condition: When to stop.
        max_turns: Stop after this many turns.
        runtime: A caller-managed runtime to run on (default: an embedded one per run).
        custom_message_types: Extra message classes the participants exchange.
        emit_team_events: Also stream ``SelectSpeakerEvent`` at every turn.
    """

    component_config_schema = RoundRobinGroupChatConfig
    component_provider_override = "muster.teams.RoundRobinGroupChat"

    DEFAULT_NAME = "RoundRobinGroupChat"
    DEFAULT_DESCRIPTION = "A team of agents."

    def __init__(
        self,
        participants: list[ChatAgent | Team],
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
    ) -> None:
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=participants,
            group_chat_manager_name="RoundRobinGroupChatManager",
            group_chat_manager_class=RoundRobinGroupChatManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
            emit_team_events=emit_team_events,
        )

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
    ) -> Callable[[], RoundRobinGroupChatManager]:
        return self._manager_factory(
            RoundRobinGroupChatManager,
            name,
            group_topic_type,
            output_topic_type,
            participant_topic_types,
            participant_names,
            participant_descriptions,
            output_message_queue,
            termination_condition,
            max_turns,
            message_factory,
        )

    def _to_config(self) -> RoundRobinGroupChatConfig:
        return RoundRobinGroupChatConfig(**self._common_config_fields())

    @classmethod
    def _from_config(cls, config: RoundRobinGroupChatConfig) -> Self:
        return cls(
            load_participants(config.participants),
            name=config.name,
            description=config.description,
            termination_condition=load_termination(config.termination_condition),
            max_turns=config.max_turns,
            emit_team_events=config.emit_team_events,
        )
