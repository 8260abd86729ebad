"""MagenticOneGroupChat: a team steered by a planning, self-monitoring orchestrator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.base import ChatAgent, Team, TerminationCondition
from muster.core import AgentRuntime, Component, ComponentModel
from muster.messages import BaseAgentEvent, BaseChatMessage
from muster.models import ChatCompletionClient

from .._group_chat._base_group_chat import BaseGroupChat
from .._group_chat._specs import load_termination
from .._group_chat._wiring import GroupChatWiring
from ._orchestrator import MagenticOneOrchestrator
from ._prompts import FINAL_ANSWER_PROMPT

__all__ = ["MagenticOneGroupChat", "MagenticOneGroupChatConfig"]


class MagenticOneGroupChatConfig(BaseModel):
    """Spec of a :class:`MagenticOneGroupChat`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str | None = None
    description: str | None = None
    participants: list[ComponentModel]
    model_client: ComponentModel
    termination_condition: ComponentModel | None = None
    max_turns: int | None = None
    max_stalls: int
    final_answer_prompt: str
    emit_team_events: bool = False


class MagenticOneGroupChat(BaseGroupChat, Component[MagenticOneGroupChatConfig]):
    """A team run by the Magentic-One orchestrator (Fourney et al., 2024).

    The orchestrator first writes a fact sheet and a plan, then after every turn asks its
    model for a progress ledger naming the next speaker and their instruction. It answers
    the user itself once the model judges the request satisfied, or when ``max_turns``
    rounds have passed (stop reason ``"Max rounds reached."``). ``max_stalls`` turns without
    progress (or in a loop) make it revise the facts, re-plan and restart the participants.
    Its own messages come from ``"MagenticOneOrchestrator"``.

    The orchestrator's model must answer in JSON for the progress ledger; models that
    declare ``structured_output`` or ``json_output`` are asked for it natively, others are
    told the schema in the prompt, and an unusable answer is sent back (up to 10 times)
    with what was wrong.

    Args:
        participants: Agents (not teams) with unique names and useful descriptions: the
            orchestrator chooses among them by description.
        model_client: The orchestrator's model.
        name: The team's name; defaults to ``"MagenticOneGroupChat"``.
        description: What the team does; defaults to ``"A team of agents."``.
        termination_condition: Stop early (without a final answer) when it fires.
        max_turns: Rounds per run before the orchestrator answers with what it has.
        runtime: A caller-managed runtime to run on (default: an embedded one per run).
        max_stalls: Stalled rounds, net of progress, that trigger re-planning.
        final_answer_prompt: Asks for the final answer; ``{task}`` is replaced by the task.
        custom_message_types: Extra message classes the participants exchange.
        emit_team_events: Also stream a ``SelectSpeakerEvent`` at every turn.

    Raises:
        TypeError: a participant is not a ChatAgent.
        ValueError: no participants, duplicate names, or ``max_turns``/``max_stalls`` below 1.
    """

    component_config_schema = MagenticOneGroupChatConfig
    component_provider_override = "muster.teams.MagenticOneGroupChat"

    DEFAULT_NAME = "MagenticOneGroupChat"
    DEFAULT_DESCRIPTION = "A team of agents."

    def __init__(
        self,
        participants: list[ChatAgent],
        model_client: ChatCompletionClient,
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = 20,
        runtime: AgentRuntime | None = None,
        max_stalls: int = 3,
        final_answer_prompt: str = FINAL_ANSWER_PROMPT,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
    ) -> None:
        for participant in participants:
            if isinstance(participant, Team) or not isinstance(participant, ChatAgent):
                raise TypeError(f"Participant {participant!r} must be a ChatAgent.")
        if not participants:
            raise ValueError("At least one participant is required for MagenticOneGroupChat.")
        if max_stalls < 1:
            raise ValueError("max_stalls must be at least 1")
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=list[ChatAgent | Team](participants),
            group_chat_manager_name="MagenticOneOrchestrator",
            group_chat_manager_class=MagenticOneOrchestrator,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
            emit_team_events=emit_team_events,
        )
        self._model_client = model_client
        self._max_stalls = max_stalls
        self._final_answer_prompt = final_answer_prompt

    def _create_group_chat_manager_factory(
        self, wiring: GroupChatWiring
    ) -> Callable[[], MagenticOneOrchestrator]:
        def _factory() -> MagenticOneOrchestrator:
            return MagenticOneOrchestrator(
                wiring,
                model_client=self._model_client,
                max_stalls=self._max_stalls,
                final_answer_prompt=self._final_answer_prompt,
            )

        return _factory

    def _to_config(self) -> MagenticOneGroupChatConfig:
        return MagenticOneGroupChatConfig(
            **self._common_config_fields(),
            model_client=self._model_client.dump_component(),
            max_stalls=self._max_stalls,
            final_answer_prompt=self._final_answer_prompt,
        )

    @classmethod
    def _from_config(cls, config: MagenticOneGroupChatConfig) -> Self:
        return cls(
            [ChatAgent.load_component(p) for p in config.participants],
            ChatCompletionClient.load_component(config.model_client),
            name=config.name,
            description=config.description,
            termination_condition=load_termination(config.termination_condition),
            max_turns=config.max_turns,
            max_stalls=config.max_stalls,
            final_answer_prompt=config.final_answer_prompt,
            emit_team_events=config.emit_team_events,
        )
