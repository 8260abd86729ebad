"""Conditions decided outside the message stream: by the caller or by a user predicate."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.core import Component
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage
from muster.state import ExternalTerminationState, FiredConditionState, FunctionalTerminationState

from ._latched import LatchedTermination

__all__ = ["ExternalTermination", "ExternalTerminationConfig", "FunctionalTermination"]


class ExternalTerminationConfig(BaseModel):
    """Spec of :class:`ExternalTermination` (it has no settings)."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)


class ExternalTermination(LatchedTermination, Component[ExternalTerminationConfig]):
    """Stops when the caller asks, via :meth:`set`, at the next batch the team checks.

    This is the graceful counterpart of cancelling: the agent currently speaking finishes
    its turn, then the team stops with a clean :class:`~muster.base.TaskResult`.
    """

    component_config_schema = ExternalTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.ExternalTermination"
    _state_model = ExternalTerminationState

    def __init__(self) -> None:
        super().__init__()
        self._requested = False

    def set(self) -> None:
        """Request termination; it takes effect on the next check, not immediately."""
        self._requested = True

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._requested:
            return construct_trusted(
                StopMessage, content="External termination requested", source="ExternalTermination"
            )
        return None

    async def reset(self) -> None:
        await super().reset()
        self._requested = False

    def _state(self) -> FiredConditionState:
        # A request not yet acted on is progress too: the resumed run must still stop.
        return ExternalTerminationState(terminated=self._terminated, requested=self._requested)

    def _restore(self, saved: FiredConditionState) -> None:
        assert isinstance(saved, ExternalTerminationState)
        super()._restore(saved)
        self._requested = saved.requested

    def _to_config(self) -> ExternalTerminationConfig:
        return ExternalTerminationConfig()

    @classmethod
    def _from_config(cls, config: ExternalTerminationConfig) -> Self:
        return cls()


MessagePredicate = (
    Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], bool]
    | Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], Awaitable[bool]]
)


class FunctionalTermination(LatchedTermination):
    """Stops when a user predicate over the batch returns ``True``.

    The predicate may be sync or async. Only a literal ``True`` fires, so a predicate that
    accidentally returns a non-empty list does not stop the run. A Python callable has no
    portable spec, so this condition cannot be dumped (``dump_component`` raises
    ``NotImplementedError``).

    Args:
        func: Called with each new batch of messages.
    """

    _state_model = FunctionalTerminationState

    def __init__(self, func: MessagePredicate) -> None:
        super().__init__()
        self._func = func

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        result = self._func(messages)
        if inspect.isawaitable(result):
            result = await result
        if result is True:
            return construct_trusted(
                StopMessage, content="Functional termination condition met", source="FunctionalTermination"
            )
        return None
