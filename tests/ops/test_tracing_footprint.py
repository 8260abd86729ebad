"""Tracing costs nothing until it is used: a run without it loads nothing of OpenTelemetry.

Each check runs in a fresh interpreter and reads ``sys.modules`` (as
``tests/test_import_footprint.py`` does): importing ``muster.ops`` and running a team with a
tool, the instrumentation hook idle, must not load ``opentelemetry``; building a ``Tracing``
is what loads it.
"""

from __future__ import annotations

import json
import subprocess
import sys

_RUN = """
import asyncio, json, sys
import muster.ops
from muster.agents import AssistantAgent
from muster.models.replay import ReplayChatCompletionClient
from muster.teams import RoundRobinGroupChat

async def main():
    team = RoundRobinGroupChat(
        [AssistantAgent("a", model_client=ReplayChatCompletionClient(chat_completions=["hi"]))], max_turns=1
    )
    {around}
        await team.run(task="hello")

asyncio.run(main())
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")))
"""


def _otel_modules(around: str) -> list[str]:
    code = _RUN.format(around=around)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded: list[str] = json.loads(out.strip().splitlines()[-1])
    return loaded


def test_a_run_without_tracing_loads_no_opentelemetry() -> None:
    assert _otel_modules("if True:") == []


def test_a_traced_run_loads_opentelemetry() -> None:
    loaded = _otel_modules("with muster.ops.Tracing().run('t'):")
    assert "opentelemetry.trace" in loaded
    assert not [m for m in loaded if m.startswith("opentelemetry.exporter")]  # no exporter asked for
