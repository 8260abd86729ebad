"""``make drill`` passes: the deployment topology survives a replica and a worker killed mid-load.

The drill (``deploy/drill``, ``docs/drill.md``) starts nginx, three ``muster serve``
replicas, two ``muster worker`` processes, a throwaway PostgreSQL, Redis and Prometheus on
127.0.0.1, posts 200 runs (20 streamed by SSE clients), SIGKILLs a replica and a worker
halfway, restarts them once the alerts fire, and checks every run, every stream and the
alerts. It runs here as ``make drill`` does, in a process of its own, and must leave
nothing running.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the drill is ``deploy.drill``, run from the repository's root

from deploy.drill.prometheus import parse_duration, shorten_rules  # noqa: E402


def test_the_drill_loads_the_deployments_rules_with_shorter_waits(tmp_path: Path) -> None:
    import yaml

    source = REPO / "deploy" / "prometheus" / "rules" / "muster.rules.yml"
    production = yaml.safe_load(source.read_text())
    drill, changed = shorten_rules(source)
    assert [g["name"] for g in drill["groups"]] == [g["name"] for g in production["groups"]]
    for before_group, after_group in zip(production["groups"], drill["groups"], strict=True):
        for before, after in zip(before_group["rules"], after_group["rules"], strict=True):
            assert after["expr"] == before["expr"] and after.get("alert") == before.get("alert")
            if "for" in before:
                assert 1 <= parse_duration(after["for"]) <= min(10, parse_duration(before["for"]))
                assert changed[before["alert"]] == (str(before["for"]), after["for"])
    assert {"MusterInstanceDown", "MusterAgentsOffline"} <= set(changed)


def test_prometheus_durations_parse() -> None:
    assert parse_duration("1m30s") == 90 and parse_duration("500ms") == 0.5 and parse_duration("2h") == 7200
    with pytest.raises(ValueError):
        parse_duration("1 minute")


def _drill(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.drill", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # the drill stops its processes on the way out
        out, _ = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, None)


def _log_tails(folder: Path) -> str:
    tails = []
    for log in sorted(folder.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()[-15:]
        tails.append(f"--- {log.name}\n" + "\n".join(lines))
    return "\n".join(tails)


def _processes_naming(folder: str) -> list[str]:
    """Processes whose command line names ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if folder in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found


@pytest.mark.timeout(480)
def test_make_drill_passes_and_leaves_nothing_running(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    result = _drill("--logs", str(logs), timeout=420)
    report = result.stdout
    assert result.returncode == 0, f"{report}\n{_log_tails(logs)}"
    assert "PASSED" in report and "events lost: 0, duplicated: 0" in report
    assert "200 accepted of 200 (20 streamed)" in report
    for alert in (
        r"MusterInstanceDown\{api-\d [\d.:]+\}",
        r"MusterInstanceDown\{worker-\d [\d.:]+\}",
        "MusterAgentsOffline",
    ):
        assert re.search(alert + r" fired .* cleared", report), (alert, report)
    found = re.search(r"(/\S*muster-drill-\S+) removed", report)
    assert found, report
    assert not Path(found.group(1)).exists()
    assert _processes_naming(found.group(1)) == [], "the drill left processes running"
