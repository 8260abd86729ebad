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


def test_serve_demo_survives_a_sigkill_mid_run_with_an_intact_transcript() -> None:
    # The second half of `make demo`: muster serve on SQLite, a run streamed, the server
    # SIGKILLed mid-run and restarted, the run finished from its checkpoint.
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "serve_demo.py")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "SIGKILL: the server died mid-run" in out
    assert "run status: succeeded (attempt 2)" in out
    assert "stored transcript: 7 messages, 7 distinct: user > researcher > writer > reviewer" in out
    assert "transcript intact: nothing lost, nothing repeated" in out
