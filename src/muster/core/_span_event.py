"""SpanEvent: something that happened at one instant inside an instrumentation span."""

from typing import NamedTuple

__all__ = ["SpanEvent"]


class SpanEvent(NamedTuple):
    """Something that happened at one instant inside a span (a message an agent produced)."""

    name: str
    time: float
    """``time.perf_counter()`` reading."""
    attributes: dict[str, str | int | float | bool | None]
    """``muster.core.instrumentation.AttributeValue`` values (spelt out: that module imports this one)."""
