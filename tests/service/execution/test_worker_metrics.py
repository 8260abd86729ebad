"""A worker's metrics endpoint (``monitoring.metrics_port``) listens where the settings say.

Regression (found by the deployment drill): it listened on every interface (prometheus
client's default ``0.0.0.0``) whatever ``server.host`` said, so a worker on a laptop
exposed its metrics to the network, and its server was never shut down.
"""

from __future__ import annotations

import httpx
import pytest
from deploy.drill.processes import free_port

from muster.service.execution.worker import _serve_metrics
from muster.service.settings import load_settings


def _free_port() -> int:
    return free_port()


def test_worker_metrics_listen_on_server_host_only_and_stop() -> None:
    port = _free_port()
    settings = load_settings(
        env={"MUSTER_SERVER__HOST": "127.0.0.2", "MUSTER_MONITORING__METRICS_PORT": str(port)}
    )
    metrics, stop = _serve_metrics(settings)
    try:
        answer = httpx.get(f"http://127.0.0.2:{port}/metrics", timeout=5)
        assert answer.status_code == 200 and "autogen_agents_count" in answer.text
        with pytest.raises(httpx.ConnectError):  # 127.0.0.1 is another address: nothing listens there
            httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    finally:
        stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.2:{port}/metrics", timeout=5)


def test_no_metrics_port_serves_nothing() -> None:
    assert _serve_metrics(load_settings(env={})) == (None, None)
