"""The wiring a team hands its manager: topics, participants, output, condition, limits.

Passing these as one typed object (instead of ten positional arguments that had to
mirror the manager's ``__init__`` order) lets a team type add a manager option without
touching every other team, and lets the base class check the topology once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from muster.base import TerminationCondition
from muster.messages import MessageFactory

from ._run_control import OutputQueue, RunControl

__all__ = ["GroupChatWiring"]


@dataclass(frozen=True, slots=True)
class GroupChatWiring:
    """Everything a group-chat manager needs from its team, built by ``BaseGroupChat``.

    Attributes:
        name: The manager's name: ``source`` of its messages and its key in saved state.
        group_topic_type: Topic type the manager and every participant container listen on.
        output_topic_type: Topic type of the run's output (kept for AutoGen parity).
        participant_topic_types: Each participant's own topic type, in participant order.
        participant_names: The participants' names, in the same order.
        participant_descriptions: The participants' descriptions, in the same order.
        termination_condition: Checked after the task messages and after every turn.
        max_turns: Stop after this many turns; ``None`` for no limit.
        message_factory: Rebuilds messages from saved state.
        emit_team_events: Also put a ``SelectSpeakerEvent`` on the output at every turn.
        control: What the team and manager share about the current run (output queue,
            run id, turn hook, snapshot requests).
    """

    name: str
    group_topic_type: str
    output_topic_type: str
    participant_topic_types: list[str]
    participant_names: list[str]
    participant_descriptions: list[str]
    termination_condition: TerminationCondition | None = None
    max_turns: int | None = None
    message_factory: MessageFactory = field(default_factory=MessageFactory)
    emit_team_events: bool = False
    control: RunControl = field(default_factory=RunControl)

    def __post_init__(self) -> None:
        if self.max_turns is not None and self.max_turns <= 0:
            raise ValueError("max_turns must be greater than 0")
        topics, names = self.participant_topic_types, self.participant_names
        if not len(topics) == len(names) == len(self.participant_descriptions):
            raise ValueError("participant topic types, names and descriptions must have the same length")
        if len(set(topics)) != len(topics):
            raise ValueError("participant topic types must be unique")
        if self.group_topic_type in topics:
            raise ValueError("the group topic type must differ from every participant topic type")

    @property
    def output_message_queue(self) -> OutputQueue:
        """The run's output queue."""
        return self.control.output
