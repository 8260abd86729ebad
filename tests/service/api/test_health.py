"""``/health``, ``/ready``, ``/docs``, ``/openapi.json``, CORS."""

from __future__ import annotations

from typing import Any

import httpx
from api_kit import Api, make_settings, running_api


async def test_health_and_ready(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.url) as anonymous:
        assert (await anonymous.get("/health")).json() == {"status": "ok"}
        ready = await anonymous.get("/ready")
        assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_ready_is_503_while_draining(api: Api) -> None:
    await api.app.state.muster.executor.stop(0)
    async with httpx.AsyncClient(base_url=api.url) as anonymous:
        response = await anonymous.get("/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    refused = await api.client.post(f"/v1/threads/{await api.thread()}/runs", json={"spec": "x"})
    assert refused.status_code == 503


async def test_ready_checks_redis_when_configured(database: Any) -> None:
    settings = make_settings(database, redis={"url": "redis://127.0.0.1:6379/0"})
    async with running_api(settings, database) as api:
        ready = await api.client.get("/ready")
        assert ready.status_code == 200 and ready.json()["redis"] == "ok"


async def test_openapi_documents_every_route(api: Api) -> None:
    doc = (await api.client.get("/openapi.json")).json()
    for path in [
        "/v1/specs",
        "/v1/specs/{name}",
        "/v1/threads",
        "/v1/threads/{thread_id}",
        "/v1/threads/{thread_id}/messages",
        "/v1/threads/{thread_id}/runs",
        "/v1/threads/{thread_id}/runs/stream",
        "/v1/threads/{thread_id}/runs/wait",
        "/v1/runs/{run_id}",
        "/v1/runs/{run_id}/events",
        "/v1/runs/{run_id}/cancel",
        "/v1/chat/completions",
        "/health",
        "/ready",
        "/metrics",
    ]:
        assert path in doc["paths"], path
    assert (await api.client.get("/docs")).status_code == 200


async def test_cors_is_off_unless_configured(database: Any) -> None:
    preflight = {"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"}
    async with running_api(make_settings(database), database) as api:
        response = await api.client.options("/v1/threads", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    settings = make_settings(database, security={"cors_origins": ["https://ui.example"]})
    async with running_api(settings, database) as api:
        response = await api.client.options("/v1/threads", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://ui.example"
