"""RoundRobinGroupChat: participants speak in turn, in the order given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from muster.base import ChatAgent, Team, TerminationCondition
from muster.base.exceptions import StateError
from muster.core import AgentRuntime, Component, ComponentModel
from muster.messages import BaseAgentEvent, BaseChatMessage
from muster.state import RoundRobinManagerState

from ._base_group_chat import BaseGroupChat
from ._base_group_chat_manager import BaseGroupChatManager
from ._specs import load_participants, load_termination
from ._wiring import GroupChatWiring

__all__ = ["RoundRobinGroupChat", "RoundRobinGroupChatConfig", "RoundRobinGroupChatManager"]


class RoundRobinGroupChatManager(BaseGroupChatManager):
    """Selects participants cyclically; the position survives runs and saved state."""

    state_type = RoundRobinManagerState

    def __init__(self, wiring: GroupChatWiring) -> None:
        super().__init__(wiring)
        self._next_speaker_index = 0

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any task (or none) is fine for a round robin."""

    async def reset(self) -> None:
        await self._reset_base()
        self._next_speaker_index = 0

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> str:
        index = self._next_speaker_index
        self._next_speaker_index = (index + 1) % len(self._participant_names)
        return self._participant_names[index]

    def _state_fields(self) -> dict[str, Any]:
        return {"next_speaker_index": self._next_speaker_index}

    def _check_state(self, state: Any) -> None:
        index = state.next_speaker_index
        if not 0 <= index < len(self._participant_names):
            raise StateError(
                f"{self._name}.next_speaker_index: {index} is out of range for "
                f"{len(self._participant_names)} participants"
            )

    def _apply_state(self, state: Any) -> None:
        self._next_speaker_index = state.next_speaker_index


class RoundRobinGroupChatConfig(BaseModel):
    """Declarative spec of a :class:`RoundRobinGroupChat`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

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
        self, wiring: GroupChatWiring
    ) -> Callable[[], RoundRobinGroupChatManager]:
        return lambda: RoundRobinGroupChatManager(wiring)

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
