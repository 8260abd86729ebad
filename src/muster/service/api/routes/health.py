"""``/health`` (the process lives), ``/ready`` (it can serve: database, Redis, not draining), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ...exceptions import ServiceError
from ..auth import ServicesDep
from ..errors import problem

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: the database (and Redis) answer, and the server is not draining")
async def ready(services: ServicesDep) -> Response:
    if services.executor.draining:
        return problem(503, "Draining", "the server is shutting down")
    checks: dict[str, str] = {}
    try:
        await services.store.ping()
        checks["database"] = "ok"
    except ServiceError as exc:
        return problem(503, "Not ready", exc.detail, field="database")
    if services.settings.redis.url is not None:
        try:
            await services.notifier.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            return problem(503, "Not ready", f"Redis does not answer: {type(exc).__name__}", field="redis")
    return JSONResponse({"status": "ready", **checks})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=True)
async def metrics(services: ServicesDep) -> Response:
    if services.metrics is None:
        return problem(404, "Not found", "metrics are disabled (monitoring.enabled: false)")
    await services.metrics.refresh_from_store(
        services.store, stalled_after_seconds=services.settings.worker.stalled_after_seconds
    )
    online, offline, busy = await services.executor.worker_counts()
    services.metrics.set_agents(online=online, offline=offline, busy=busy)
    body, content_type = services.metrics.render()
    return Response(body, media_type=content_type)
