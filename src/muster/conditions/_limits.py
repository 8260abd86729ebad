"""Conditions that enforce a budget: messages exchanged, tokens spent, time elapsed."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from muster.base import TerminatedException, TerminationCondition
from muster.base.internal import StatePlan, parse_state
from muster.core import Component
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage
from muster.state import (
    FiredConditionState,
    MaxMessageTerminationState,
    TimeoutTerminationState,
    TokenUsageTerminationState,
)

from ._latched import _ALREADY_FIRED, LatchedTermination

__all__ = [
    "MaxMessageTermination",
    "MaxMessageTerminationConfig",
    "TimeoutTermination",
    "TimeoutTerminationConfig",
    "TokenUsageTermination",
    "TokenUsageTerminationConfig",
]


class MaxMessageTerminationConfig(BaseModel):
    """Spec of :class:`MaxMessageTermination`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    max_messages: int
    include_agent_event: bool = False


class MaxMessageTermination(TerminationCondition, Component[MaxMessageTerminationConfig]):
    """Stops once ``max_messages`` messages have been seen since the last reset.

    The task message counts, so ``MaxMessageTermination(3)`` lets a two-agent team speak
    twice. The condition is "terminated" exactly while the count is at or past the limit, so
    a limit of 0 is terminated from the start.

    Args:
        max_messages: The budget of messages.
        include_agent_event: Also count events (tool calls, chunks, thoughts); by default
            only chat messages count.
    """

    component_config_schema = MaxMessageTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.MaxMessageTermination"

    def __init__(self, max_messages: int, include_agent_event: bool = False) -> None:
        self._max_messages = max_messages
        self._include_agent_event = include_agent_event
        self._count = 0

    @property
    def terminated(self) -> bool:
        return self._count >= self._max_messages

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self.terminated:
            raise TerminatedException(_ALREADY_FIRED)
        self._count += sum(1 for m in messages if self._include_agent_event or isinstance(m, BaseChatMessage))
        if not self.terminated:
            return None
        return construct_trusted(
            StopMessage,
            content=f"Maximum number of messages {self._max_messages} reached, current message count: {self._count}",
            source="MaxMessageTermination",
        )

    async def reset(self) -> None:
        self._count = 0

    async def save_state(self) -> Mapping[str, Any]:
        """The messages counted so far (whether it fired follows from the count)."""
        return MaxMessageTerminationState(count=self._count).model_dump(mode="json")

    def _prepare_state(self, state: Mapping[str, Any]) -> StatePlan:
        saved = parse_state(MaxMessageTerminationState, state)

        def restore() -> None:
            self._count = saved.count

        plan = StatePlan()
        plan.assign(restore)
        return plan

    def _to_config(self) -> MaxMessageTerminationConfig:
        return MaxMessageTerminationConfig(
            max_messages=self._max_messages, include_agent_event=self._include_agent_event
        )

    @classmethod
    def _from_config(cls, config: MaxMessageTerminationConfig) -> Self:
        return cls(max_messages=config.max_messages, include_agent_event=config.include_agent_event)


class TokenUsageTerminationConfig(BaseModel):
    """Spec of :class:`TokenUsageTermination`; at least one limit must be set."""

    model_config = ConfigDict(defer_build=True)

    max_total_token: int | None = None
    max_prompt_token: int | None = None
    max_completion_token: int | None = None


class TokenUsageTermination(TerminationCondition, Component[TokenUsageTerminationConfig]):
    """Stops once the tokens reported in messages' ``models_usage`` reach any limit.

    Args:
        max_total_token: Limit on prompt plus completion tokens.
        max_prompt_token: Limit on prompt tokens.
        max_completion_token: Limit on completion tokens.

    Raises:
        ValueError: no limit was given (the condition could never fire).
    """

    component_config_schema = TokenUsageTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.TokenUsageTermination"

    def __init__(
        self,
        max_total_token: int | None = None,
        max_prompt_token: int | None = None,
        max_completion_token: int | None = None,
    ) -> None:
        if max_total_token is None and max_prompt_token is None and max_completion_token is None:
            raise ValueError(
                "At least one of max_total_token, max_prompt_token, or max_completion_token must be provided"
            )
        self._max_total = max_total_token
        self._max_prompt = max_prompt_token
        self._max_completion = max_completion_token
        self._prompt = 0
        self._completion = 0

    @property
    def terminated(self) -> bool:
        limits = (
            (self._max_total, self._prompt + self._completion),
            (self._max_prompt, self._prompt),
            (self._max_completion, self._completion),
        )
        return any(limit is not None and used >= limit for limit, used in limits)

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self.terminated:
            raise TerminatedException(_ALREADY_FIRED)
        for message in messages:
            if message.models_usage is not None:
                self._prompt += message.models_usage.prompt_tokens
                self._completion += message.models_usage.completion_tokens
        if not self.terminated:
            return None
        return construct_trusted(
            StopMessage,
            content=(
                f"Token usage limit reached, total token count: {self._prompt + self._completion}, "
                f"prompt token count: {self._prompt}, completion token count: {self._completion}."
            ),
            source="TokenUsageTermination",
        )

    async def reset(self) -> None:
        self._prompt = 0
        self._completion = 0

    async def save_state(self) -> Mapping[str, Any]:
        """The tokens counted so far (whether it fired follows from them)."""
        return TokenUsageTerminationState(
            prompt_tokens=self._prompt, completion_tokens=self._completion
        ).model_dump(mode="json")

    def _prepare_state(self, state: Mapping[str, Any]) -> StatePlan:
        saved = parse_state(TokenUsageTerminationState, state)

        def restore() -> None:
            self._prompt = saved.prompt_tokens
            self._completion = saved.completion_tokens

        plan = StatePlan()
        plan.assign(restore)
        return plan

    def _to_config(self) -> TokenUsageTerminationConfig:
        return TokenUsageTerminationConfig(
            max_total_token=self._max_total,
            max_prompt_token=self._max_prompt,
            max_completion_token=self._max_completion,
        )

    @classmethod
    def _from_config(cls, config: TokenUsageTerminationConfig) -> Self:
        return cls(
            max_total_token=config.max_total_token,
            max_prompt_token=config.max_prompt_token,
            max_completion_token=config.max_completion_token,
        )


class TimeoutTerminationConfig(BaseModel):
    """Spec of :class:`TimeoutTermination`."""

    model_config = ConfigDict(defer_build=True)

    timeout_seconds: float


class TimeoutTermination(LatchedTermination, Component[TimeoutTerminationConfig]):
    """Stops on the first batch checked after ``timeout_seconds`` have passed.

    The clock starts when the condition is built and restarts on :meth:`reset` (teams reset
    their condition at the start of each run). It is checked only when messages arrive, so
    it cannot interrupt an agent that is still thinking; use a cancellation token for that.
    Its saved state holds the time used so far, so a run resumed from it gets the budget
    that was left, however long the run was down.

    Args:
        timeout_seconds: The allowed wall-clock duration, measured on a monotonic clock.
    """

    component_config_schema = TimeoutTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.TimeoutTermination"
    _state_model = TimeoutTerminationState

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__()
        self._timeout_seconds = timeout_seconds
        self._started = time.monotonic()

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if time.monotonic() - self._started >= self._timeout_seconds:
            return construct_trusted(
                StopMessage,
                content=f"Timeout of {self._timeout_seconds} seconds reached",
                source="TimeoutTermination",
            )
        return None

    async def reset(self) -> None:
        await super().reset()
        self._started = time.monotonic()

    def _state(self) -> FiredConditionState:
        return TimeoutTerminationState(
            terminated=self._terminated, elapsed_seconds=max(0.0, time.monotonic() - self._started)
        )

    def _restore(self, saved: FiredConditionState) -> None:
        # Backdate the start so the budget left is what it was when the state was saved.
        assert isinstance(saved, TimeoutTerminationState)
        super()._restore(saved)
        self._started = time.monotonic() - saved.elapsed_seconds

    def _to_config(self) -> TimeoutTerminationConfig:
        return TimeoutTerminationConfig(timeout_seconds=self._timeout_seconds)

    @classmethod
    def _from_config(cls, config: TimeoutTerminationConfig) -> Self:
        return cls(timeout_seconds=config.timeout_seconds)
