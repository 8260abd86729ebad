"""Prometheus files checked by promtool: the scrape config, the rules and their unit tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from deploy_support import DEPLOY, dashboard_queries, ok, run

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "rules" / "muster.rules.yml"
RULE_TESTS = PROMETHEUS / "tests" / "muster.rules.test.yml"

# The alert names shared with the drill (notes: alert contract).
CONTRACT_ALERTS = {
    "MusterHighErrorRate",
    "MusterHighLatencyP95",
    "MusterHighMemory",
    "MusterAgentsOffline",
    "MusterInstanceDown",
    "MusterQueueBacklog",
    "MusterRunsStuck",
    "MusterModelErrorRate",
    "MusterModelRetryRate",
    "MusterCostPerHour",
}


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    assert [g["name"] for g in groups] == ["muster"]
    return [rule for rule in groups[0]["rules"] if "alert" in rule]


def test_promtool_check_config() -> None:
    output = ok(run("promtool", "check", "config", PROMETHEUS / "prometheus.yml"))
    assert "1 rule files found" in output


def test_promtool_check_rules() -> None:
    output = ok(run("promtool", "check", "rules", RULES))
    assert f"{len(alert_rules())} rules found" in output


def test_promtool_test_rules() -> None:
    output = ok(run("promtool", "test", "rules", RULE_TESTS.relative_to(PROMETHEUS), cwd=PROMETHEUS))
    assert "SUCCESS" in output


def test_promtool_test_rules_fails_when_an_alert_is_broken(tmp_path: Path) -> None:
    """The unit tests bite: with the error-rate threshold raised, the firing case fails."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    broken = RULES.read_text().replace("> 0.05", "> 0.5")
    assert broken != RULES.read_text()
    (tmp_path / "rules" / RULES.name).write_text(broken)
    (tmp_path / "tests" / RULE_TESTS.name).write_text(RULE_TESTS.read_text())
    result = run("promtool", "test", "rules", Path("tests") / RULE_TESTS.name, cwd=tmp_path)
    assert result.returncode != 0 and "MusterHighErrorRate" in result.stdout + result.stderr


def test_the_contracts_alerts_with_production_for_durations() -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == CONTRACT_ALERTS
    for rule in rules:
        match = re.fullmatch(r"(\d+)m", rule["for"])
        assert match and 1 <= int(match[1]) <= 10, f"{rule['alert']}: for {rule['for']}"
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    cases = [
        case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]
    ]
    for alert in CONTRACT_ALERTS:
        mine = [case for case in cases if case["alertname"] == alert]
        assert any(case["exp_alerts"] for case in mine), f"{alert}: no case where it fires"
        assert any(not case["exp_alerts"] for case in mine), f"{alert}: no case where it stays quiet"


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses each dashboard query (as a recording rule), Grafana's variables filled in."""
    rules = [{"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(dashboard_queries())]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert f"{len(rules)} rules found" in ok(run("promtool", "check", "rules", path))
