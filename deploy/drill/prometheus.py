"""Prometheus for the drill: its configuration, the shortened copy of the alert rules, its HTTP API.

The rules the drill loads are derived, at drill time, from the file a deployment loads
(``deploy/prometheus/rules/muster.rules.yml``): the same groups, alerts and expressions,
with every ``for:`` and ``keep_firing_for:`` (and a group's ``interval:``) divided by
:data:`SPEEDUP` and capped at :data:`MAX_FOR_SECONDS`, so an alert that would wait a
minute in production fires within seconds. There is never a hand-kept second copy: a
changed or added rule is in the next drill. The scrape jobs are the deployment's names
(``muster-api``: each API replica's ``/metrics``; ``muster-worker``: each worker's
``monitoring.metrics_port``), with loopback targets and a one-second interval.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

__all__ = [
    "MAX_FOR_SECONDS",
    "SPEEDUP",
    "AlertLog",
    "AlertWatch",
    "PrometheusApi",
    "parse_duration",
    "scrape_config",
    "shorten_rules",
]

SPEEDUP = 30
"""Production durations are divided by this in the drill (1m -> 2s, 5m -> 10s)."""
MAX_FOR_SECONDS = 10
"""No drill ``for:`` is longer than this, whatever production says."""

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration (``90s``, ``1m30s``, ``500ms``).

    Raises:
        ValueError: not a Prometheus duration.
    """
    text = str(text).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def _shorten(text: str) -> str:
    seconds = parse_duration(text)
    if seconds == 0:
        return "0s"
    return f"{min(MAX_FOR_SECONDS, max(1, math.ceil(seconds / SPEEDUP)))}s"


def shorten_rules(source: Path) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The rules of ``source`` with their waits shortened, and ``{alert: (production for, drill for)}``.

    Raises:
        ValueError: the file has no ``groups`` list.
    """
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        raise ValueError(f"{source}: no `groups` list")
    changed: dict[str, tuple[str, str]] = {}
    for group in document["groups"]:
        if "interval" in group:
            group["interval"] = _shorten(group["interval"])
        for rule in group.get("rules", []):
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    original = str(rule[key])
                    rule[key] = _shorten(original)
                    if key == "for" and "alert" in rule:
                        changed[rule["alert"]] = (original, rule[key])
    return document, changed


def scrape_config(api_targets: list[str], worker_targets: list[str], rule_file: Path) -> dict[str, Any]:
    """``prometheus.yml`` for the drill: the deployment's two jobs on loopback, scraped every second."""
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rule_file)],
        "scrape_configs": [
            {"job_name": "muster-api", "static_configs": [{"targets": api_targets}]},
            {"job_name": "muster-worker", "static_configs": [{"targets": worker_targets}]},
        ],
    }


@dataclass
class AlertLog:
    """What the drill saw of one alert on one instance: when it fired, when it went quiet again."""

    name: str
    instance: str
    fired_at: float | None = None
    cleared_at: float | None = None

    @property
    def key(self) -> str:
        return f"{self.name}{{{self.instance}}}" if self.instance else self.name


class PrometheusApi:
    """The few calls of Prometheus's HTTP API the drill makes."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def _get(self, client: httpx.AsyncClient, path: str, **params: str) -> Any:
        response = await client.get(f"{self.base_url}{path}", params=params, timeout=5)
        response.raise_for_status()
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path}: {body}")
        return body["data"]

    async def alerts(self, client: httpx.AsyncClient) -> list[dict[str, Any]]:
        """Active alerts (``state`` pending or firing) from ``/api/v1/alerts``."""
        data = await self._get(client, "/api/v1/alerts")
        return list(data["alerts"])

    async def firing(self, client: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
        """The firing alerts called ``name``."""
        return [
            a
            for a in await self.alerts(client)
            if a["labels"].get("alertname") == name and a["state"] == "firing"
        ]

    async def query(self, client: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
        """An instant query's vector (``/api/v1/query``)."""
        data = await self._get(client, "/api/v1/query", query=expr)
        return list(data["result"])

    async def rule_names(self, client: httpx.AsyncClient) -> list[str]:
        """The alerting rules Prometheus loaded (``/api/v1/rules``)."""
        data = await self._get(client, "/api/v1/rules", type="alert")
        return [rule["name"] for group in data["groups"] for rule in group["rules"]]

    async def targets_up(self, client: httpx.AsyncClient) -> dict[str, str]:
        """``{job/instance: health}`` of the active targets."""
        data = await self._get(client, "/api/v1/targets", state="active")
        return {f"{t['labels']['job']}/{t['labels']['instance']}": t["health"] for t in data["activeTargets"]}


class AlertWatch:
    """Polls ``/api/v1/alerts`` twice a second; remembers each (alert, instance) it saw firing.

    An alert without an ``instance`` label (an aggregate such as ``MusterAgentsOffline``) is
    kept under the instance ``""``. ``cleared_at`` is when a fired alert was first seen
    neither firing nor pending again.
    """

    def __init__(self, prometheus: PrometheusApi, now: Callable[[], float]) -> None:
        self.prometheus = prometheus
        self.now = now
        self.seen: dict[tuple[str, str], AlertLog] = {}
        self.active: dict[tuple[str, str], str] = {}

    async def run(self, client: httpx.AsyncClient) -> None:
        while True:
            try:
                alerts = await self.prometheus.alerts(client)
            except (httpx.HTTPError, RuntimeError):
                alerts = None
            if alerts is not None:
                self._update(alerts)
            await asyncio.sleep(0.5)

    def _update(self, alerts: list[dict[str, Any]]) -> None:
        states: dict[tuple[str, str], str] = {}
        for alert in alerts:
            key = (alert["labels"]["alertname"], alert["labels"].get("instance", ""))
            states[key] = alert["state"]
            if alert["state"] == "firing":
                log = self.seen.setdefault(key, AlertLog(*key))
                if log.fired_at is None:
                    log.fired_at = self.now()
                log.cleared_at = None
        self.active = states
        for key, log in self.seen.items():
            if key not in states and log.cleared_at is None:
                log.cleared_at = self.now()

    def firing(self, name: str, instance: str = "") -> bool:
        """Whether ``name`` fires now on ``instance``."""
        return self.active.get((name, instance)) == "firing"

    def quiet(self, name: str, instance: str = "") -> bool:
        """Whether ``name`` is neither firing nor pending on ``instance``."""
        return (name, instance) not in self.active
