"""Saved states of termination conditions: what each has counted or seen so far.

A team saves its condition with the rest of its state after every turn, so a run resumed
in a fresh process stops exactly where the uninterrupted run would have. Only progress is
saved, never settings: the condition loading a state is built from the same spec as the
one that saved it, so ``max_messages`` and the like are already there.

AutoGen does not save conditions, so these formats are muster's own. The tags follow
AutoGen's naming (class name + ``State``), which is also the tag a user's condition that
does not override ``save_state`` gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ._states import BaseState

__all__ = [
    "AndTerminationConditionState",
    "ExternalTerminationState",
    "FiredConditionState",
    "FunctionCallTerminationState",
    "FunctionalTerminationState",
    "HandoffTerminationState",
    "MaxMessageTerminationState",
    "OrTerminationConditionState",
    "SourceMatchTerminationState",
    "StopMessageTerminationState",
    "TextMentionTerminationState",
    "TextMessageTerminationState",
    "TimeoutTerminationState",
    "TokenUsageTerminationState",
]


class AndTerminationConditionState(BaseState):
    """``a & b``: each child's state, and the stop messages of the children that fired."""

    conditions: list[Mapping[str, Any]] = Field(default_factory=list)
    """The children's states, in the order the children were combined."""
    stop_messages: list[Mapping[str, Any]] = Field(default_factory=list)
    """Dumped StopMessages collected so far; the final stop message joins them all."""
    type: str = Field(default="AndTerminationConditionState")


class OrTerminationConditionState(BaseState):
    """``a | b``: each child's state (an Or fires on one batch, so it collects nothing)."""

    conditions: list[Mapping[str, Any]] = Field(default_factory=list)
    """The children's states, in the order the children were combined."""
    type: str = Field(default="OrTerminationConditionState")


class MaxMessageTerminationState(BaseState):
    """MaxMessageTermination: the messages counted since the last reset."""

    count: int = Field(default=0, ge=0)
    type: str = Field(default="MaxMessageTerminationState")


class TokenUsageTerminationState(BaseState):
    """TokenUsageTermination: the tokens counted since the last reset."""

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    type: str = Field(default="TokenUsageTerminationState")


class FiredConditionState(BaseState):
    """A condition whose only progress is whether it has fired (the base of those below)."""

    terminated: bool = False
    type: str = Field(default="FiredConditionState")


class TimeoutTerminationState(FiredConditionState):
    """TimeoutTermination: the time already used, so a resumed run gets only what is left.

    Elapsed time, not a start timestamp: the monotonic clock it is measured on means
    nothing in another process, and the time a run spent crashed is not charged to it.
    """

    elapsed_seconds: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    type: str = Field(default="TimeoutTerminationState")


class ExternalTerminationState(FiredConditionState):
    """ExternalTermination: whether ``set()`` was called and not yet acted on."""

    requested: bool = False
    type: str = Field(default="ExternalTerminationState")


class StopMessageTerminationState(FiredConditionState):
    """StopMessageTermination: whether it fired."""

    type: str = Field(default="StopMessageTerminationState")


class TextMentionTerminationState(FiredConditionState):
    """TextMentionTermination: whether it fired."""

    type: str = Field(default="TextMentionTerminationState")


class TextMessageTerminationState(FiredConditionState):
    """TextMessageTermination: whether it fired."""

    type: str = Field(default="TextMessageTerminationState")


class SourceMatchTerminationState(FiredConditionState):
    """SourceMatchTermination: whether it fired."""

    type: str = Field(default="SourceMatchTerminationState")


class HandoffTerminationState(FiredConditionState):
    """HandoffTermination: whether it fired."""

    type: str = Field(default="HandoffTerminationState")


class FunctionCallTerminationState(FiredConditionState):
    """FunctionCallTermination: whether it fired."""

    type: str = Field(default="FunctionCallTerminationState")


class FunctionalTerminationState(FiredConditionState):
    """FunctionalTermination: whether it fired (the predicate itself is code, not state)."""

    type: str = Field(default="FunctionalTerminationState")
