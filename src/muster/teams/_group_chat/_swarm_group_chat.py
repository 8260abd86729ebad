"""Swarm: the speaker keeps the floor until it hands off with a HandoffMessage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from muster.base import ChatAgent, TerminationCondition
from muster.base.exceptions import StateError
from muster.core import AgentRuntime, Component, ComponentModel
from muster.messages import BaseAgentEvent, BaseChatMessage, HandoffMessage
from muster.state import SwarmManagerState

from ._base_group_chat import BaseGroupChat
from ._base_group_chat_manager import BaseGroupChatManager
from ._specs import load_termination
from ._wiring import GroupChatWiring

__all__ = ["Swarm", "SwarmConfig", "SwarmGroupChatManager"]


class SwarmGroupChatManager(BaseGroupChatManager):
    """Selects the target of the latest handoff, or keeps the current speaker.

    The latest handoff target is tracked as messages join the thread, so selecting a
    speaker never rescans the conversation.
    """

    state_type = SwarmManagerState

    def __init__(self, wiring: GroupChatWiring) -> None:
        super().__init__(wiring)
        self._current_speaker = self._participant_names[0]
        self._last_handoff_target: str | None = None

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """A new handoff must target a participant; without one, the pending handoff must.

        This is what makes resuming after ``HandoffTermination`` explicit: when the last
        handoff went to someone outside the team (the user), the next task has to hand
        the conversation back with a ``HandoffMessage`` to a participant.
        """
        for message in messages or []:
            if isinstance(message, HandoffMessage):
                if message.target not in self._participant_names:
                    raise ValueError(
                        f"The handoff target {message.target!r} is not a participant "
                        f"({self._participant_names}); to resume a Swarm, hand off to one of them."
                    )
                return
        if self._last_handoff_target is not None and self._last_handoff_target not in self._participant_names:
            raise ValueError(
                f"The conversation was handed off to {self._last_handoff_target!r}, who is not a participant "
                f"({self._participant_names}); resume with a HandoffMessage targeting one of them."
            )

    async def update_message_thread(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        self._message_thread.extend(messages)
        for message in messages:
            if isinstance(message, HandoffMessage):
                self._last_handoff_target = message.target

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> str:
        target = self._last_handoff_target
        if target is not None:
            if target not in self._participant_names:
                raise ValueError(f"Handoff to {target!r}, who is not a participant of this Swarm")
            self._current_speaker = target
        return self._current_speaker

    async def reset(self) -> None:
        await self._reset_base()
        self._current_speaker = self._participant_names[0]
        self._last_handoff_target = None

    def _state_fields(self) -> dict[str, Any]:
        return {"current_speaker": self._current_speaker}

    def _check_state(self, state: Any) -> None:
        speaker = state.current_speaker
        if speaker and speaker not in self._participant_names:
            raise StateError(
                f"{self._name}.current_speaker: {speaker!r} is not a participant {self._participant_names}"
            )

    def _apply_state(self, state: Any) -> None:
        self._current_speaker = state.current_speaker or self._participant_names[0]
        self._last_handoff_target = next(
            (m.target for m in reversed(self._message_thread) if isinstance(m, HandoffMessage)), None
        )


class SwarmConfig(BaseModel):
    """Declarative spec of a :class:`Swarm`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str | None = None
    description: str | None = None
    participants: list[ComponentModel]
    termination_condition: ComponentModel | None = None
    max_turns: int | None = None
    emit_team_events: bool = False


class Swarm(BaseGroupChat, Component[SwarmConfig]):
    """A team where the speaker changes only through handoffs.

    The first participant speaks first and must be able to produce ``HandoffMessage``.
    An agent hands off by answering with a ``HandoffMessage`` whose ``target`` names the
    next speaker; otherwise it keeps speaking. For human-in-the-loop, give an agent a
    handoff to ``"user"`` and stop on ``HandoffTermination("user")``; resume by running
    with a ``HandoffMessage`` from the user to a participant.

    Args:
        participants: Chat agents (not teams), with unique names.
        name: The team's name; defaults to ``"Swarm"``.
        description: What the team does.
        termination_condition: When to stop.
        max_turns: Stop after this many turns.
        runtime: A caller-managed runtime to run on.
        custom_message_types: Extra message classes the participants exchange.
        emit_team_events: Also stream ``SelectSpeakerEvent`` at every turn.
    """

    component_config_schema = SwarmConfig
    component_provider_override = "muster.teams.Swarm"

    DEFAULT_NAME = "Swarm"
    DEFAULT_DESCRIPTION = "A team of agents."

    def __init__(
        self,
        participants: list[ChatAgent],
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
    ) -> None:
        for participant in participants:
            if not isinstance(participant, ChatAgent):
                raise TypeError(f"Swarm participants must be chat agents, not {type(participant).__name__}")
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=list(participants),
            group_chat_manager_name="SwarmGroupChatManager",
            group_chat_manager_class=SwarmGroupChatManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
            emit_team_events=emit_team_events,
        )
        if HandoffMessage not in participants[0].produced_message_types:
            raise ValueError(
                f"The first participant ({participants[0].name}) must be able to produce handoffs."
            )

    def _create_group_chat_manager_factory(
        self, wiring: GroupChatWiring
    ) -> Callable[[], SwarmGroupChatManager]:
        return lambda: SwarmGroupChatManager(wiring)

    def _to_config(self) -> SwarmConfig:
        return SwarmConfig(**self._common_config_fields())

    @classmethod
    def _from_config(cls, config: SwarmConfig) -> Self:
        return cls(
            [ChatAgent.load_component(p) for p in config.participants],
            name=config.name,
            description=config.description,
            termination_condition=load_termination(config.termination_condition),
            max_turns=config.max_turns,
            emit_team_events=config.emit_team_events,
        )
