"""Spans, recorders and span kinds: the half of :mod:`muster.core.instrumentation` used only while recording.

Every agent, team and model client imports the instrumentation module for
:func:`~muster.core.instrumentation.open_span`, which returns ``None`` unless a
:class:`Recorder` is active; call sites pass a :class:`SpanKind`'s value, which ``open_span``
turns into the member only then. So a process that never records never defines these
classes (start-up; docs/performance.md, "Fifth pass"). Import them from
``muster.core.instrumentation``, which loads this module on first access to any of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING

from .instrumentation import _ACTIVE, AttributeValue, _ids, _Scope

if TYPE_CHECKING:
    from ._span_event import SpanEvent

__all__ = ["KINDS", "Recorder", "Span", "SpanKind"]


class SpanKind(StrEnum):
    """What a span measures."""

    __module__ = "muster.core.instrumentation"

    AGENT_TURN = "agent_turn"
    """One agent (or nested team) answering: a team turn, or a whole ``agent.run``."""
    MODEL_CALL = "model_call"
    """One request to a model client, retries and rate-limit waits included."""
    TOOL_CALL = "tool_call"
    """One tool call, from the arguments to the result."""


KINDS: dict[str, SpanKind] = dict(SpanKind._value2member_map_)  # type: ignore[arg-type]
"""Each kind's value (and member: they hash and compare alike) to the member, for ``open_span``."""


class Span:
    """One timed piece of work; a context manager that ends it and restores its parent.

    Attributes:
        kind: What it measures.
        name: The call site's name for it (the agent, the client class, the tool).
        span_id: Unique within the process.
        parent: The span it was opened in, if any.
        start: ``time.perf_counter()`` when opened.
        end: ``time.perf_counter()`` when ended; ``None`` while open.
        attributes: Facts the call sites added (tokens, attempts, the tool's arguments...).
        events: Instants inside the span (the messages of a turn).
        layers: Names of the layers folded into this span, outermost first (``name`` is the
            outermost of all).
        status: ``"ok"``, ``"error"`` or ``"cancelled"``.
        error: ``"Type: message"`` when the work failed.
    """

    __module__ = "muster.core.instrumentation"

    __slots__ = (
        "_outer",
        "_previous",
        "_recorder",
        "attributes",
        "end",
        "error",
        "events",
        "kind",
        "layers",
        "name",
        "parent",
        "span_id",
        "start",
        "status",
    )

    def __init__(
        self,
        kind: SpanKind,
        name: str,
        parent: Span | None,
        recorder: Recorder,
        previous: _Scope,
        outer: Span | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.span_id = next(_ids)
        self.parent = parent
        self.start = time.perf_counter()
        self.end: float | None = None
        self.attributes: dict[str, AttributeValue] = {}
        self.events: list[SpanEvent] = []
        self.layers: list[str] = []
        self.status = "ok"
        self.error: str | None = None
        self._recorder = recorder
        self._previous = previous
        self._outer = outer

    @property
    def duration(self) -> float:
        """Seconds from open to end (to now while still open)."""
        return (time.perf_counter() if self.end is None else self.end) - self.start

    @property
    def is_layer(self) -> bool:
        """Whether this span is folded into an outer span of the same call."""
        return self._outer is not None

    def set(self, **attributes: AttributeValue) -> None:
        """Add facts (a layer's reach its outer span when it ends, filling only gaps)."""
        self.attributes.update(attributes)

    def set_default(self, **attributes: AttributeValue) -> None:
        """Add facts only where none is set yet (an inner layer's figures are more precise)."""
        for key, value in attributes.items():
            self.attributes.setdefault(key, value)

    def add_event(self, name: str, **attributes: AttributeValue) -> None:
        """Record an instant (on the outer span, for a layer)."""
        from ._span_event import SpanEvent  # loaded by the first event recorded

        self._root().events.append(SpanEvent(name, time.perf_counter(), attributes))

    def fail(self, error_type: str, message: str) -> None:
        """Mark the work failed without an exception (a tool error reported to the model)."""
        target = self._root()
        target.status = "error"
        target.error = f"{error_type}: {message}" if message else error_type
        target.attributes.setdefault("error_type", error_type)

    def _root(self) -> Span:
        span = self
        while span._outer is not None:
            span = span._outer
        return span

    def close(self, error: BaseException | None = None) -> None:
        """End the span, report it, and make its parent the current span again."""
        if self.end is not None:
            return
        self.end = time.perf_counter()
        if error is not None:
            if isinstance(error, asyncio.CancelledError | GeneratorExit):
                self.status = "cancelled"
            else:
                self.fail(type(error).__name__, str(error))
        # Restored by value, not by ContextVar token: an async generator may be closed
        # from another context than the one that opened the span.
        _ACTIVE.set(self._previous)
        outer = self._outer
        if outer is not None:
            outer.layers += [self.name, *self.layers]
            for key, value in self.attributes.items():
                outer.attributes.setdefault(key, value)
            if self.status == "cancelled" and outer.status == "ok":
                outer.status = "cancelled"
            return
        self._recorder.on_end(self)

    def __enter__(self) -> Span:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(exc)

    def __repr__(self) -> str:
        return f"Span({self.kind.value}, {self.name!r}, {self.duration * 1000:.3f} ms, {self.status})"


class Recorder:
    """Collects the spans opened while it is active; subclass to send them elsewhere.

    Attributes:
        spans: Every finished span (layers folded), in the order they ended.
        started: ``time.perf_counter()`` when the last :meth:`recording` block began.
        ended: ``time.perf_counter()`` when it ended; ``None`` while it runs.
    """

    __module__ = "muster.core.instrumentation"

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.started: float | None = None
        self.ended: float | None = None

    def on_start(self, span: Span) -> None:
        """Called when a (non-layer) span opens; nothing by default."""

    def on_end(self, span: Span) -> None:
        """Called when a (non-layer) span ends; keeps it in :attr:`spans` by default."""
        self.spans.append(span)

    @contextmanager
    def recording(self) -> Iterator[Recorder]:
        """Record the spans opened in this block (and in tasks it starts).

        Recorders nest: an inner block's spans reach the inner recorder and every recorder
        around it, so a timing recording inside a traced run leaves the trace whole. The
        span open around the block stays their parent.
        """
        outer = _ACTIVE.get()
        if outer is None:
            token = _ACTIVE.set((self, None))
        else:
            token = _ACTIVE.set((_Both(self, outer[0]), outer[1]))
        self.started = time.perf_counter()
        self.ended = None
        try:
            yield self
        finally:
            self.ended = time.perf_counter()
            _ACTIVE.reset(token)


class _Both(Recorder):
    """Hands each span to an inner recorder, then to the one around it (nested recordings)."""

    def __init__(self, inner: Recorder, outer: Recorder) -> None:
        super().__init__()
        self.inner = inner
        self.outer = outer

    def on_start(self, span: Span) -> None:
        self.inner.on_start(span)
        self.outer.on_start(span)

    def on_end(self, span: Span) -> None:
        self.inner.on_end(span)
        self.outer.on_end(span)
