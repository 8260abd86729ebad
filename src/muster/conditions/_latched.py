"""The shared shape of conditions that fire once and stay fired until reset."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from muster.base import TerminatedException, TerminationCondition
from muster.base.internal import StatePlan, parse_state
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage
from muster.state import FiredConditionState

__all__ = ["LatchedTermination"]

_ALREADY_FIRED = "Termination condition has already been reached"


class LatchedTermination(TerminationCondition):
    """A condition whose ``terminated`` flag latches on the batch that fired it.

    Most built-in conditions only differ in *what* makes them fire; the latch, the
    :class:`TerminatedException` on reuse, ``reset`` and the saved state (the flag) are
    identical, so they live here and subclasses implement :meth:`_check` and name their
    :attr:`_state_model`. A subclass with more progress than the flag extends
    :meth:`_state` and :meth:`_restore`.
    """

    _state_model: ClassVar[type[FiredConditionState]]
    """The model of this condition's saved state; its default ``type`` is the tag checked on load."""

    def __init__(self) -> None:
        self._terminated = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise TerminatedException(_ALREADY_FIRED)
        stop = await self._check(messages)
        if stop is not None:
            self._terminated = True
        return stop

    async def reset(self) -> None:
        self._terminated = False

    async def save_state(self) -> Mapping[str, Any]:
        """Whether the condition has fired (plus what a subclass adds in :meth:`_state`)."""
        return self._state().model_dump(mode="json")

    def _prepare_state(self, state: Mapping[str, Any]) -> StatePlan:
        saved = parse_state(self._state_model, state)
        plan = StatePlan()
        plan.assign(lambda: self._restore(saved))
        return plan

    def _state(self) -> FiredConditionState:
        return self._state_model(terminated=self._terminated)

    def _restore(self, saved: FiredConditionState) -> None:
        """Apply a state already checked against :attr:`_state_model`; must not fail."""
        self._terminated = saved.terminated

    @abstractmethod
    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        """Look at one batch; return the stop message if it should fire on this batch."""
