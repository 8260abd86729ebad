"""The expert-team example: as Python and as a YAML spec, offline on replay models."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from muster.teams import RoundRobinGroupChat

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED_SPEAKERS = ["user", "researcher", "writer", "reviewer", "researcher", "writer", "reviewer"]


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("expert_team_example", EXAMPLES / "expert_team.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MUSTER_MODEL_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)


async def test_the_expert_team_takes_turns_until_the_reviewer_approves(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = await _load_example().main()
    assert [m.source for m in result.messages] == EXPECTED_SPEAKERS
    assert result.stop_reason == "Text 'TERMINATE' mentioned"
    assert result.messages[-1].to_text().endswith("TERMINATE")
    assert "Stop reason: Text 'TERMINATE' mentioned" in capsys.readouterr().out


async def test_the_yaml_spec_is_the_same_team_and_runs_offline() -> None:
    spec = yaml.safe_load((EXAMPLES / "expert_team.yaml").read_text(encoding="utf-8"))
    team = RoundRobinGroupChat.load_component(spec)
    assert (team.name, [p.name for p in team.participants]) == (
        "expert_team",
        ["researcher", "writer", "reviewer"],
    )
    result = await team.run(task="Write a report on AI in healthcare.")
    assert [m.source for m in result.messages] == EXPECTED_SPEAKERS
    assert result.stop_reason == "Text 'TERMINATE' mentioned"


def test_the_yaml_spec_is_up_to_date_with_the_python_example() -> None:
    assert _load_example().dump_yaml() == (EXAMPLES / "expert_team.yaml").read_text(encoding="utf-8")


def test_examples_dir_is_not_left_on_sys_path_twice() -> None:
    _load_example()
    _load_example()
    assert sys.path.count(str(EXAMPLES)) >= 1
