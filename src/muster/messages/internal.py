"""Message helpers agents and teams share; not user API (see docs/architecture.md, "Imports between packages")."""

from ._base import is_streaming_chunk

__all__ = ["is_streaming_chunk"]
