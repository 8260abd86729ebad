"""LogAnalyzer on generated service logs and seed-style text: exact counts, bounded memory."""

from __future__ import annotations

import gzip
import math
import shutil
import tracemalloc
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from _log_files import SEED_STYLE, START, service_log

from muster.ops import LogAnalyzer


def exact_percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def test_errors_are_counted_by_type_and_hour(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    written = service_log(log)
    report = LogAnalyzer(log).analyze_errors(hours=3)
    end = max(stamp for stamp, _ in written.errors)
    last_stamp = START + timedelta(hours=6) - timedelta(seconds=6 * 3600 / 2000)
    assert report["window_end"] == last_stamp.isoformat()
    window_start = last_stamp - timedelta(hours=3)
    expected = Counter(
        kind for stamp, kind in written.errors if stamp >= window_start.replace(minute=0, second=0)
    )
    assert report["by_type"] == dict(expected.most_common())
    assert report["total"] == sum(expected.values()) and report["total"] < len(written.errors)
    assert report["all_time"] == dict(Counter(kind for _, kind in written.errors).most_common())
    hours = [h["hour"] for h in report["hourly"]]
    assert hours == sorted(hours) and len(hours) == 4  # the window's hours, oldest first
    per_hour = Counter(
        stamp.replace(minute=0, second=0, microsecond=0).isoformat() for stamp, _ in written.errors
    )
    assert all(h["count"] == per_hour[h["hour"]] for h in report["hourly"])
    assert end <= last_stamp


def test_latency_statistics_match_the_written_durations(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    written = service_log(log)
    perf = LogAnalyzer(log, slow_ms=600).analyze_performance()
    durations = written.durations
    assert perf["count"] == len(durations)
    assert perf["mean_ms"] == pytest.approx(sum(durations) / len(durations))
    assert perf["max_ms"] == max(durations) and perf["min_ms"] == min(durations)
    for q, key in ((50, "p50_ms"), (95, "p95_ms"), (99, "p99_ms")):
        assert perf[key] == pytest.approx(exact_percentile(durations, q), rel=0.011)  # type: ignore[literal-required]
    assert perf["slow_count"] == sum(1 for d in durations if d > 600)
    assert [s["duration_ms"] for s in perf["slowest"]] == sorted(durations, reverse=True)[:10]
    assert perf["slowest"][0]["what"] == "POST /v1/threads/t1/runs"
    assert perf["slowest"][0]["request_id"] is not None
    assert set(perf["by_category"]) == {"http"}
    assert sum(h["count"] for h in perf["hourly"]) == len(durations) and len(perf["hourly"]) == 6


def test_agent_outcomes_and_the_report(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    written = service_log(log)
    analyzer = LogAnalyzer(log)
    agents = analyzer.analyze_agent_activity()
    for name, outcomes in written.outcomes.items():
        assert agents[name]["success"] == sum(outcomes)
        assert agents[name]["failure"] == len(outcomes) - sum(outcomes)
        assert agents[name]["success_rate"] == pytest.approx(sum(outcomes) / len(outcomes))
    report = analyzer.generate_report(hours=24)
    assert report["lines"]["malformed"] == written.malformed
    assert report["lines"]["total"] == written.lines
    assert report["requests"] == written.requests and report["failed_requests"] == written.failed_requests
    text = " ".join(report["suggestions"])
    assert "Agent 'reviewer' succeeds in only" in text
    assert "ToolTimeoutError is the most frequent error" in text and "timeouts dominate" in text
    assert f"{written.malformed} malformed line(s) were skipped" in text


def test_seed_style_text_lines_are_read(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(SEED_STYLE, encoding="utf-8")
    analyzer = LogAnalyzer(log)
    report = analyzer.generate_report()
    assert report["errors"]["all_time"] == {"TimeoutError": 1, "ConnectionError": 1}
    assert analyzer.analyze_agent_activity() == {
        "researcher": {"success": 1, "failure": 0, "events": 1, "success_rate": 1.0},
        "reviewer": {"success": 1, "failure": 0, "events": 1, "success_rate": 1.0},
        "writer": {"success": 0, "failure": 1, "events": 1, "success_rate": 0.0},
    }
    perf = report["performance"]
    assert (perf["count"], perf["max_ms"], perf["slow_count"]) == (3, 2500.0, 1)
    assert report["lines"]["skipped"] == 3 and report["lines"]["malformed"] == 0  # the traceback
    assert report["levels"] == {"INFO": 2, "ERROR": 2, "WARNING": 1}


def test_garbage_empty_and_gzipped_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(b"\xff\xfe not a log line\n{\x00\x01 not json\n{}\n\x89PNG\r\n")
    report = LogAnalyzer(garbage).generate_report()
    assert report["lines"]["malformed"] == 1 and report["lines"]["records"] == 1
    assert report["lines"]["skipped"] == 2  # undecodable bytes: read as text, nothing to count
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert LogAnalyzer(empty).generate_report()["suggestions"][0].startswith("Nothing stands out")
    plain = tmp_path / "service.log"
    written = service_log(plain, requests=300)
    packed = tmp_path / "service.log.gz"
    with plain.open("rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert LogAnalyzer(packed).analyze_performance()["count"] == len(written.durations)


def test_a_large_file_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    written = service_log(log, requests=20_000, hours=48)
    size = log.stat().st_size
    assert size > 9_000_000
    progress: list[tuple[int, int]] = []
    analyzer = LogAnalyzer(log, on_progress=lambda done, total: progress.append((done, total)))
    tracemalloc.start()
    try:
        report = analyzer.generate_report(hours=48)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report["performance"]["count"] == len(written.durations)
    assert peak < size / 20, f"peak {peak / 1e6:.2f} MB for a {size / 1e6:.1f} MB file"
    assert progress[-1] == (size, size) and len(progress) >= 9  # about one per MiB
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_the_html_report_charts_every_hour_and_escapes_log_text(tmp_path: Path) -> None:
    from muster.ops import render_log_report

    log = tmp_path / "service.log"
    service_log(log, requests=400, hours=4)
    with log.open("a", encoding="utf-8") as f:
        f.write(
            '{"timestamp": "2026-03-01T11:30:00Z", "level": "ERROR", "error_type": "<script>x</script>"}\n'
        )
    report = LogAnalyzer(log).generate_report(hours=4)
    page = render_log_report(report)
    top4 = list(report["errors"]["by_type"])[:4]
    expected = 0
    for hour in report["errors"]["hourly"]:
        shown = [hour["by_type"].get(kind, 0) for kind in top4]
        expected += sum(1 for n in shown if n) + (hour["count"] > sum(shown))  # the rest: one "other"
    assert page.count('class="errbar"') == expected > 0
    assert page.count('class="latency"') == 3  # p50, p95, max
    assert page.count("<circle") == 3 * len(report["performance"]["hourly"])
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page
