"""Agent identities: a type (what code handles it) and a key (which instance)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING

from .exceptions import InvalidAgentIdError

__all__ = ["AgentId", "AgentType"]

_TYPE_PATTERN = re.compile(r"^[\w\-.]+\Z")


def is_valid_agent_type(value: str) -> bool:
    """Agent types are word characters, dashes and dots, so they are safe in topics and URLs."""
    return bool(_TYPE_PATTERN.match(value))


@dataclass(eq=True, frozen=True, slots=True)
class AgentType:
    """The name under which an agent factory is registered with a runtime."""

    type: str


class AgentId:
    """Identifies one agent instance: ``type`` selects the factory, ``key`` the instance."""

    # The hash is computed once: every delivery looks its recipient up by id.
    __slots__ = ("_hash", "_key", "_type")

    def __init__(self, type: str | AgentType, key: str) -> None:
        if isinstance(type, AgentType):
            type = type.type
        if not is_valid_agent_type(type):
            raise InvalidAgentIdError(
                f"Invalid agent type {type!r}: use letters, digits, '_', '-' and '.' only"
            )
        if not key or any(not (32 <= ord(ch) <= 126) for ch in key):
            raise InvalidAgentIdError(f"Invalid agent key {key!r}: use printable ASCII characters only")
        self._type = type
        self._key = key
        self._hash = hash((type, key))

    def __reduce__(self) -> tuple[type[AgentId], tuple[str, str]]:
        # Rebuilt from its fields, so the hash is recomputed (str hashes differ between processes).
        return (AgentId, (self._type, self._key))

    @classmethod
    def from_str(cls, agent_id: str) -> AgentId:
        """Parse ``"type/key"``, the string form used in logs and over the wire."""
        type_, sep, key = agent_id.partition("/")
        if not sep:
            raise InvalidAgentIdError(f"Invalid agent id {agent_id!r}: expected 'type/key'")
        return cls(type_, key)

    if TYPE_CHECKING:

        @property
        def type(self) -> str:
            """The agent's registered type."""

        @property
        def key(self) -> str:
            """The instance key within the type."""

    else:
        # C-level getters, no Python frame: the runtime reads ids on every delivery.
        type = property(attrgetter("_type"), doc="The agent's registered type.")
        key = property(attrgetter("_key"), doc="The instance key within the type.")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AgentId):
            return NotImplemented
        return self._type == other._type and self._key == other._key

    def __str__(self) -> str:
        return f"{self._type}/{self._key}"

    def __repr__(self) -> str:
        return f'AgentId(type="{self._type}", key="{self._key}")'
