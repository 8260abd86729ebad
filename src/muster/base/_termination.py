"""Termination conditions: when a team (or agent run) should stop, and their algebra."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from muster.core import Component, ComponentBase, ComponentModel
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage
from muster.state import AndTerminationConditionState, BaseState, OrTerminationConditionState

from ._saved_state import StatePlan, error_from_validation, nested_error, parse_state
from .exceptions import StateError, TerminatedException

__all__ = [
    "AndTerminationCondition",
    "OrTerminationCondition",
    "TerminationCondition",
    "plan_condition_state",
]


class TerminationCondition(ABC, ComponentBase[BaseModel]):
    """A stateful check, fed each new batch of messages, that says when to stop.

    Once it returns a :class:`StopMessage` it is *terminated*: calling it again raises
    :class:`TerminatedException` until :meth:`reset`. ``a | b`` stops when either stops,
    ``a & b`` when both have (each remembers that it fired across batches).

    Its progress (messages counted, whether it fired...) can be saved with
    :meth:`save_state` and restored with :meth:`load_state`, which is how a team resumed
    from a checkpoint stops exactly where the uninterrupted run would have. Every built-in
    condition saves its progress. A custom condition that keeps progress must override
    both methods: the inherited ones save only a ``type`` tag and restore nothing.
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

    async def save_state(self) -> Mapping[str, Any]:
        """A JSON-ready snapshot of the condition's progress, with ``type`` and ``version``.

        The settings (limits, texts) are not in it: they belong to the spec, and the
        condition that loads the state is built from the same spec. This default, for
        conditions without progress, holds only the tag ``"<ClassName>State"``; a custom
        condition that counts or remembers anything must override it and
        :meth:`load_state`.
        """
        return BaseState(type=self._default_state_type()).model_dump(mode="json")

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot made by :meth:`save_state` on a condition built from the same spec.

        The whole state is checked before anything changes, so on error the condition
        (and, for ``|``/``&``, every child) keeps its previous progress. The default
        accepts the default :meth:`save_state` output and restores nothing.

        Raises:
            StateError: the state has the wrong ``type`` or ``version`` or a malformed
                field; the message names the field (``"conditions[1].count: ..."``).
        """
        await self._prepare_state(state).run()

    def _prepare_state(self, state: Mapping[str, Any]) -> StatePlan:
        """Check ``state`` completely and return the plan that applies it.

        Built-in conditions implement this rather than :meth:`load_state`, so that a
        composite can check every child before changing any of them.

        Raises:
            StateError: ``state`` does not fit this condition.
        """
        parse_state(BaseState, state, types=(self._default_state_type(),))
        return StatePlan()

    def _default_state_type(self) -> str:
        return f"{type(self).__name__}State"

    def __and__(self, other: TerminationCondition) -> TerminationCondition:
        return AndTerminationCondition(self, other)

    def __or__(self, other: TerminationCondition) -> TerminationCondition:
        return OrTerminationCondition(self, other)


class _CompositeConfig(BaseModel):
    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    conditions: list[ComponentModel]


def plan_condition_state(condition: TerminationCondition, state: object, field: str) -> StatePlan:
    """Check ``condition``'s part of a larger state and return the plan restoring it.

    What composites use for their children, and what a team restoring its condition
    along with its participants uses to check everything before changing anything. A
    condition with its own ``load_state`` (a user's) cannot be checked apart from loading:
    the plan loads it as a unit, and rolls it back if a later part fails.

    Raises:
        StateError: the state does not fit; its field is prefixed with ``field``.
    """
    plan = StatePlan()
    if type(condition).load_state is not TerminationCondition.load_state:
        plan.load(field, condition, state)
        return plan
    try:
        # Not checked to be a mapping here: parse_state, first thing in every hook, does it.
        plan.include(condition._prepare_state(cast(Mapping[str, Any], state)), field)
    except StateError as exc:
        raise nested_error(exc, field) from exc
    return plan


def _plan_children(
    conditions: Sequence[TerminationCondition], states: Sequence[Mapping[str, Any]]
) -> StatePlan:
    if len(states) != len(conditions):
        raise StateError(f"expected {len(conditions)} child states, got {len(states)}", "conditions")
    plan = StatePlan()
    for i, (condition, state) in enumerate(zip(conditions, states, strict=True)):
        plan.include(plan_condition_state(condition, state, f"conditions[{i}]"), "")
    return plan


def _combine(stops: Sequence[StopMessage]) -> StopMessage:
    return construct_trusted(
        StopMessage,
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

    async def save_state(self) -> Mapping[str, Any]:
        """Each child's state and the stop messages of the children that already fired."""
        return AndTerminationConditionState(
            conditions=[await c.save_state() for c in self._conditions],
            stop_messages=[m.dump() for m in self._stop_messages],
        ).model_dump(mode="json")

    def _prepare_state(self, state: Mapping[str, Any]) -> StatePlan:
        saved = parse_state(AndTerminationConditionState, state)
        plan = _plan_children(self._conditions, saved.conditions)
        stops: list[StopMessage] = []
        for i, dumped in enumerate(saved.stop_messages):
            try:
                stops.append(StopMessage.load(dumped))
            except ValidationError as exc:
                raise error_from_validation(exc, f"stop_messages[{i}]") from exc

        def restore_stops() -> None:
            self._stop_messages = stops

        plan.assign(restore_stops)
        return plan

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

    async def save_state(self) -> Mapping[str, Any]:
        """Each child's state."""
        return OrTerminationConditionState(
            conditions=[await c.save_state() for c in self._conditions]
        ).model_dump(mode="json")

    def _prepare_state(self, state: Mapping[str, Any]) -> StatePlan:
        saved = parse_state(OrTerminationConditionState, state)
        return _plan_children(self._conditions, saved.conditions)

    def _to_config(self) -> _CompositeConfig:
        return _CompositeConfig(conditions=[c.dump_component() for c in self._conditions])

    @classmethod
    def _from_config(cls, config: _CompositeConfig) -> Self:
        return cls(*(TerminationCondition.load_component(c) for c in config.conditions))
