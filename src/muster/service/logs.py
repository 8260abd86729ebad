"""The service's logs: one JSON object per line (docs/logging.md), or plain text.

:func:`configure_logging` installs one handler on the root logger, so the service's own
records, the framework's (``muster.*``, AutoGen's logger names) and uvicorn's (run it with
``log_config=None``) all come out in the same format. Structured fields come from the
record's ``extra`` or from :func:`log_context` (a request's or a run's fields, bound once
for everything logged inside it); ``extra`` wins. A record logged inside an OpenTelemetry
span (``tracing.enabled``: a request, a run, a turn, a model or tool call) gets the span's
``trace_id`` and ``span_id``, read from OpenTelemetry only if something already imported it,
so logging never loads it. docs/logging.md documents every field:
the troubleshooting log analyzer reads exactly this format, so a new field goes there too.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

from .models import Run, RunError, RunStatus
from .settings import LoggingSettings

__all__ = [
    "ACCESS_LOGGER",
    "FIELDS",
    "RUN_LOGGER",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "log_context",
    "log_request",
    "log_run_transition",
]

ACCESS_LOGGER = "muster.service.access"
"""One record per HTTP request."""
RUN_LOGGER = "muster.service.runs"
"""One record per run status change."""

FIELDS = (
    "run_id",
    "thread_id",
    "spec",
    "spec_version",
    "agent",
    "status",
    "previous_status",
    "worker",
    "attempt",
    "duration_ms",
    "error_type",
    "error",
    "method",
    "path",
    "status_code",
    "request_id",
    "trace_id",
    "span_id",
)
"""Optional fields, in output order, after ``timestamp``, ``level``, ``logger``, ``message``."""

_context: ContextVar[Mapping[str, Any]] = ContextVar(
    "muster_service_log_context", default=MappingProxyType({})
)
_HANDLER_MARK = "_muster_service_handler"


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every record logged inside the block (in this task and its children).

    Nested blocks add to the outer one's fields; ``None`` values are left out.
    """
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    bound = _context.get()
    found: dict[str, Any] = {}
    for name in FIELDS:
        value = record.__dict__.get(name, bound.get(name))
        if value is not None:
            found[name] = value
    if "trace_id" not in found:
        found.update(_current_span_ids())
    if record.exc_info and record.exc_info[0] is not None:
        found.setdefault("error_type", record.exc_info[0].__name__)
    return found


def _current_span_ids() -> dict[str, str]:
    """``trace_id``/``span_id`` of OpenTelemetry's current span, if there is a valid one."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:  # never imported: no span can be current, and logging must not load it
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``timestamp`` (ISO 8601 UTC), ``level``, ``logger``, ``message``,
    then the :data:`FIELDS` present, then ``exception`` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        payload: dict[str, Any] = {
            "timestamp": stamp.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            payload["exception"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """``2025-06-01T12:00:00.123Z INFO muster.service.runs: message key=value ...`` for people."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as text, fields as ``key=value`` after the message."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = f"{stamp.replace('+00:00', 'Z')} {record.levelname} {record.name}: {record.getMessage()}"
        extras = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        if extras:
            line = f"{line} {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(settings: LoggingSettings, *, stream: TextIO | None = None) -> logging.Handler:
    """Log everything at ``settings.level`` and above to ``stream`` (stderr) in ``settings.format``.

    Replaces the handler an earlier call installed (an app per test, a reload), never
    anyone else's. Returns the handler.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
            existing.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(settings.level)
    return handler


def log_request(
    method: str,
    path: str,
    status_code: int,
    duration_ms: float,
    *,
    request_id: str | None = None,
    trace_id: str | None = None,
    **fields: Any,
) -> None:
    """Log one HTTP request (``ERROR`` for a 5xx answer, else ``INFO``).

    ``path`` is the route's template (``/v1/runs/{run_id}``) or the raw path; ``fields``
    may add any of :data:`FIELDS` (a ``run_id`` the request created, say).
    """
    level = logging.ERROR if status_code >= 500 else logging.INFO
    extra = {
        "method": method,
        "path": path,
        "status_code": status_code,
        "duration_ms": round(duration_ms, 3),
        "request_id": request_id,
        "trace_id": trace_id,
        **fields,
    }
    logging.getLogger(ACCESS_LOGGER).log(
        level, "%s %s %d %.1f ms", method, path, status_code, duration_ms, extra=_known(extra)
    )


def log_run_transition(
    run: Run,
    old: RunStatus | None,
    new: RunStatus,
    *,
    duration_ms: float | None = None,
    agent: str | None = None,
    error: RunError | None = None,
    **fields: Any,
) -> None:
    """Log a run's status change (``old`` is ``None`` when the run is created).

    ``failed`` logs at ``ERROR`` with the error's type and message (never a traceback: the
    run's error is data, not an exception in flight); every other change at ``INFO``.
    """
    error = error if error is not None else run.error
    level = logging.ERROR if new == RunStatus.FAILED else logging.INFO
    extra = {
        "run_id": run.id,
        "thread_id": run.thread_id,
        "spec": run.spec,
        "spec_version": run.spec_version,
        "status": str(new),
        "previous_status": str(old) if old is not None else None,
        "worker": run.worker,
        "attempt": run.attempt,
        "duration_ms": round(duration_ms, 3) if duration_ms is not None else None,
        "agent": agent if agent is not None else (error.agent if error is not None else None),
        "error_type": error.type if error is not None else None,
        "error": error.message if error is not None else None,
        **fields,
    }
    logging.getLogger(RUN_LOGGER).log(
        level, "run %s: %s -> %s", run.id, old or "new", new, extra=_known(extra)
    )


def _known(extra: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(extra) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown log fields {sorted(unknown)}: document them in docs/logging.md and FIELDS")
    return {k: v for k, v in extra.items() if v is not None}
