"""``make demo`` runs offline and tells the user a replay model answered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_demo_runs_offline_and_says_a_replay_model_answered() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL", "MUSTER_MODEL_BASE_URL"}
    }
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "scripted replies" in out and "OPENAI_API_KEY" in out
    # The first app streamed its answer, and the weather agent really called its tool.
    assert "---------- TextMessage (assistant) ----------" in out
    assert "name='get_weather'" in out and "Beijing today: sunny" in out
    assert "Total prompt tokens:" in out
