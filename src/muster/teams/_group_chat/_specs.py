"""Helpers shared by the teams' ``_from_config``: rebuilding participants and conditions."""

from __future__ import annotations

from collections.abc import Sequence

from muster.base import ChatAgent, Team, TerminationCondition
from muster.core import ComponentModel

__all__ = ["load_participants", "load_termination"]


def load_participants(specs: Sequence[ComponentModel]) -> list[ChatAgent | Team]:
    """Load each participant spec as a team or an agent, by its ``component_type``."""
    participants: list[ChatAgent | Team] = []
    for spec in specs:
        if spec.component_type == Team.component_type:
            participants.append(Team.load_component(spec))
        else:
            participants.append(ChatAgent.load_component(spec))
    return participants


def load_termination(spec: ComponentModel | None) -> TerminationCondition | None:
    """Load a termination condition spec, if there is one."""
    return TerminationCondition.load_component(spec) if spec is not None else None
