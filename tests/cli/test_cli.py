"""The ``muster`` command: running specs offline, against a real server, and failing clearly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from muster.cli import main
from muster.cli._spec import real_model_config_from_env, swap_replay_models

ROOT = Path(__file__).resolve().parents[2]
EXPERT_TEAM = ROOT / "examples" / "expert_team.yaml"

sys.path.insert(0, str(ROOT / "tests" / "models"))
from fake_llm_server import FakeLLMServer, openai_completion  # noqa: E402


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_run_expert_team_offline_prints_the_transcript_and_stop_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["run", str(EXPERT_TEAM), "--task", "Write a report on AI in healthcare"])
    out = capsys.readouterr().out
    assert code == 0
    for speaker in ("researcher", "writer", "reviewer"):
        assert f"TextMessage ({speaker})" in out
    assert "Stop reason: Text 'TERMINATE' mentioned" in out or "TERMINATE" in out


def test_console_script_is_installed_and_runs() -> None:
    exe = Path(sys.executable).with_name("muster")
    proc = subprocess.run(
        [str(exe), "run", str(EXPERT_TEAM), "--task", "go", "--no-stats"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "TextMessage (reviewer)" in proc.stdout


@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        ("provider: [unclosed", ".yaml", "invalid YAML"),
        ("{not json", ".json", "invalid JSON"),
        ("- just\n- a list\n", ".yaml", "must be a mapping"),
        (
            json.dumps({"provider": "muster.teams.RoundRobinGroupChat", "config": {"participants": "nope"}}),
            ".json",
            "config.participants",
        ),
        (json.dumps({"provider": "muster.teams.NoSuchTeam", "config": {}}), ".json", "NoSuchTeam"),
        (json.dumps({"config": {}}), ".json", "provider"),
    ],
)
def test_invalid_specs_fail_with_a_message_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, suffix: str, expected: str
) -> None:
    spec = tmp_path / f"spec{suffix}"
    spec.write_text(content)
    assert main(["run", str(spec), "--task", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("muster: error:") and expected in err, err


def test_missing_spec_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "absent.yaml"), "--task", "x"]) == 2
    assert "cannot read spec" in capsys.readouterr().err


def test_a_spec_that_builds_no_runner_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "cond.json"
    spec.write_text(
        json.dumps({"provider": "muster.conditions.MaxMessageTermination", "config": {"max_messages": 2}})
    )
    assert main(["run", str(spec), "--task", "x"]) == 2
    assert "not an agent or a team" in capsys.readouterr().err


def test_environment_selects_a_real_model_only_when_configured() -> None:
    assert real_model_config_from_env({}) is None
    assert real_model_config_from_env({"OPENAI_API_KEY": "k"}) == {"model": "gpt-4o-mini"}
    local = real_model_config_from_env(
        {"MUSTER_MODEL_BASE_URL": "http://127.0.0.1:1/v1", "MUSTER_MODEL": "llama"}
    )
    assert local is not None and local["base_url"] == "http://127.0.0.1:1/v1" and local["model"] == "llama"


def test_swap_replaces_every_replay_client_and_nothing_else() -> None:
    spec: dict[str, Any] = {
        "provider": "muster.teams.RoundRobinGroupChat",
        "config": {
            "participants": [
                {
                    "provider": "muster.agents.AssistantAgent",
                    "config": {
                        "model_client": {
                            "provider": "muster.models.replay.ReplayChatCompletionClient",
                            "config": {"chat_completions": ["a"]},
                        }
                    },
                },
                {"provider": "x.Other", "config": {"model_client": {"provider": "x.Real", "config": {}}}},
            ]
        },
    }
    swapped = swap_replay_models(spec, {"model": "m"})
    first = swapped["config"]["participants"][0]["config"]["model_client"]
    second = swapped["config"]["participants"][1]["config"]["model_client"]
    assert first["provider"] == "muster.models.openai.OpenAIChatCompletionClient" and first["config"] == {
        "model": "m"
    }
    assert second["provider"] == "x.Real"
    assert spec["config"]["participants"][0]["config"]["model_client"]["provider"].endswith(
        "ReplayChatCompletionClient"
    )


def test_the_same_spec_runs_against_an_openai_compatible_server_with_no_edit(
    fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for text in ("research from server", "draft from server", "review from server TERMINATE"):
        fake_llm.queue(openai_completion(text))
    monkeypatch.setenv("MUSTER_MODEL_BASE_URL", fake_llm.openai_url)
    monkeypatch.setenv("MUSTER_MODEL", "local-model")
    assert main(["run", str(EXPERT_TEAM), "--task", "Report on AI"]) == 0
    captured = capsys.readouterr()
    assert "using model local-model" in captured.err
    assert "review from server TERMINATE" in captured.out
    assert len(fake_llm.requests) == 3
    assert all(r.json["model"] == "local-model" for r in fake_llm.requests)
