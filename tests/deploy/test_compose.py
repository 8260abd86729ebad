"""docker-compose.yml: valid against the compose specification's schema, and what the issue asks.

check-jsonschema ships the compose specification's JSON schema (``vendor.compose-spec``), so
the check runs offline. No Docker engine runs here: the topology itself is exercised by the
drill (``make drill``) with real processes.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import DEPLOY, ROOT, ok, run

from muster.service.settings import load_settings

COMPOSE = DEPLOY / "docker-compose.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]  # type: ignore[no-any-return]


def test_check_jsonschema_against_the_compose_spec() -> None:
    output = ok(run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE))
    assert "ok -- validation done" in output


def test_check_jsonschema_rejects_a_wrong_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("restart: unless-stopped", "restart: [sometimes]", 1))
    result = run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", broken)
    assert result.returncode != 0 and "restart" in result.stdout + result.stderr


def test_the_services_of_the_topology(services: dict[str, dict[str, Any]]) -> None:
    assert {"api", "worker", "migrate", "postgres", "redis", "prometheus", "grafana"} <= set(services)
    for name, service in services.items():
        assert service["deploy"]["resources"]["limits"], name
        if name == "migrate":
            assert service["restart"] == "no" and service["command"] == ["db", "upgrade"]
            continue
        assert service["restart"] == "unless-stopped", name
        if not name.endswith("-exporter"):  # the exporters' images have no shell or HTTP client
            assert service["healthcheck"]["test"], name
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["read_only"] is True
        assert "./config/app.yaml:/etc/muster/app.yaml:ro" in services[name]["volumes"]
    assert services["api"]["command"] == ["serve"] and services["worker"]["command"] == ["worker"]
    assert "--appendonly yes" in " ".join(services["redis"]["command"])
    assert "./prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in services["grafana"]["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in services["grafana"]["volumes"]


def test_grace_periods_outlast_the_drain(services: dict[str, dict[str, Any]]) -> None:
    drain = yaml.safe_load((DEPLOY / "config" / "app.yaml").read_text())["server"]["drain_seconds"]
    assert int(services["api"]["stop_grace_period"].rstrip("s")) > 2 * drain
    assert int(services["worker"]["stop_grace_period"].rstrip("s")) > drain


def test_secrets_come_from_an_uncommitted_env_file() -> None:
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    example = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if "=" in line
    }
    assert used and used <= example, used - example
    ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/.env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, "deploy/.env must be git-ignored"


def test_app_yaml_is_a_valid_configuration_as_compose_runs_it() -> None:
    env = {
        "DATABASE_URL": "postgresql://muster:secret@postgres:5432/autogen",
        "REDIS_URL": "redis://:secret@redis:6379/0",
        "MUSTER_API_KEYS": "",
    }
    settings = load_settings(DEPLOY / "config" / "app.yaml", env)
    assert settings.database.is_postgres and settings.cache.type == "redis"
    assert settings.server.host == "0.0.0.0" and settings.server.port == 8000
    assert settings.monitoring.enabled and settings.monitoring.metrics_port == 9090
    assert (settings.agents.max_concurrent, settings.agents.retry_attempts) == (100, 3)
    assert settings.logging.format == "json"
