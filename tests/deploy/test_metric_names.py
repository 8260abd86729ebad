"""Every metric and label the alert rules and the dashboard use is one the service exports.

A ServiceMetrics is exercised through its public methods (every labelled series gets a
sample), rendered as /metrics text, and parsed; then each selector of each rule and panel
query is checked against it: the metric exists, its label matchers name labels it has (with
a value it can take), and ``by (...)`` groups and legends use labels every metric there has.
``job`` and ``instance`` are Prometheus's target labels; ``up`` is Prometheus's own metric.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest
import yaml
from deploy_support import DASHBOARD, DEPLOY, dashboard_queries
from prometheus_client.parser import text_string_to_metric_families

from muster.service.metrics import ServiceMetrics
from muster.service.models import RunStatus

TARGET_LABELS = {"job", "instance"}
PROMETHEUS_OWN = {"up": {"job": {"muster-api", "muster-worker"}, "instance": set()}}
_METRIC = r"(?:autogen|muster|process|python)_[A-Za-z0-9_]+|up\b"
_SELECTOR = re.compile(rf"\b({_METRIC})\s*(\{{[^}}]*\}})?")
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def exported() -> dict[str, dict[str, set[str]]]:
    """Sample name -> label name -> the values seen, from a well-exercised ServiceMetrics."""
    metrics = ServiceMetrics()
    metrics.observe_request("POST", "/v1/threads/{thread_id}/runs", 202, 0.01)
    metrics.observe_request("GET", "/v1/runs/{run_id}", 503, 3.0)
    metrics.set_agents(online=2, offline=1, busy=1)
    metrics.set_run_counts({RunStatus.PENDING: 3, RunStatus.RUNNING: 1})
    metrics.set_lease_expired(1)
    metrics.set_memory(0.5, "normal")
    metrics.observe_queue_wait(0.2)
    metrics.observe_run(4.0)
    metrics.turn(replayed=True)
    metrics.model_call("openai", "gpt-4o", prompt_tokens=10, completion_tokens=5, cost_usd=0.01)
    metrics.model_retry()
    metrics.model_error("openai", "ModelServerError")
    metrics.cache_hit()
    samples: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for family in text_string_to_metric_families(metrics.render()[0].decode()):
        for sample in family.samples:
            labels = samples[sample.name]
            for name, value in sample.labels.items():
                labels[name].add(value)
    result = {name: dict(labels) for name, labels in samples.items()}
    for name, labels in PROMETHEUS_OWN.items():
        result[name] = {label: set(values) for label, values in labels.items()}
    return result


def alert_expressions() -> list[str]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "rules" / "muster.rules.yml").read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def problems(expr: str, series: dict[str, dict[str, set[str]]], legend: str = "") -> list[str]:
    """What in ``expr`` (and its panel's legend) the exported series do not back."""
    found: list[str] = []
    names = []
    for match in _SELECTOR.finditer(expr):
        name, braces = match[1], match[2] or ""
        names.append(name)
        if name not in series:
            found.append(f"{name} is not exported")
            continue
        labels = series[name]
        for label, op, value in _MATCHER.findall(braces):
            if label in TARGET_LABELS and name != "up":
                continue
            if label not in labels:
                found.append(f"{name} has no label {label}")
            elif op == "=" and labels[label] and value not in labels[label]:
                found.append(f"{name}{{{label}}} never takes the value {value!r}")
            elif op == "=~" and labels[label] and not any(re.fullmatch(value, v) for v in labels[label]):
                found.append(f"{name}{{{label}}} never matches {value!r}")
    if not names:
        found.append(f"no metric in {expr!r}")
    known = [set(series.get(name, {})) | TARGET_LABELS for name in names]
    for group in _GROUPING.findall(expr):
        for label in filter(None, (part.strip() for part in group.split(","))):
            missing = [name for name, labels in zip(names, known, strict=True) if label not in labels]
            if missing:
                found.append(f"by ({label}): not a label of {', '.join(missing)}")
    for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
        if not any(label in labels for labels in known):
            found.append(f"legend {{{{{label}}}}}: no metric in the query has that label")
    return found


def test_the_alert_rules_use_exported_metrics_and_labels() -> None:
    series = exported()
    expressions = alert_expressions()
    assert len(expressions) == 10
    assert {p for expr in expressions for p in problems(expr, series)} == set()


def test_the_dashboard_uses_exported_metrics_and_labels() -> None:
    series = exported()
    legends = [
        target.get("legendFormat", "")
        for panel in json.loads(DASHBOARD.read_text())["panels"]
        for target in panel.get("targets", [])
    ]
    queries = dashboard_queries()
    assert len(queries) == len(legends) > 20
    assert {
        p for expr, legend in zip(queries, legends, strict=True) for p in problems(expr, series, legend)
    } == set()


def test_the_dashboard_shows_what_the_issue_asks_for() -> None:
    text = " ".join(dashboard_queries())
    for needed in (
        "by (route) (rate(autogen_requests_total",  # QPS by route
        "autogen_request_duration_seconds_bucket",  # latency heatmap
        "autogen_requests_failed_total",  # error rate
        'autogen_agents_count{status="online"}',  # online agents
        "by (status) (muster_runs)",  # runs by state
        "muster_run_queue_depth",
        "muster_tokens_total",
        "muster_cost_usd_total",
        "muster_cache_hits_total",
    ):
        assert needed in text, needed
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    assert any(p["type"] == "heatmap" for p in panels)
    datasource = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    assert {p["datasource"]["uid"] for p in panels if "datasource" in p} == {datasource["uid"]}


@pytest.mark.parametrize(
    ("expr", "complaint"),
    [
        ("sum(rate(muster_model_failures_total[5m]))", "muster_model_failures_total is not exported"),
        ('sum(autogen_agents_count{state="offline"})', "autogen_agents_count has no label state"),
        ('sum(autogen_agents_count{status="gone"})', "never takes the value 'gone'"),
        ("sum by (agent) (rate(autogen_requests_total[5m]))", "by (agent): not a label of"),
    ],
)
def test_the_check_catches_a_wrong_name_or_label(expr: str, complaint: str) -> None:
    assert any(complaint in p for p in problems(expr, exported()))
