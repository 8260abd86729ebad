"""``muster diagnose``, ``muster leaks`` and ``muster logs analyze`` end to end, in process.

Specs run on their replay models; the leak command runs the framework's own example team
200 times (it must stay flat) and a spec with a planted leak (it must fail).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from muster.agents import AssistantAgent
from muster.cli import main
from muster.core import FunctionCall
from muster.models import CreateResult, RequestUsage
from muster.models.replay import ReplayChatCompletionClient
from muster.tools import FunctionTool

ROOT = Path(__file__).resolve().parents[2]
EXPERT_TEAM = ROOT / "examples" / "expert_team.yaml"
sys.path.insert(0, str(ROOT / "tests" / "ops"))
from _log_files import service_log  # noqa: E402

STAGES = ("message_preprocessing", "model_inference", "tool_execution", "response_postprocessing")


def test_diagnose_prints_json_and_writes_the_timeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "timeline.html"
    code = main(["diagnose", str(EXPERT_TEAM), "--task", "Write a report", "--json", "--html", str(page)])
    assert code == 0
    diagnosis = json.loads(capsys.readouterr().out)
    timings = diagnosis["timings"]
    assert abs(sum(timings[s] for s in STAGES) - diagnosis["total_time"]) < 1e-6
    assert len(timings["per_model_call"]) == 6 and set(timings["per_agent"]) == {
        "researcher",
        "writer",
        "reviewer",
    }
    html = page.read_text()
    assert len(re.findall(r'class="bar[ "]', html)) == 12  # 6 turns, 6 model calls


def test_diagnose_prints_a_readable_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", str(EXPERT_TEAM), "--task", "Write a report", "--model", "spec"]) == 0
    out = capsys.readouterr().out
    for text in (
        "Diagnosis of expert_team.yaml",
        "Model inference",
        "Model calls",
        "researcher",
        "Suggestions",
    ):
        assert text in out


def test_diagnose_of_a_failing_run_still_writes_its_timeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "mute.json"
    spec.write_text(
        json.dumps(
            AssistantAgent("mute", model_client=ReplayChatCompletionClient([])).dump_component().model_dump()
        )
    )
    page = tmp_path / "t.html"
    assert main(["diagnose", str(spec), "--task", "hi", "--html", str(page)]) == 2
    assert "the run failed: ReplayExhaustedError" in capsys.readouterr().err
    assert 'data-kind="model_call"' in page.read_text() and "badge err" in page.read_text()


@pytest.mark.filterwarnings("ignore:Loading a FunctionTool from source code:UserWarning")
def test_leaks_passes_the_framework_and_flags_a_planted_leak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["leaks", str(EXPERT_TEAM), "--repeat", "200", "--frames", "1", "--json"]) == 0
    flat = json.loads(capsys.readouterr().out)
    assert flat["growing"] is False and flat["runs"] == 200

    def remember(note: str) -> str:
        """Files a note, and keeps a copy where nothing ever frees it."""
        import logging

        logging.getLogger("muster.tests.planted").__dict__.setdefault("kept", []).append(
            bytes(30_000) + note.encode()
        )
        return "noted"

    call = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="1", name="remember", arguments='{"note": "x"}')],
        usage=RequestUsage(1, 1),
        cached=False,
    )
    info = {
        "vision": False,
        "function_calling": True,
        "json_output": False,
        "family": "unknown",
        "structured_output": False,
    }
    agent = AssistantAgent(
        "clerk",
        model_client=ReplayChatCompletionClient([call], model_info=info),  # type: ignore[arg-type]
        tools=[FunctionTool(remember, description="File a note.")],
    )
    spec = tmp_path / "leaky.json"
    spec.write_text(json.dumps(agent.dump_component().model_dump()))
    import logging

    try:
        assert main(["leaks", str(spec), "--repeat", "20", "--frames", "1"]) == 1
    finally:
        logging.getLogger("muster.tests.planted").__dict__.pop("kept", None)
    out = capsys.readouterr().out
    assert "LEAK" in out and "bytes per run" in out and "Where it grows" in out


def test_logs_analyze_json_html_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "service.log"
    service_log(log, requests=500, hours=3)
    page = tmp_path / "report.html"
    assert main(["logs", "analyze", str(log), "--json", "--html", str(page), "--hours", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["performance"]["count"] == 500 and report["lines"]["malformed"] > 0
    assert page.read_text().count('class="latency"') == 3
    assert main(["logs", "analyze", str(log)]) == 0
    out = capsys.readouterr().out
    assert "Errors in the window" in out and "p95" in out and "Agents" in out
    assert main(["logs", "analyze", str(tmp_path / "missing.log")]) == 2
