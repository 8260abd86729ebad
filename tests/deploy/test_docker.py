"""The Dockerfile: hadolint finds nothing (not even style), and the image is what the issue asks.

No Docker engine runs here, so the image is not built in CI; these checks read the file.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from deploy_support import DEPLOY, ROOT, ok, run

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_hadolint_reports_nothing() -> None:
    output = ok(run("hadolint", "--no-color", "--failure-threshold", "style", DOCKERFILE))
    assert output.strip() == ""


def test_hadolint_does_fail_on_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl\nRUN cd /tmp\n")
    result = run("hadolint", "--no-color", "--failure-threshold", "style", bad)
    assert result.returncode != 0 and "DL3008" in result.stdout


def test_multi_stage_slim_non_root_with_a_python_healthcheck() -> None:
    steps = instructions()
    args = dict(rest.split("=", 1) for keyword, rest in steps if keyword == "ARG" and "=" in rest)
    stages = [rest for keyword, rest in steps if keyword == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert set(args["MUSTER_EXTRAS"].split(",")) >= {"server", "postgres", "redis"}
    runtime = steps[[keyword for keyword, _ in steps].index("FROM", 2) :]
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users and not users[-1].startswith(("0", "root"))
    (healthcheck,) = [rest for keyword, rest in runtime if keyword == "HEALTHCHECK"]
    assert '"python"' in healthcheck and "curl" not in healthcheck
    assert "MUSTER_HEALTHCHECK_URL=http://127.0.0.1:8000/health" in " ".join(
        rest for k, rest in runtime if k == "ENV"
    )
    assert ("ENTRYPOINT", '["muster"]') in runtime and ("CMD", '["serve"]') in runtime
    # The runtime stage copies the virtualenv, never the source tree or a compiler.
    copies = [rest for keyword, rest in runtime if keyword == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv", "deploy/config/app.yaml /etc/muster/app.yaml"]


def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def included(path: str) -> bool:
        keep = True
        for rule in rules:
            negated = rule.startswith("!")
            pattern = rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                keep = negated
        return keep

    sources = [
        part
        for keyword, rest in instructions()
        if keyword == "COPY" and not rest.startswith("--from")
        for part in rest.split()[:-1]
    ]
    assert sources == ["pyproject.toml", "README.md", "LICENSE", "src", "deploy/config/app.yaml"]
    for source in sources:
        assert (ROOT / source).exists() and included(source), source
    for secret_or_bulk in ("deploy/.env", ".venv/bin/python", ".git/HEAD", "tests/conftest.py", "muster.db"):
        assert not included(secret_or_bulk), secret_or_bulk
