"""Writes realistic log files: the service's JSON lines (docs/logging.md) and plain-text lines.

Deterministic (a seeded random generator), so tests can compute the exact figures the
analyzer must find from the same lists the file was written from.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class Written:
    """What a generated file contains, for the assertions."""

    durations: list[float] = field(default_factory=list)
    errors: list[tuple[datetime, str]] = field(default_factory=list)
    outcomes: dict[str, list[bool]] = field(default_factory=dict)
    malformed: int = 0
    lines: int = 0
    requests: int = 0
    failed_requests: int = 0


def _line(stamp: datetime, level: str, logger: str, message: str, **fields: Any) -> str:
    record = {
        "timestamp": stamp.isoformat().replace("+00:00", "Z"),
        "level": level,
        "logger": logger,
        "message": message,
        **fields,
    }
    return json.dumps(record)


def service_log(path: Path, *, requests: int = 2000, hours: int = 6, seed: int = 7) -> Written:
    """A service log: HTTP requests, run transitions, agent turns, errors, a few bad lines."""
    rng = random.Random(seed)
    out = Written()
    lines: list[str] = []
    step = timedelta(seconds=hours * 3600 / requests)
    agents = {"researcher": 0.97, "writer": 0.99, "reviewer": 0.8}
    for i in range(requests):
        stamp = START + step * i
        duration = round(rng.lognormvariate(5.5, 0.6), 2)  # ~250 ms median
        status = 500 if rng.random() < 0.03 else 202
        out.durations.append(duration)
        out.requests += 1
        out.failed_requests += status >= 500
        lines.append(
            _line(
                stamp, "ERROR" if status >= 500 else "INFO", "muster.service.api", "request",
                method="POST", path="/v1/threads/t1/runs", status_code=status, duration_ms=duration,
                request_id=f"req-{i}", trace_id=f"tr-{i}",
            )
        )  # fmt: skip
        if status >= 500:
            out.errors.append((stamp, "HTTP 500"))
        agent = rng.choice(sorted(agents))
        ok = rng.random() < agents[agent]
        out.outcomes.setdefault(agent, []).append(ok)
        run_id = f"run-{i}"
        lines.append(
            _line(
                stamp, "INFO" if ok else "ERROR", "muster.service.runs", "turn finished",
                run_id=run_id, thread_id="t1", spec="research", agent=agent,
                status="succeeded" if ok else "failed", **({} if ok else {"error_type": "ToolTimeoutError"}),
            )
        )  # fmt: skip
        if not ok:
            out.errors.append((stamp, "ToolTimeoutError"))
        if i % 97 == 0:
            lines.append(
                _line(
                    stamp,
                    "ERROR",
                    "muster.models.retry",
                    "provider refused",
                    error_type="RateLimitError",
                    run_id=run_id,
                )
            )
            out.errors.append((stamp, "RateLimitError"))
        if i % 250 == 0:
            lines.append('{"timestamp": "2026-03-01T09:00:00Z", "level": "INFO", "message": "cut off')
            lines.append('["not", "an", "object"]'.replace("[", "{[", 0))
            lines.append(json.dumps({"timestamp": "yesterday", "level": "ERROR", "message": "bad time"}))
            lines.append('{"level": "INFO", "message": "x"')  # unterminated
            out.malformed += 3
            lines.append("")  # blank lines are not malformed
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.lines = len(lines)
    return out


SEED_STYLE = """\
2026-03-01 10:00:01 INFO 代理 researcher 处理成功, 处理时间: 120.5ms
2026-03-01 10:00:02 ERROR 代理 writer 处理失败: TimeoutError: model did not answer
2026-03-01 10:15:00 INFO agent reviewer succeeded, processing time: 80ms
2026-03-01 10:20:00,123 - muster.teams - ERROR - ConnectionError while publishing
Traceback (most recent call last):
  File "x.py", line 1, in <module>
ConnectionError: reset by peer
2026-03-01 11:05:00 WARNING queue is deep, took 2500ms
"""
