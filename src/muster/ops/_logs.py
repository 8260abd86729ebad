"""LogAnalyzer: errors, latency and agent outcomes from a log file, read in one streaming pass.

The seed read the whole file into memory for each analysis and grepped Chinese log text.
This analyzer reads the service's JSON lines (``docs/logging.md``) and plain-text lines, one
line at a time (``.gz`` files too), keeping only bounded aggregates: counts per error type and
hour, latency histograms (:class:`LatencyHistogram`), the slowest requests, per-agent
outcomes. A malformed line is counted and skipped, never fatal. The file is read once, on the
first analysis; :meth:`LogAnalyzer.refresh` reads it again.
"""

from __future__ import annotations

import gzip
import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from ._histogram import LatencyHistogram
from ._log_parse import FAILURE_STATUSES, SUCCESS_STATUSES, LogRecord, parse_line
from ._log_results import (
    AgentStats,
    ErrorAnalysis,
    LineCounts,
    LogReport,
    PerformanceAnalysis,
    SlowRequest,
    agent_results,
    error_results,
    performance_results,
    suggestions,
)

__all__ = ["LogAnalyzer"]

_PROGRESS_EVERY = 1 << 20
"""Bytes between progress callbacks."""
_SLOWEST = 10


def _hour(timestamp: datetime) -> datetime:
    return timestamp.replace(minute=0, second=0, microsecond=0)


@dataclass
class Durations:
    """Bounded aggregates of one set of durations: histogram, per hour, the slowest."""

    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    by_hour: dict[datetime, LatencyHistogram] = field(default_factory=dict)
    slow: int = 0
    slowest: list[tuple[float, int, SlowRequest]] = field(default_factory=list)

    def add(self, record: LogRecord, duration: float, slow_ms: float, order: int) -> None:
        """Fold one duration in."""
        self.latency.add(duration)
        if record.timestamp is not None:
            self.by_hour.setdefault(_hour(record.timestamp), LatencyHistogram()).add(duration)
        if duration > slow_ms:
            self.slow += 1
        if len(self.slowest) < _SLOWEST or duration > self.slowest[0][0]:
            entry = SlowRequest(
                duration_ms=duration,
                timestamp=None if record.timestamp is None else record.timestamp.isoformat(),
                what=(f"{record.method or ''} {record.path}".strip() if record.path else None)
                or (f"agent {record.agent}" if record.agent else None)
                or record.message[:120],
                status_code=record.status_code,
                run_id=record.run_id,
                request_id=record.request_id,
            )
            item = (duration, order, entry)
            if len(self.slowest) < _SLOWEST:
                heapq.heappush(self.slowest, item)
            else:
                heapq.heapreplace(self.slowest, item)

    @classmethod
    def merged(cls, parts: Iterable[Durations]) -> Durations:
        """One set holding every part's durations."""
        whole = cls()
        for part in parts:
            whole.latency.merge(part.latency)
            for hour, histogram in part.by_hour.items():
                whole.by_hour.setdefault(hour, LatencyHistogram()).merge(histogram)
            whole.slow += part.slow
            whole.slowest = heapq.nlargest(_SLOWEST, [*whole.slowest, *part.slowest])
        return whole


@dataclass
class LogScan:
    """Everything one pass over the file keeps: bounded, whatever the file's size."""

    lines: int = 0
    records: int = 0
    json_lines: int = 0
    malformed: int = 0
    skipped: int = 0
    """Blank lines and lines with nothing to read (traceback continuations)."""
    first: datetime | None = None
    last: datetime | None = None
    levels: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    errors_by_hour: dict[datetime, Counter[str]] = field(default_factory=dict)
    untimed_errors: int = 0
    durations: dict[str, Durations] = field(default_factory=dict)
    """By what they measure (:attr:`LogRecord.category`): ``http``, ``run``, ``agent``, ``other``."""
    requests: int = 0
    failed_requests: int = 0
    agents: dict[str, AgentStats] = field(default_factory=dict)

    def add(self, record: LogRecord, slow_ms: float, order: int) -> None:
        """Fold one record into the aggregates."""
        self.records += 1
        stamp = record.timestamp
        if stamp is not None:
            self.first = stamp if self.first is None or stamp < self.first else self.first
            self.last = stamp if self.last is None or stamp > self.last else self.last
        if record.level:
            self.levels[record.level] += 1
        if record.status_code is not None:
            self.requests += 1
            self.failed_requests += record.status_code >= 500
        if record.is_error:
            label = record.error_label
            self.errors[label] += 1
            if stamp is None:
                self.untimed_errors += 1
            else:
                self.errors_by_hour.setdefault(_hour(stamp), Counter())[label] += 1
        if record.duration_ms is not None:
            self._add_duration(record, slow_ms, order)
        if record.agent is not None:
            self._add_agent(record)

    def _add_duration(self, record: LogRecord, slow_ms: float, order: int) -> None:
        duration = record.duration_ms
        assert duration is not None
        self.durations.setdefault(record.category, Durations()).add(record, duration, slow_ms, order)

    def _add_agent(self, record: LogRecord) -> None:
        assert record.agent is not None
        stats = self.agents.setdefault(
            record.agent, AgentStats(success=0, failure=0, events=0, success_rate=None)
        )
        stats["events"] += 1
        status = record.status
        if status in SUCCESS_STATUSES:
            stats["success"] += 1
        elif status in FAILURE_STATUSES or (status is None and record.is_error):
            stats["failure"] += 1


class LogAnalyzer:
    """Analyses a log file: errors by type and hour, latency percentiles, per-agent outcomes.

    Args:
        log_file: The log to read (``.gz`` is decompressed on the fly).
        now: End of the window of :meth:`analyze_errors`; defaults to the file's newest
            timestamp, so an old log is analysed as of when it was written.
        slow_ms: Durations above this count as slow requests (2 s: the seed's p95 alert).
        on_progress: Called with ``(bytes_read, total_bytes)`` while reading.
    """

    def __init__(
        self,
        log_file: str | Path,
        *,
        now: datetime | None = None,
        slow_ms: float = 2000.0,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.log_file = Path(log_file)
        self.now = now
        self.slow_ms = slow_ms
        self.on_progress = on_progress
        self._scan: LogScan | None = None

    def _open(self) -> IO[bytes]:
        if self.log_file.suffix == ".gz":
            return gzip.open(self.log_file, "rb")  # type: ignore[return-value]
        return self.log_file.open("rb")

    def _lines(self) -> Iterator[str]:
        total = self.log_file.stat().st_size
        done = reported = 0
        with self._open() as stream:
            for raw in stream:
                done += len(raw)
                if self.on_progress is not None and done - reported >= _PROGRESS_EVERY:
                    reported = done
                    self.on_progress(min(done, total), total)
                yield raw.decode("utf-8", "replace")
        if self.on_progress is not None:
            self.on_progress(total, total)

    def scan(self) -> LogScan:
        """The aggregates of the file, reading it on first use."""
        if self._scan is None:
            scan = LogScan()
            for order, line in zip(itertools.count(), self._lines(), strict=False):
                scan.lines += 1
                parsed = parse_line(line)
                if parsed is None:
                    scan.malformed += 1
                elif parsed is False:
                    scan.skipped += 1
                else:
                    assert isinstance(parsed, LogRecord)
                    scan.json_lines += line.lstrip().startswith("{")
                    scan.add(parsed, self.slow_ms, order)
            self._scan = scan
        return self._scan

    def refresh(self) -> None:
        """Forget the aggregates; the next analysis reads the file again."""
        self._scan = None

    def analyze_errors(self, hours: int = 24) -> ErrorAnalysis:
        """Errors of the last ``hours`` hours: counts by exception type and per hour."""
        scan = self.scan()
        end = self.now or scan.last
        return error_results(
            scan.errors_by_hour, scan.errors, scan.untimed_errors, end, timedelta(hours=hours)
        )

    def analyze_performance(self) -> PerformanceAnalysis:
        """Durations (``duration_ms``): mean, p50, p95, p99, max, slow requests, per hour.

        When the log has request lines (the service's access log), the figures are the
        requests' latency; the durations of runs and agent turns are in ``by_category``
        only, since a run lasting a minute is not a slow answer. Otherwise every duration
        counts. ``measures`` says which.
        """
        scan = self.scan()
        requests = "http" in scan.durations
        chosen = scan.durations["http"] if requests else Durations.merged(scan.durations.values())
        slowest = [entry for _, _, entry in sorted(chosen.slowest, key=lambda item: -item[0])]
        return performance_results(
            chosen.latency,
            {category: part.latency for category, part in scan.durations.items()},
            chosen.by_hour,
            chosen.slow,
            self.slow_ms,
            slowest,
            measures="requests" if requests else "durations",
        )

    def analyze_agent_activity(self) -> dict[str, AgentStats]:
        """Per agent: successes, failures, events and the success rate."""
        return agent_results(self.scan().agents)

    def generate_report(self, hours: int = 24) -> LogReport:
        """All three analyses, the file's vital statistics and suggestions drawn from them."""
        scan = self.scan()
        errors = self.analyze_errors(hours)
        performance = self.analyze_performance()
        agents = self.analyze_agent_activity()
        info = LineCounts(
            total=scan.lines,
            records=scan.records,
            json=scan.json_lines,
            plain=scan.records - scan.json_lines,
            malformed=scan.malformed,
            skipped=scan.skipped,
        )
        return LogReport(
            file=str(self.log_file),
            lines=info,
            first=None if scan.first is None else scan.first.isoformat(),
            last=None if scan.last is None else scan.last.isoformat(),
            levels=dict(scan.levels.most_common()),
            requests=scan.requests,
            failed_requests=scan.failed_requests,
            errors=errors,
            performance=performance,
            agents=agents,
            suggestions=suggestions(
                errors, performance, agents, scan.requests, scan.failed_requests, scan.malformed
            ),
        )
