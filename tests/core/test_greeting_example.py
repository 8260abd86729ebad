"""The examples/greeting_agent.py walkthrough keeps working."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "greeting_agent.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("greeting_agent_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_main_returns_and_prints_the_greeting(capsys: pytest.CaptureFixture[str]) -> None:
    reply = await _load().main()
    assert reply == "Hello, you said: Hello muster!"
    assert capsys.readouterr().out.strip() == reply
