"""PerformanceDiagnostics: run an agent or team once, instrumented, and say where the time went.

The seed's tool simulated its stage timings with sleeps; this one records the run (see
:mod:`muster.core.instrumentation`) and measures them: every model call, tool call and agent
turn is a span, the stages partition the run's wall time (``muster.ops._stages``), and the
suggestions are drawn from those figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypedDict

from muster.base import ChatAgent, TaskResult, Team
from muster.core.instrumentation import Recorder, Span, SpanKind
from muster.messages import BaseChatMessage

from ._breakdown import (
    AgentTiming,
    ModelCallTiming,
    ToolTiming,
    agent_breakdown,
    model_call_breakdown,
    tool_breakdown,
)
from ._resources import ResourceProbe, ResourceUsage
from ._stages import partition
from ._suggestions import Thresholds, suggest
from ._timeline import Timeline

__all__ = ["Diagnosis", "PerformanceDiagnostics", "Timings"]


class Timings(TypedDict):
    """The seed's four stages (seconds), then the breakdowns behind them."""

    message_preprocessing: float
    model_inference: float
    tool_execution: float
    response_postprocessing: float
    outside_turns: float
    """Of the two processing stages, the seconds spent outside any agent turn (orchestration)."""
    per_model_call: list[ModelCallTiming]
    per_tool: dict[str, ToolTiming]
    per_agent: dict[str, AgentTiming]


class Diagnosis(TypedDict):
    """What :meth:`PerformanceDiagnostics.diagnose_slow_response` returns (the seed's shape)."""

    total_time: float
    timings: Timings
    resource_usage: ResourceUsage
    suggestions: list[str]
    stop_reason: str | None


class PerformanceDiagnostics:
    """Runs an agent or a team once with instrumentation on and reports where the time went.

    The four stages in ``timings`` always add up to ``total_time`` within
    :attr:`STAGE_TOLERANCE` (each instant of the run is given to exactly one stage; the
    tolerance covers floating-point rounding). See ``docs/troubleshooting.md``.

    Args:
        thresholds: When a figure earns a suggestion; :class:`Thresholds` by default.

    Attributes:
        last_recording: The spans of the last diagnosed run (for :meth:`timeline`).
        last_result: Its ``TaskResult``.
    """

    STAGE_TOLERANCE = 1e-6
    """Seconds by which the stage sum may differ from ``total_time`` (rounding only)."""

    def __init__(self, *, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self.last_recording: Recorder | None = None
        self.last_result: TaskResult | None = None
        self._started_at: datetime | None = None
        self._stages: dict[str, float] = {}

    async def diagnose_slow_response(
        self,
        agent_or_team: ChatAgent | Team,
        task: str | BaseChatMessage | Sequence[BaseChatMessage],
    ) -> Diagnosis:
        """Run ``agent_or_team`` on ``task`` once, recording it, and diagnose the run.

        The run is real: its model calls are made and its tools run. If it fails, the error
        propagates, and :meth:`timeline` still draws what was recorded up to the failure.
        """
        recorder = Recorder()
        probe = ResourceProbe.start()
        self._started_at = datetime.now(UTC)
        self.last_recording, self.last_result = recorder, None
        self._stages = {}
        with recorder.recording():
            result = await agent_or_team.run(task=task)
        usage = probe.finish()
        self.last_result = result
        return self.diagnose_recording(recorder, usage, stop_reason=result.stop_reason)

    def diagnose_recording(
        self, recorder: Recorder, resource_usage: ResourceUsage, *, stop_reason: str | None = None
    ) -> Diagnosis:
        """The diagnosis of an already recorded window (``recorder.recording()`` block)."""
        if recorder.started is None or recorder.ended is None:
            raise ValueError("the recorder has not finished a recording() block")
        start, end = recorder.started, recorder.ended
        spans = recorder.spans
        stages = partition(spans, start, end)
        self._stages = stages.as_dict()
        calls = model_call_breakdown(spans, start)
        tools = tool_breakdown(spans)
        agents = agent_breakdown(spans)
        total = end - start
        timings = Timings(
            message_preprocessing=stages.message_preprocessing,
            model_inference=stages.model_inference,
            tool_execution=stages.tool_execution,
            response_postprocessing=stages.response_postprocessing,
            outside_turns=stages.outside_turns,
            per_model_call=calls,
            per_tool=tools,
            per_agent=agents,
        )
        return Diagnosis(
            total_time=total,
            timings=timings,
            resource_usage=resource_usage,
            suggestions=suggest(total, self._stages, calls, tools, agents, resource_usage, self.thresholds),
            stop_reason=stop_reason,
        )

    def timeline(self, title: str = "Run timeline") -> Timeline:
        """The last diagnosed run as a :class:`Timeline` (draw it with ``render_timeline``).

        Raises:
            ValueError: nothing has been diagnosed yet.
        """
        recorder = self.last_recording
        if recorder is None or recorder.started is None or recorder.ended is None:
            raise ValueError("diagnose a run first")
        run_id = self.last_result.run_id if self.last_result is not None else None
        return Timeline.from_spans(
            recorder.spans,
            recorder.started,
            recorder.ended,
            title=title,
            run_id=run_id or _run_id(recorder.spans),
            started_at=self._started_at,
            stages=self._stages,
        )


def _run_id(spans: Sequence[Span]) -> str | None:
    for span in spans:
        if span.kind is SpanKind.AGENT_TURN and isinstance(span.attributes.get("run_id"), str):
            return str(span.attributes["run_id"])
    return None
