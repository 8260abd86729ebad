"""Termination conditions: when a team (or agent run) should stop, and their algebra."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.core import Component, ComponentBase, ComponentModel
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage

from .exceptions import TerminatedException

__all__ = ["AndTerminationCondition", "OrTerminationCondition", "TerminationCondition"]


class TerminationCondition(ABC, ComponentBase[BaseModel]):
    """A stateful check, fed each new batch of messages, that says when to stop.

    Once it returns a :class:`StopMessage` it is *terminated*: calling it again raises
    :class:`TerminatedException` until :meth:`reset`. ``a | b`` stops when either stops,
    ``a & b`` when both have (each remembers that it fired across batches).
    """

    component_type = "termination"

    @property
    @abstractmethod
    def terminated(self) -> bool:
        """Whether the condition has fired since the last reset."""

    @abstractmethod
    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        """Check the messages produced since the last call; a StopMessage means stop.

        Raises:
            TerminatedException: the condition already fired and was not reset.
        """

    @abstractmethod
    async def reset(self) -> None:
        """Forget what was seen so the condition can be used for another run."""

    def __and__(self, other: TerminationCondition) -> TerminationCondition:
        return AndTerminationCondition(self, other)

    def __or__(self, other: TerminationCondition) -> TerminationCondition:
        return OrTerminationCondition(self, other)


class _CompositeConfig(BaseModel):
    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    conditions: list[ComponentModel]


def _combine(stops: Sequence[StopMessage]) -> StopMessage:
    return StopMessage(
        content=", ".join(s.content for s in stops),
        source=", ".join(s.source for s in stops),
    )


class AndTerminationCondition(TerminationCondition, Component[_CompositeConfig]):
    """Stops once every child condition has fired (not necessarily on the same batch)."""

    component_config_schema = _CompositeConfig
    component_type = "termination"
    component_provider_override = "muster.base.AndTerminationCondition"

    def __init__(self, *conditions: TerminationCondition) -> None:
        self._conditions = list(conditions)
        self._stop_messages: list[StopMessage] = []

    @property
    def terminated(self) -> bool:
        return all(c.terminated for c in self._conditions)

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self.terminated:
            raise TerminatedException("Termination condition has already been reached")
        pending = [c for c in self._conditions if not c.terminated]
        results = await asyncio.gather(*(c(messages) for c in pending))
        self._stop_messages.extend(r for r in results if r is not None)
        if not self.terminated:
            return None
        return _combine(self._stop_messages)

    async def reset(self) -> None:
        for condition in self._conditions:
            await condition.reset()
        self._stop_messages.clear()

    def _to_config(self) -> _CompositeConfig:
        return _CompositeConfig(conditions=[c.dump_component() for c in self._conditions])

    @classmethod
    def _from_config(cls, config: _CompositeConfig) -> Self:
        return cls(*(TerminationCondition.load_component(c) for c in config.conditions))


class OrTerminationCondition(TerminationCondition, Component[_CompositeConfig]):
    """Stops as soon as any child condition fires."""

    component_config_schema = _CompositeConfig
    component_type = "termination"
    component_provider_override = "muster.base.OrTerminationCondition"

    def __init__(self, *conditions: TerminationCondition) -> None:
        self._conditions = list(conditions)

    @property
    def terminated(self) -> bool:
        return any(c.terminated for c in self._conditions)

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self.terminated:
            raise TerminatedException("Termination condition has already been reached")
        results = await asyncio.gather(*(c(messages) for c in self._conditions))
        stops = [r for r in results if r is not None]
        return _combine(stops) if stops else None

    async def reset(self) -> None:
        for condition in self._conditions:
            await condition.reset()

    def _to_config(self) -> _CompositeConfig:
        return _CompositeConfig(conditions=[c.dump_component() for c in self._conditions])

    @classmethod
    def _from_config(cls, config: _CompositeConfig) -> Self:
        return cls(*(TerminationCondition.load_component(c) for c in config.conditions))
