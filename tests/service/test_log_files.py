"""The log analyzer on a log a real ``muster serve`` wrote: its counts are what the test did.

A real ``muster serve`` process (SQLite, JSON logs on stderr into a file), real runs on the
loopback model server: runs that succeed, runs whose second agent cannot reach its model
(they fail), requests for a run that does not exist. Then ``LogAnalyzer`` and ``muster logs
analyze FILE --json`` read the file the process wrote, and every count must match.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from model_server import ModelServer, openai_agent  # noqa: E402
from process_kit import Processes  # noqa: E402
from service_kit import free_port  # noqa: E402
from team_specs import duo  # noqa: E402

from muster.ops import LogAnalyzer, render_log_report  # noqa: E402

KEY = "log-test-key-0123456789"
HEADERS = {"Authorization": f"Bearer {KEY}"}
SUCCEEDING, FAILING, MISSING = 3, 2, 4


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


def half_broken(url: str) -> dict[str, Any]:
    """Alice answers; bob's model is a port nobody listens on, so the run fails in his turn."""
    from muster.core import ComponentLoader
    from muster.teams import RoundRobinGroupChat

    alice = ComponentLoader.load_component(openai_agent("alice", url))
    bob = ComponentLoader.load_component(openai_agent("bob", "http://127.0.0.1:9/v1"))
    return RoundRobinGroupChat([alice, bob], max_turns=2).dump_component().model_dump()


@pytest.fixture(scope="module")
def served_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The log file of a ``muster serve`` that ran the test's requests, and what was done."""
    folder = tmp_path_factory.mktemp("served")
    env = {
        "MUSTER_API_KEYS": KEY,
        "MUSTER_DATABASE__URL": f"sqlite:///{folder / 'muster.db'}",
        "MUSTER_LOGGING__FORMAT": "json",
        "MUSTER_LOGGING__LEVEL": "INFO",
        "MUSTER_CACHE__TYPE": "none",
        "MUSTER_SERVER__DRAIN_SECONDS": "5",
    }
    port = free_port()
    with ModelServer() as models, Processes(folder, env) as processes:
        server = processes.serve(port)
        done: dict[str, Any] = {"requests": Counter(), "runs": {}}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=HEADERS, timeout=60) as client:

            def call(method: str, path: str, route: str, **kwargs: Any) -> httpx.Response:
                response = client.request(method, path, **kwargs)
                done["requests"][(method, route, response.status_code)] += 1
                return response

            for name, spec in (("duo", duo(models.url, max_turns=2)), ("half", half_broken(models.url))):
                assert (
                    call("POST", "/v1/specs", "/v1/specs", json={"name": name, "component": spec}).status_code
                    == 201
                )
            for name, count in (("duo", SUCCEEDING), ("half", FAILING)):
                for _ in range(count):
                    thread = call("POST", "/v1/threads", "/v1/threads", json={}).json()["id"]
                    result = call(
                        "POST",
                        f"/v1/threads/{thread}/runs/wait",
                        "/v1/threads/{thread_id}/runs/wait",
                        json={"spec": name, "task": "go"},
                    ).json()
                    done["runs"][result["run"]["id"]] = result["run"]
            for _ in range(MISSING):
                missing = call("GET", "/v1/runs/" + "0" * 32, "/v1/runs/{run_id}")
                assert missing.status_code == 404
        server.terminate()  # SIGTERM: drained, every line written
        yield server.log, done


def log_lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_every_line_the_service_wrote_is_a_json_record(served_log: tuple[Path, dict[str, Any]]) -> None:
    log, _ = served_log
    report = LogAnalyzer(log).generate_report()
    lines = log.read_text().splitlines()
    assert report["lines"]["total"] == len(lines)
    assert report["lines"]["malformed"] == 0 and report["lines"]["plain"] == 0
    assert report["lines"]["json"] == report["lines"]["records"] == len(log_lines(log))


def test_runs_requests_and_errors_are_counted_as_they_happened(
    served_log: tuple[Path, dict[str, Any]],
) -> None:
    log, done = served_log
    runs = done["runs"]
    statuses = Counter(run["status"] for run in runs.values())
    assert statuses == {"succeeded": SUCCEEDING, "failed": FAILING}
    (error_type,) = {run["error"]["type"] for run in runs.values() if run["status"] == "failed"}
    report = LogAnalyzer(log).generate_report()

    # One ERROR line per failed run, typed with the run's error; no 5xx answer.
    failed_runs = [
        line
        for line in log_lines(log)
        if line["logger"] == "muster.service.runs" and line.get("status") == "failed"
    ]
    assert len(failed_runs) == FAILING
    assert report["errors"]["by_type"].get(error_type) == FAILING
    assert report["failed_requests"] == 0
    assert sum(report["errors"]["by_type"].values()) == report["errors"]["total"] == report["levels"]["ERROR"]

    # Every request made is counted (plus the readiness polls of the test's start-up wait).
    ready = sum(1 for line in log_lines(log) if line.get("path") == "/ready")
    made = sum(done["requests"].values())
    assert report["requests"] == made + ready
    assert report["performance"]["measures"] == "requests"
    assert report["performance"]["count"] == made + ready

    # Run durations and agent turns are reported apart from request latency.
    by_category = report["performance"]["by_category"]
    assert by_category["run"]["count"] == SUCCEEDING + FAILING  # one end line per run
    assert by_category["agent"]["count"] == 2 * SUCCEEDING + FAILING  # every turn written


def test_agent_outcomes_are_the_turns_and_failures_of_the_runs(
    served_log: tuple[Path, dict[str, Any]],
) -> None:
    log, done = served_log
    agents = LogAnalyzer(log).analyze_agent_activity()
    failed_agents = Counter(run["error"]["agent"] for run in done["runs"].values() if run["error"])
    assert failed_agents == {"bob": FAILING}
    # alice answered in every run; bob in the succeeding ones, and failed the others
    assert agents["alice"]["success"] == SUCCEEDING + FAILING and agents["alice"]["failure"] == 0
    assert agents["bob"]["success"] == SUCCEEDING and agents["bob"]["failure"] == FAILING
    assert agents["bob"]["success_rate"] == pytest.approx(SUCCEEDING / (SUCCEEDING + FAILING))


def test_the_command_reports_the_same_counts(served_log: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    log, _ = served_log
    page = tmp_path / "report.html"
    printed = subprocess.run(
        [sys.executable, "-m", "muster", "logs", "analyze", str(log), "--json", "--html", str(page)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    from_command = json.loads(printed.stdout)
    direct = LogAnalyzer(log).generate_report()
    for key in ("requests", "failed_requests", "levels", "agents"):
        assert from_command[key] == direct[key], key
    assert from_command["errors"]["by_type"] == direct["errors"]["by_type"]
    html = page.read_text()
    # the two charts: the failed runs' errors, and p50/p95/max of the requests
    assert html.count('class="errbar"') >= 1
    assert html.count('<polyline class="latency"') == 3
    assert len(render_log_report(direct)) == len(html)
