"""Operational helpers: running many agents in one process, and finding out what went wrong.

- :class:`ModelClientPool`: a bounded pool of model clients shared by agents;
- :class:`BatchProcessor`: groups messages per agent and runs the groups concurrently;
- :class:`MemoryMonitor`: memory levels, callbacks and a backpressure flag;
- :class:`PooledAgent`: an ``AssistantAgent`` borrowing a pooled client per turn;
- troubleshooting (``docs/troubleshooting.md``): :class:`PerformanceDiagnostics` (where a
  run's time went, measured), :class:`MemoryLeakDetector` and :func:`check_run_memory`
  (does memory grow run after run, and where), :class:`LogAnalyzer` (errors, latency and
  agent outcomes from log files), and the self-contained HTML pages of :func:`render_timeline`
  and :func:`render_log_report`;
- tracing (``docs/tracing.md``): :class:`Tracing` and :func:`enable_tracing` send a run, its
  agent turns, model calls and tool calls to OpenTelemetry as GenAI spans (the ``otel`` extra,
  imported only when tracing is built).

Everything past the first three names is loaded on first access, so ``import muster.ops``
does not import the agents, teams or psutil.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

from ._batch import BatchProcessor, RunnableAgent
from ._memory_monitor import MemoryCallback, MemoryLevel, MemoryMonitor, MemorySample, psutil_probe
from ._pool import ClientFactory, ModelClientPool
from .exceptions import (
    BatchAbortedError,
    BatchProcessorClosedError,
    ForeignClientError,
    OpsError,
    PoolClosedError,
)

if TYPE_CHECKING:
    from ._breakdown import AgentTiming, ModelCallTiming, ToolTiming
    from ._diagnostics import Diagnosis, PerformanceDiagnostics, Timings
    from ._leaks import GrowthSite, LeakReport, LeakSnapshot, MemoryLeakDetector, ObjectGrowth
    from ._log_report_html import render_log_report
    from ._log_results import (
        AgentStats,
        ErrorAnalysis,
        LatencyStats,
        LogReport,
        PerformanceAnalysis,
        SlowRequest,
    )
    from ._logs import LogAnalyzer
    from ._pooled_agent import PooledAgent
    from ._resources import ResourceUsage
    from ._run_memory import RunMemoryReport, check_run_memory
    from ._suggestions import Thresholds
    from ._timeline import Timeline, TimelineMessage, TimelineSpan
    from ._timeline_html import render_timeline
    from ._tracing import TracedRun, Tracing, enable_tracing, otlp_traces_endpoint

__all__ = [
    "render_log_report",
    "LogAnalyzer",
    "SlowRequest",
    "PerformanceAnalysis",
    "LogReport",
    "LatencyStats",
    "ErrorAnalysis",
    "AgentStats",
    "check_run_memory",
    "RunMemoryReport",
    "ObjectGrowth",
    "MemoryLeakDetector",
    "LeakSnapshot",
    "LeakReport",
    "GrowthSite",
    "AgentTiming",
    "BatchAbortedError",
    "BatchProcessor",
    "BatchProcessorClosedError",
    "ClientFactory",
    "Diagnosis",
    "ForeignClientError",
    "MemoryCallback",
    "MemoryLevel",
    "MemoryMonitor",
    "MemorySample",
    "ModelCallTiming",
    "ModelClientPool",
    "OpsError",
    "PerformanceDiagnostics",
    "PoolClosedError",
    "PooledAgent",
    "ResourceUsage",
    "RunnableAgent",
    "Thresholds",
    "Timeline",
    "TimelineMessage",
    "TimelineSpan",
    "Timings",
    "ToolTiming",
    "psutil_probe",
    "render_timeline",
    "TracedRun",
    "Tracing",
    "enable_tracing",
    "otlp_traces_endpoint",
]

_EXPORTS = {
    "render_log_report": "._log_report_html",
    "LogAnalyzer": "._logs",
    "SlowRequest": "._log_results",
    "PerformanceAnalysis": "._log_results",
    "LogReport": "._log_results",
    "LatencyStats": "._log_results",
    "ErrorAnalysis": "._log_results",
    "AgentStats": "._log_results",
    "AgentTiming": "._breakdown",
    "ModelCallTiming": "._breakdown",
    "ToolTiming": "._breakdown",
    "Diagnosis": "._diagnostics",
    "PerformanceDiagnostics": "._diagnostics",
    "Timings": "._diagnostics",
    "GrowthSite": "._leaks",
    "LeakReport": "._leaks",
    "LeakSnapshot": "._leaks",
    "MemoryLeakDetector": "._leaks",
    "ObjectGrowth": "._leaks",
    "PooledAgent": "._pooled_agent",
    "RunMemoryReport": "._run_memory",
    "check_run_memory": "._run_memory",
    "ResourceUsage": "._resources",
    "Thresholds": "._suggestions",
    "Timeline": "._timeline",
    "TimelineMessage": "._timeline",
    "TimelineSpan": "._timeline",
    "render_timeline": "._timeline_html",
    "TracedRun": "._tracing",
    "Tracing": "._tracing",
    "enable_tracing": "._tracing",
    "otlp_traces_endpoint": "._tracing",
}
"""Name -> sub-module that defines it; imported on first access (see ``lazy_exports``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
