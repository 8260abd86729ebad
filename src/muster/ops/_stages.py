"""Where a run's wall time went: the seed's four stages, measured from recorded spans.

Every instant of the run's window is given to exactly one stage, so the stages add up to
the run's total time (to floating-point rounding):

- ``model_inference``: some model call is in flight;
- ``tool_execution``: no model call, but some tool call is;
- ``message_preprocessing``: neither, and more model or tool work follows in the same agent
  turn (assembling the prompt, listing tools, recording results in the context); outside any
  turn, the time before the first turn or call (building the task, starting the team);
- ``response_postprocessing``: neither, and nothing more follows in the turn (building the
  response, validating structured output); outside any turn, after the first one started
  (the team handling a response: termination check, speaker selection without a model, turn
  hooks, delivering messages). ``outside_turns`` reports that orchestration share separately.

Concurrent work counts once: two parallel tool calls of 1 s add 1 s of ``tool_execution``
(the per-tool breakdown still shows 2 s of calls). A model call inside a tool (an
``AgentTool``'s agent) counts as model time: it is what the tool was waiting for.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from muster.core.instrumentation import Span, SpanKind

__all__ = ["STAGES", "StageTimes", "nearest_turn", "partition"]

STAGES = ("message_preprocessing", "model_inference", "tool_execution", "response_postprocessing")
"""The seed's stage names, in the order a request passes through them."""


@dataclass(slots=True)
class StageTimes:
    """Seconds per stage; the four stages sum to the window's length."""

    message_preprocessing: float = 0.0
    model_inference: float = 0.0
    tool_execution: float = 0.0
    response_postprocessing: float = 0.0
    outside_turns: float = 0.0
    """Of the two processing stages, the time not inside any agent turn (team orchestration)."""

    def as_dict(self) -> dict[str, float]:
        """The four stages by name."""
        return {name: getattr(self, name) for name in STAGES}

    @property
    def total(self) -> float:
        """The four stages added up."""
        return sum(self.as_dict().values())


def nearest_turn(span: Span) -> Span | None:
    """The agent turn a span happened in (itself for a turn), or ``None``."""
    current: Span | None = span
    while current is not None and current.kind is not SpanKind.AGENT_TURN:
        current = current.parent
    return current


def partition(spans: Sequence[Span], start: float, end: float) -> StageTimes:
    """Split ``[start, end]`` into the four stages from the spans recorded in it."""
    times = StageTimes()
    if end <= start:
        return times
    calls = [s for s in spans if s.kind is not SpanKind.AGENT_TURN and s.end is not None]
    # Per turn (None: outside any turn), the start times of the calls made in it, sorted.
    starts_by_turn: dict[int | None, list[float]] = {}
    for call in calls:
        turn = nearest_turn(call.parent) if call.parent is not None else None
        starts_by_turn.setdefault(None if turn is None else turn.span_id, []).append(call.start)
    for starts in starts_by_turn.values():
        starts.sort()
    first_turn_start = min((s.start for s in spans if s.kind is SpanKind.AGENT_TURN), default=None)
    first_activity = min(
        [t for t in (first_turn_start, min((c.start for c in calls), default=None)) if t is not None],
        default=end,
    )

    # A sweep over the instants where something starts or ends.
    edges: list[tuple[float, int, Span]] = []
    for span in spans:
        if span.end is None:
            continue
        lo, hi = max(span.start, start), min(span.end, end)
        if hi > lo:
            edges.append((lo, 1, span))
            edges.append((hi, -1, span))
    edges.sort(key=lambda edge: (edge[0], edge[1]))
    active = {SpanKind.MODEL_CALL: 0, SpanKind.TOOL_CALL: 0}
    turns: dict[int, Span] = {}
    cursor = start
    index = 0
    while cursor < end:
        while index < len(edges) and edges[index][0] <= cursor:
            _, delta, span = edges[index]
            if span.kind is SpanKind.AGENT_TURN:
                if delta > 0:
                    turns[span.span_id] = span
                else:
                    turns.pop(span.span_id, None)
            else:
                active[span.kind] += delta
            index += 1
        following = edges[index][0] if index < len(edges) else end
        _assign(times, cursor, min(following, end), active, turns, starts_by_turn, first_activity)
        cursor = following
    return times


def _assign(
    times: StageTimes,
    lo: float,
    hi: float,
    active: dict[SpanKind, int],
    turns: dict[int, Span],
    starts_by_turn: dict[int | None, list[float]],
    first_activity: float,
) -> None:
    length = hi - lo
    if length <= 0:
        return
    if active[SpanKind.MODEL_CALL] > 0:
        times.model_inference += length
        return
    if active[SpanKind.TOOL_CALL] > 0:
        times.tool_execution += length
        return
    if turns:
        innermost = max(turns.values(), key=lambda turn: turn.start)
        starts = starts_by_turn.get(innermost.span_id, [])
        more_follows = bisect.bisect_left(starts, hi) < len(starts)
    else:
        times.outside_turns += length
        more_follows = hi <= first_activity
    if more_follows:
        times.message_preprocessing += length
    else:
        times.response_postprocessing += length
