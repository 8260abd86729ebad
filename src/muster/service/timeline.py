"""Run timelines from the store: timings recorded at each turn, read back as a ``muster.ops.Timeline``.

**Recording.** The runner runs the team inside a :class:`TurnTimings` recorder (the
framework's instrumentation, ``muster.core.instrumentation``: agents, model clients,
``ChatCompletionCache`` and tools open spans). At each turn boundary,
:meth:`TurnTimings.turn_event` hands over the spans that ended since the previous one as a
``timing`` event, written with the turn's messages in the same transaction (no extra
statement: the events of a turn are one insert). Times are wall-clock seconds, so the
turns of a run resumed in another process line up. Texts (a tool's arguments and result,
the model's answer, the turn's messages) are previews of :data:`PREVIEW_CHARS` characters.
``timing`` events are streamed like the others (SSE ids stay contiguous): a client that
only wants messages ignores them.

Each agent turn handed over is also logged (:data:`TURN_LOGGER`: the agent, its outcome
and its duration), so the log analyzer finds every agent's successes in the service's log,
beside the failures the run transitions name.

**Reading.** :func:`run_timeline` reads a run's events and builds the :class:`Timeline`
that :func:`muster.ops.render_timeline` draws: ``GET /v1/runs/{id}/timeline`` and
``muster runs timeline RUN_ID``. Only finished turns are written, so the turn a run
failed or was cancelled in has no timing; the run's error is in the title.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from muster.core.instrumentation import Recorder, Span, SpanKind
from muster.ops import Timeline, TimelineSpan

from .models import Run
from .store.base import Store

__all__ = [
    "PREVIEW_CHARS",
    "TIMING_EVENT",
    "TURN_LOGGER",
    "TurnTimings",
    "run_timeline",
    "timeline_from_events",
]

TIMING_EVENT = "timing"
"""The event kind carrying a turn's spans: ``{"turn": n, "spans": [TimelineSpan JSON...]}``."""

PREVIEW_CHARS = 500
"""Characters kept of each text a span carries (messages, arguments, results, answers)."""

_TEXTS = ("arguments", "result", "response", "error")
_OUTCOMES = {"ok": "succeeded", "error": "failed", "cancelled": "cancelled"}

TURN_LOGGER = "muster.service.turns"
"""One ``INFO`` line per agent turn written: ``agent``, ``status``, ``duration_ms`` (docs/logging.md)."""


class TurnTimings(Recorder):
    """A recorder handing over its spans turn by turn (see the module docstring).

    Span ids are prefixed with one random token per recorder, so the spans of two attempts
    of a run (two processes, two counters) never share an id.
    """

    def __init__(self) -> None:
        super().__init__()
        self._prefix = uuid.uuid4().hex[:8]
        # perf_counter readings + this offset = wall-clock seconds since the epoch.
        self._epoch = time.time() - time.perf_counter()

    def turn_event(self, turn: int) -> tuple[str, dict[str, Any]]:
        """The ``timing`` event of turn ``turn``: the spans that ended since the last call."""
        spans, self.spans = self.spans, []
        log = logging.getLogger(TURN_LOGGER)
        for span in spans:
            if span.kind is SpanKind.AGENT_TURN and log.isEnabledFor(logging.INFO):
                agent = str(span.attributes.get("agent") or span.name)
                outcome = _OUTCOMES.get(span.status, span.status)
                ms = span.duration * 1000
                extra = {"agent": agent, "status": outcome, "duration_ms": round(ms, 3)}
                log.info("turn %d: %s %s in %.1f ms", turn, agent, outcome, ms, extra=extra)
        return TIMING_EVENT, {"turn": turn, "spans": [self._dump(span) for span in spans]}

    def _dump(self, span: Span) -> dict[str, Any]:
        # Timeline.from_spans measures from `start`: from minus the offset gives epoch seconds.
        converted = Timeline.from_spans([span], -self._epoch, -self._epoch, title="").spans[0]
        data = converted.model_dump(mode="json", exclude_defaults=True)
        data["id"] = f"{self._prefix}.{converted.id}"
        if converted.parent_id is not None:
            data["parent_id"] = f"{self._prefix}.{converted.parent_id}"
        for key in _TEXTS:
            if isinstance(data.get(key), str):
                data[key] = _cut(data[key])
        for message in data.get("messages", []):
            message["content"] = _cut(message.get("content", ""))
        return data


def _cut(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + " …"


def timeline_from_events(run: Run, events: list[tuple[str, Mapping[str, Any]]]) -> Timeline:
    """The run's timeline from its stored events (``(kind, data)`` in order)."""
    spans: list[TimelineSpan] = []
    for kind, data in events:
        if kind == TIMING_EVENT:
            spans.extend(TimelineSpan.model_validate(item) for item in data.get("spans", []))
    started = run.started_at.timestamp() if run.started_at is not None else None
    origin = min([s.start for s in spans] + ([started] if started is not None else []), default=0.0)
    ended = run.finished_at.timestamp() if run.finished_at is not None else None
    end = max([s.end for s in spans] + ([ended] if ended is not None else []), default=origin)
    shifted = [
        span.model_copy(
            update={
                "start": span.start - origin,
                "end": span.end - origin,
                "messages": [m.model_copy(update={"time": m.time - origin}) for m in span.messages],
            }
        )
        for span in sorted(spans, key=lambda s: (s.start, s.id))
    ]
    return Timeline(
        title=_title(run),
        run_id=run.id,
        started_at=datetime.fromtimestamp(origin, UTC) if spans or started is not None else None,
        duration=max(end - origin, 0.0),
        spans=shifted,
    )


def _title(run: Run) -> str:
    title = f"Run {run.id} · {run.spec} v{run.spec_version} · {run.status}"
    if run.error is not None:
        title += f" ({run.error.type}: {_cut(run.error.message)})"
    return title


async def run_timeline(store: Store, run_id: str) -> Timeline:
    """The timeline of a stored run.

    Raises:
        NotFoundError: no such run.
    """
    run = await store.get_run(run_id)
    events: list[tuple[str, Mapping[str, Any]]] = []
    after = 0
    while True:
        page = await store.read_events(run_id, after=after)
        if not page:
            break
        events.extend((e.event, e.data) for e in page)
        after = page[-1].seq
    return timeline_from_events(run, events)
