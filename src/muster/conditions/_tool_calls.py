"""Conditions that fire on what agents did: a handoff sent or a tool executed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.core import Component
from muster.core.internal import construct_trusted
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    StopMessage,
    ToolCallExecutionEvent,
)
from muster.state import FunctionCallTerminationState, HandoffTerminationState

from ._latched import LatchedTermination

__all__ = [
    "FunctionCallTermination",
    "FunctionCallTerminationConfig",
    "HandoffTermination",
    "HandoffTerminationConfig",
]


class HandoffTerminationConfig(BaseModel):
    """Spec of :class:`HandoffTermination`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    target: str


class HandoffTermination(LatchedTermination, Component[HandoffTerminationConfig]):
    """Stops when an agent hands off to ``target``.

    The usual way to give a Swarm's turn back to a human: hand off to ``"user"``, stop, then
    resume the team with the user's reply.

    Args:
        target: The handoff target that ends the run.
    """

    component_config_schema = HandoffTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.HandoffTermination"
    _state_model = HandoffTerminationState

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        for message in messages:
            if isinstance(message, HandoffMessage) and message.target == self._target:
                return construct_trusted(
                    StopMessage,
                    content=f"Handoff to {self._target} from {message.source} detected.",
                    source="HandoffTermination",
                )
        return None

    def _to_config(self) -> HandoffTerminationConfig:
        return HandoffTerminationConfig(target=self._target)

    @classmethod
    def _from_config(cls, config: HandoffTerminationConfig) -> Self:
        return cls(target=config.target)


class FunctionCallTerminationConfig(BaseModel):
    """Spec of :class:`FunctionCallTermination`."""

    model_config = ConfigDict(defer_build=True)

    function_name: str


class FunctionCallTermination(LatchedTermination, Component[FunctionCallTerminationConfig]):
    """Stops once a tool named ``function_name`` has been executed.

    It watches :class:`~muster.messages.ToolCallExecutionEvent` (the result, not the request),
    so a call the model merely asked for does not stop the run.

    Args:
        function_name: The tool whose execution ends the run.
    """

    component_config_schema = FunctionCallTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.FunctionCallTermination"
    _state_model = FunctionCallTerminationState

    def __init__(self, function_name: str) -> None:
        super().__init__()
        self._function_name = function_name

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        for message in messages:
            if isinstance(message, ToolCallExecutionEvent) and any(
                result.name == self._function_name for result in message.content
            ):
                return construct_trusted(
                    StopMessage,
                    content=f"Function '{self._function_name}' was executed.",
                    source="FunctionCallTermination",
                )
        return None

    def _to_config(self) -> FunctionCallTerminationConfig:
        return FunctionCallTerminationConfig(function_name=self._function_name)

    @classmethod
    def _from_config(cls, config: FunctionCallTerminationConfig) -> Self:
        return cls(function_name=config.function_name)
