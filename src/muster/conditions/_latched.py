"""The shared shape of conditions that fire once and stay fired until reset."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from muster.base import TerminatedException, TerminationCondition
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage

__all__ = ["LatchedTermination"]

_ALREADY_FIRED = "Termination condition has already been reached"


class LatchedTermination(TerminationCondition):
    """A condition whose ``terminated`` flag latches on the batch that fired it.

    Most built-in conditions only differ in *what* makes them fire; the latch, the
    :class:`TerminatedException` on reuse and ``reset`` are identical, so they live here and
    subclasses implement :meth:`_check` alone.
    """

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

    @abstractmethod
    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        """Look at one batch; return the stop message if it should fire on this batch."""
