"""Message helpers agents and teams share; not user API (see docs/architecture.md, "Imports between packages")."""

import sys

__all__ = ["is_streaming_chunk"]


def is_streaming_chunk(message: object) -> bool:
    """Whether ``message`` is a ModelClientStreamingChunkEvent, without loading the events.

    Runs and spans leave streaming chunks out of what they keep. The events load on first
    use (see the package docstring); until they have, no chunk can exist, so a plain run's
    check does not load them.
    """
    events = sys.modules.get("muster.messages._events")
    return events is not None and isinstance(message, events.ModelClientStreamingChunkEvent)
