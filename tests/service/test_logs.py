"""JSON log lines: the fields docs/logging.md promises, and the request and run-transition lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from muster.service.logs import (
    ACCESS_LOGGER,
    FIELDS,
    RUN_LOGGER,
    configure_logging,
    log_context,
    log_request,
    log_run_transition,
)
from muster.service.models import Run, RunError, RunStatus
from muster.service.settings import LoggingSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "logging.md"
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    out = io.StringIO()
    configure_logging(LoggingSettings(level="DEBUG", format="json"), stream=out)
    yield out
    for handler in list(root.handlers):
        if handler not in saved[1]:
            root.removeHandler(handler)
    root.setLevel(saved[0])


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """The muster records written (asyncio's own debug lines left out)."""
    parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in parsed if line["logger"].startswith("muster.")]


def _run(**kwargs: Any) -> Run:
    at = datetime(2025, 6, 1, tzinfo=UTC)
    base: dict[str, Any] = {
        "id": "r" * 32, "thread_id": "t" * 32, "spec": "experts", "spec_version": 3, "status": RunStatus.RUNNING,
        "worker": "host:1", "attempt": 2, "created_at": at, "updated_at": at,
    }  # fmt: skip
    return Run(**{**base, **kwargs})


def test_a_record_is_one_json_object_with_its_extra_fields(stream: io.StringIO) -> None:
    logging.getLogger("muster.test").info(
        "hello %s", "world", extra={"run_id": "abc", "agent": "writer", "other": 1}
    )
    (line,) = lines(stream)
    assert list(line) == ["timestamp", "level", "logger", "message", "run_id", "agent"]
    assert ISO_UTC.fullmatch(line["timestamp"])
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "muster.test", "hello world")


def test_an_exception_gives_its_type_and_traceback(stream: io.StringIO) -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        logging.getLogger("muster.test").exception("boom")
    (line,) = lines(stream)
    assert line["level"] == "ERROR" and line["error_type"] == "KeyError"
    assert "Traceback" in line["exception"] and "\n" not in stream.getvalue().strip()


def test_log_request(stream: io.StringIO) -> None:
    log_request("POST", "/v1/threads/{thread_id}/runs", 202, 3.14159, request_id="req-1")
    log_request("GET", "/v1/runs/{run_id}", 503, 1.0, trace_id="tr-1")
    ok, failed = lines(stream)
    assert ok["logger"] == ACCESS_LOGGER and ok["level"] == "INFO"
    assert ok["message"] == "POST /v1/threads/{thread_id}/runs 202 3.1 ms"
    assert {k: ok[k] for k in ("method", "path", "status_code", "duration_ms", "request_id")} == {
        "method": "POST", "path": "/v1/threads/{thread_id}/runs", "status_code": 202,
        "duration_ms": 3.142, "request_id": "req-1",
    }  # fmt: skip
    assert "trace_id" not in ok
    assert failed["level"] == "ERROR" and failed["trace_id"] == "tr-1"


def test_log_run_transition(stream: io.StringIO) -> None:
    run = _run()
    log_run_transition(run, None, RunStatus.PENDING)
    log_run_transition(run, RunStatus.PENDING, RunStatus.RUNNING)
    failed = run.model_copy(update={"error": RunError(type="RunTimeout", message="too slow", agent="writer")})
    log_run_transition(failed, RunStatus.RUNNING, RunStatus.FAILED, duration_ms=8123.4)
    created, started, ended = lines(stream)
    assert created["message"] == f"run {run.id}: new -> pending" and "previous_status" not in created
    assert started["logger"] == RUN_LOGGER and started["level"] == "INFO"
    assert {k: started[k] for k in ("run_id", "thread_id", "spec", "spec_version", "status", "previous_status", "worker", "attempt")} == {
        "run_id": run.id, "thread_id": run.thread_id, "spec": "experts", "spec_version": 3,
        "status": "running", "previous_status": "pending", "worker": "host:1", "attempt": 2,
    }  # fmt: skip
    assert ended["level"] == "ERROR"
    assert (ended["error_type"], ended["error"], ended["agent"], ended["duration_ms"]) == (
        "RunTimeout", "too slow", "writer", 8123.4,
    )  # fmt: skip
    assert "exception" not in ended


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown log fields"):
        log_request("GET", "/", 200, 1.0, colour="red")


async def test_log_context_binds_fields_for_the_block_and_its_tasks(stream: io.StringIO) -> None:
    log = logging.getLogger("muster.test")
    with log_context(run_id="r1", thread_id="t1"):
        with log_context(agent="writer", spec=None):
            await asyncio.gather(asyncio.create_task(_log_later(log)))
        log.info("outer", extra={"run_id": "override"})
    log.info("after")
    inner, outer, after = lines(stream)
    assert (inner["run_id"], inner["thread_id"], inner["agent"]) == (
        "r1",
        "t1",
        "writer",
    ) and "spec" not in inner
    assert outer["run_id"] == "override" and "agent" not in outer
    assert "run_id" not in after


async def _log_later(log: logging.Logger) -> None:
    log.info("inner")


def test_configure_twice_keeps_one_handler_and_text_format_works() -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        first, out = io.StringIO(), io.StringIO()
        configure_logging(LoggingSettings(format="json"), stream=first)
        configure_logging(LoggingSettings(level="warning", format="text"), stream=out)
        logging.getLogger("muster.test").info("hidden")
        logging.getLogger("muster.test").warning("shown", extra={"run_id": "r1", "status_code": 500})
        assert first.getvalue() == ""
        (line,) = out.getvalue().splitlines()
        assert re.fullmatch(r"\S+Z WARNING muster.test: shown run_id=r1 status_code=500", line)
        assert sum(h not in saved[1] for h in root.handlers) == 1
    finally:
        for handler in list(root.handlers):
            if handler not in saved[1]:
                root.removeHandler(handler)
        root.setLevel(saved[0])


def test_the_doc_lists_every_field_in_order() -> None:
    documented = re.findall(r"^\| `(\w+)` \|", DOC.read_text(), flags=re.MULTILINE)
    assert documented == ["timestamp", "level", "logger", "message", *FIELDS, "exception"]
