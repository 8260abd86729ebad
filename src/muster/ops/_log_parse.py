"""One log line in, one :class:`LogRecord` out: the service's JSON lines and plain-text lines.

JSON lines carry the fields of ``docs/logging.md`` (``timestamp``, ``level``, ``logger``,
``message`` and optionally ``run_id``, ``thread_id``, ``spec``, ``agent``, ``duration_ms``,
``error_type``, ``status``, ``method``, ``path``, ``status_code``, ``request_id``,
``trace_id``); whatever is present is read, a field of the wrong type is ignored. Plain-text
lines are read the way the seed read them: a timestamp, a level, an exception type on error
lines, a processing time in ms, an agent's success or failure (the seed's Chinese wording and
its English equivalents).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["FAILURE_STATUSES", "RUN_LOGGER", "SUCCESS_STATUSES", "LogRecord", "parse_line"]

RUN_LOGGER = "muster.service.runs"
"""The service's run transitions (docs/logging.md): their ``agent`` is the one a failure names."""

SUCCESS_STATUSES = frozenset({"success", "succeeded", "ok", "completed", "finished", "done"})
FAILURE_STATUSES = frozenset({"failed", "failure", "error", "errored", "timeout", "timed_out"})
_ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})

_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)")
_LEVEL = re.compile(r"\b(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b")
_ERROR_TYPE = re.compile(r"\b([A-Z]\w*(?:Error|Exception|Timeout))\b")
_DURATION = re.compile(
    r"(?:处理时间|processing time|duration|took|latency)\D{0,20}?(\d+(?:\.\d+)?)\s*ms", re.I
)
_AGENT = re.compile(r"(?:代理|agent)\s*[:：]?\s*(\w+).*?(成功|失败|succeeded|success|failed|failure)", re.I)


@dataclass(slots=True)
class LogRecord:
    """What the analyzer uses of one line."""

    timestamp: datetime | None = None
    """Always timezone-aware (UTC when the line did not say)."""
    level: str | None = None
    message: str = ""
    logger: str | None = None
    error_type: str | None = None
    duration_ms: float | None = None
    agent: str | None = None
    status: str | None = None
    """Lower-cased outcome (``succeeded``, ``failed``...)."""
    status_code: int | None = None
    method: str | None = None
    path: str | None = None
    run_id: str | None = None
    request_id: str | None = None

    @property
    def is_error(self) -> bool:
        """An ERROR/CRITICAL line, or an HTTP response with a 5xx status."""
        return self.level in _ERROR_LEVELS or (self.status_code is not None and self.status_code >= 500)

    @property
    def error_label(self) -> str:
        """The error's type, as precise as the line allows."""
        if self.error_type:
            return self.error_type
        if self.status_code is not None and self.status_code >= 500:
            return f"HTTP {self.status_code}"
        return "unknown"

    @property
    def category(self) -> str:
        """``http`` for request lines, ``agent``, ``run`` or ``other``: what a duration measures.

        A run transition (logger ``muster.service.runs``) is a ``run`` even when it names
        the agent that failed it: its duration is the run's.
        """
        if self.path is not None:
            return "http"
        if self.logger == RUN_LOGGER:
            return "run"
        if self.agent is not None:
            return "agent"
        if self.run_id is not None:
            return "run"
        return "other"


def parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 (or ``YYYY-MM-DD HH:MM:SS,mmm``) timestamp, as an aware datetime."""
    try:
        parsed = datetime.fromisoformat(value.replace(",", "."))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and value >= 0 else None  # NaN and negatives are not durations


def _from_json(data: dict[str, Any]) -> LogRecord | None:
    timestamp = None
    raw_time = data.get("timestamp")
    if raw_time is not None:
        timestamp = parse_timestamp(raw_time) if isinstance(raw_time, str) else None
        if timestamp is None:
            return None  # a record that cannot be placed in time is not a record we can trust
    level = _str(data, "level")
    code = data.get("status_code")
    status = _str(data, "status")
    return LogRecord(
        timestamp=timestamp,
        level=level.upper() if level else None,
        message=_str(data, "message") or "",
        logger=_str(data, "logger"),
        error_type=_str(data, "error_type"),
        duration_ms=_number(data.get("duration_ms")),
        agent=_str(data, "agent"),
        status=status.lower() if status else None,
        status_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        method=_str(data, "method"),
        path=_str(data, "path"),
        run_id=_str(data, "run_id"),
        request_id=_str(data, "request_id"),
    )


def _from_text(line: str) -> LogRecord | None:
    stamp = _TIMESTAMP.search(line)
    level = _LEVEL.search(line)
    if stamp is None and level is None:
        return None  # a continuation (a traceback line): nothing to count on its own
    record = LogRecord(
        timestamp=parse_timestamp(stamp.group(1)) if stamp else None,
        level=("WARNING" if level.group(1) == "WARN" else level.group(1)) if level else None,
        message=line,
    )
    if record.level in _ERROR_LEVELS:
        error = _ERROR_TYPE.search(line)
        record.error_type = error.group(1) if error else None
    duration = _DURATION.search(line)
    if duration:
        record.duration_ms = float(duration.group(1))
    agent = _AGENT.search(line)
    if agent:
        record.agent = agent.group(1)
        record.status = (
            "succeeded" if agent.group(2).lower() in {"成功", "succeeded", "success"} else "failed"
        )
    return record


def parse_line(line: str) -> LogRecord | None | bool:
    """The record on ``line``; ``None`` for a malformed line; ``False`` for one with nothing to read.

    A line is malformed when it is meant to be JSON (it starts with ``{``) but is not a
    JSON object, or carries a timestamp that is not one.
    """
    stripped = line.strip()
    if not stripped:
        return False
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            return None
        return _from_json(data) if isinstance(data, dict) else None
    record = _from_text(stripped)
    return False if record is None else record
