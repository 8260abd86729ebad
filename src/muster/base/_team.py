"""The contract of a team of agents."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from muster.core import ComponentBase

from ._task import TaskRunner

__all__ = ["Team"]


class Team(ABC, TaskRunner, ComponentBase[BaseModel]):
    """Several agents (or teams) working on one task."""

    component_type = "team"

    @property
    @abstractmethod
    def name(self) -> str:
        """The team's name, used when it is a participant of another team."""

    @property
    @abstractmethod
    def description(self) -> str:
        """What the team does."""

    @abstractmethod
    async def reset(self) -> None:
        """Reset the team and all its participants to their initial state."""

    @abstractmethod
    async def pause(self) -> None:
        """Pause the participants while a run is in progress."""

    @abstractmethod
    async def resume(self) -> None:
        """Resume paused participants."""

    @abstractmethod
    async def save_state(self) -> Mapping[str, Any]:
        """A JSON-ready snapshot of the team and its participants."""

    @abstractmethod
    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot made by :meth:`save_state`."""
