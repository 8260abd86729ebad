"""Opt-in recording of a run's agent turns, model calls and tool calls, free when off.

Why it exists: diagnosing a slow run needs the real duration of each stage, and a run
timeline needs every turn and call with its timings. The OpenTelemetry helpers
(``trace_*_span``) serve external tracing, but they need an SDK and an exporter and cannot
be read back in-process; this module is the small in-process counterpart.

The contract has two sides:

- **Call sites** (muster's agents, teams, model clients, ``ChatCompletionCache``,
  workbenches) call :func:`open_span` where the work starts. With nothing recording it is
  one ``ContextVar`` lookup returning ``None``, and the site carries on as if it were not
  instrumented; otherwise the returned :class:`Span` is used as a context manager around the
  work and given facts with :meth:`Span.set`::

      span = open_span(SpanKind.TOOL_CALL, name)
      if span is None:
          return await self._call(...)
      with span:
          result = await self._call(...)
          span.set(is_error=result.is_error)
          return result

- **Recorders** (:class:`Recorder`, or a subclass overriding :meth:`Recorder.on_end`) are
  switched on for a block, ``with recorder.recording(): await team.run(...)``. Every span
  opened in that context, and in tasks created from it (the team's runtime handlers, a
  gather of parallel tool calls), reaches the recorder.

Spans nest through the context: a model call made during an agent turn has the turn as its
``parent``. Layers of one logical call fold into it: a model-call span opened directly inside
another model-call span (``ChatCompletionCache`` wrapping an OpenAI client, both under the
agent's own call) is a *layer*; its attributes fill the outer span's gaps (the outer one
wins), its name is appended to the outer span's ``layers``, and the recorder never sees it
on its own. Tool calls fold the same way (the agent's tool executor around
``StaticWorkbench.call_tool``). A recording therefore holds one span per logical call.

Recording follows the ``asyncio`` context, so a team on its own runtime (the default) is
recorded whole; handlers of a shared runtime started outside the recording run in the
runtime's context and are not.
"""

from __future__ import annotations

import itertools
from contextvars import ContextVar
from typing import TYPE_CHECKING

from .internal import lazy_exports

if TYPE_CHECKING:
    from typing import Literal

    from ._span import Recorder, Span, SpanKind

    SpanKindValue = Literal["agent_turn", "model_call", "tool_call"]
    from ._span_event import SpanEvent

__all__ = [
    "AttributeValue",
    "Recorder",
    "Span",
    "SpanEvent",
    "SpanKind",
    "current_span",
    "open_span",
]

AttributeValue = str | int | float | bool | None
"""What a span attribute may hold: JSON scalars, so a recording serialises as is."""


_FOLDING = frozenset({"model_call", "tool_call"})
"""Kinds whose directly nested spans are layers of the same call, not calls of their own
(``SpanKind`` members are ``str``: they hash and compare as their values)."""


# Span, Recorder and SpanKind live in their own module, loaded with the first recorder: every
# agent imports this module for open_span, and most processes never record (start-up; their
# code and classes, the enum first, were most of this module's import). Call sites pass a
# kind's value, which open_span turns into the SpanKind member once something records. SpanEvent likewise, loaded by the
# first event recorded: a NamedTuple class is generated and compiled when defined.
if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "Span": "muster.core._span",
            "Recorder": "muster.core._span",
            "SpanKind": "muster.core._span",
            "SpanEvent": "muster.core._span_event",
        },
    )


_Scope = tuple["Recorder", "Span | None"]
"""The active recorder and the innermost open span: a plain tuple, not a NamedTuple, whose
class would be generated and compiled at import (every agent imports this module)."""


# One lookup tells a call site whether anything records: None (the default) means off.
_ACTIVE: ContextVar[_Scope | None] = ContextVar("muster_instrumentation", default=None)
_ids = itertools.count(1)


def open_span(kind: SpanKind | SpanKindValue, name: str) -> Span | None:
    """Start a span and make it current, or return ``None`` when nothing records.

    ``kind`` is a :class:`SpanKind` or its value (``"model_call"``): muster's own call sites
    pass the value, so a process that never records never defines the enum; the span's
    ``kind`` is the member either way.

    The caller must end a returned span (``with span:`` or :meth:`Span.close`), however the
    work ends, or its parent stays current in this context.
    """
    scope = _ACTIVE.get()
    if scope is None:
        return None
    # Loaded already: something records, so a Recorder exists.
    from ._span import KINDS, Span, SpanKind

    kind = KINDS.get(kind) or SpanKind(kind)  # the member (SpanKind raises on an unknown value)
    recorder, current = scope
    if current is not None and current.kind is kind and kind in _FOLDING:
        span = Span(kind, name, current.parent, recorder, scope, outer=current)
        _ACTIVE.set((recorder, span))
        return span
    # Layers are invisible to the rest: work done inside one belongs to its logical call.
    span = Span(kind, name, None if current is None else current._root(), recorder, scope)
    _ACTIVE.set((recorder, span))
    recorder.on_start(span)
    return span


def current_span() -> Span | None:
    """The innermost open span in this context, or ``None`` (also when nothing records)."""
    scope = _ACTIVE.get()
    return None if scope is None else scope[1]
