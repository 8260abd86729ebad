"""``muster runs timeline RUN_ID``: the stored run's timeline from the configured database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from api_kit import make_settings, running_api
from model_server import ModelServer
from team_specs import duo


def muster(database: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MUSTER_DATABASE__URL": database.url}
    if database.schema is not None:
        env["MUSTER_DATABASE__SCHEMA"] = database.schema
    return subprocess.run(
        [sys.executable, "-m", "muster", "runs", "timeline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


async def test_the_command_prints_and_draws_the_stored_timeline(
    database: Any, model_server: ModelServer, tmp_path: Path
) -> None:
    async with running_api(make_settings(database), database) as api:
        await api.put_spec("duo", duo(model_server.url, max_turns=2))
        thread = await api.thread()
        done = await api.client.post(f"/v1/threads/{thread}/runs/wait", json={"spec": "duo", "task": "hi"})
        run_id = done.json()["run"]["id"]
        served = (await api.client.get(f"/v1/runs/{run_id}/timeline", params={"format": "json"})).json()
    as_json = muster(database, run_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == served

    page = tmp_path / "timeline.html"
    drawn = muster(database, run_id, "--html", str(page))
    assert drawn.returncode == 0, drawn.stderr
    html = page.read_text()
    assert len(re.findall(r'class="bar[^"]*"[^>]*data-kind=', html)) == len(served["spans"]) == 4

    text = muster(database, run_id)
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"Run {run_id} · duo v1 · succeeded")
    assert [line.split()[1:3] for line in lines[1:]] == [
        ["turn", "alice"],
        ["model", "gpt-4o"],
        ["turn", "bob"],
        ["model", "gpt-4o"],
    ]

    unknown = muster(database, "0" * 32)
    assert unknown.returncode == 2 and "does not exist" in unknown.stderr
