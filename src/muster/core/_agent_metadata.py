"""The description of an agent that a runtime hands out without exposing the agent itself."""

from __future__ import annotations

from typing import TypedDict

__all__ = ["AgentMetadata"]


class AgentMetadata(TypedDict):
    """Who an agent is: its type, its key and a human-readable description.

    A TypedDict (not a model) because it is returned on hot paths such as team setup and
    is only ever read, never validated.
    """

    type: str
    key: str
    description: str
