"""``create_app(settings)``: the FastAPI application, built per call (no module-level app state).

The lifespan opens what the app serves with, in order, and closes it in reverse:

1. the store (``SqlStore`` for ``database.url`` unless one is given; SQLite upgrades
   its schema on open, PostgreSQL needs ``muster db upgrade`` first);
2. the notifier (in-process, Redis pub/sub or PostgreSQL LISTEN/NOTIFY);
3. the API keys of ``security.api_keys`` / ``MUSTER_API_KEYS`` (stored hashed, once: a
   revoked one stays revoked);
4. the specs of ``--specs DIR`` (``NAME.yaml``, ``NAME.yml`` or ``NAME.json`` is spec
   NAME; each is checked by building it, a new version is stored when it changed);
5. the executor: ``LocalExecutor`` on SQLite (runs execute here, and runs a crashed
   server left behind resume now), ``JobExecutor`` on PostgreSQL (``muster worker``
   processes execute);
6. the memory monitor (``memory`` settings, or ``memory_monitor=``; ``memory.py``).

On shutdown the executor drains (``server.drain_seconds``) before anything closes. Every
request is logged and counted (``middleware.py``); ``/metrics`` serves the app's own
``ServiceMetrics`` registry (``monitoring.enabled``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from ..exceptions import InvalidSpecError
from ..execution import Executor, JobExecutor, LocalExecutor
from ..execution.base import worker_name
from ..execution.build import check_spec
from ..execution.recording import close_response_cache, make_response_cache
from ..memory import MemoryGuard
from ..metrics import ServiceMetrics, count_model_calls
from ..notify import Notifier, make_notifier
from ..operations import Services
from ..retention import RetentionTask
from ..settings import ServiceSettings
from ..store.base import Store
from ..store.keys import ensure_api_keys
from ..streaming import StreamLimiter
from ..tracing import ServiceTracing, TraceContextMiddleware
from .auth import require_api_key
from .errors import install_error_handlers
from .middleware import BodyLimitMiddleware, RequestObserver
from .routes import health, openai, runs, specs, threads, timeline

__all__ = ["create_app", "load_specs_dir"]

_SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def _read_spec(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    import yaml

    return yaml.safe_load(text)


async def load_specs_dir(store: Store, folder: Path) -> list[str]:
    """Store every spec of ``folder`` (checked first); returns their names.

    Raises:
        InvalidSpecError: a file does not parse or does not build (naming the file).
    """
    names: list[str] = []
    paths = await asyncio.to_thread(
        lambda: sorted(p for p in folder.iterdir() if p.suffix in _SPEC_SUFFIXES and p.is_file())
    )
    for path in paths:
        try:
            component = await asyncio.to_thread(_read_spec, path)
            if not isinstance(component, dict):
                raise InvalidSpecError("a spec file holds one component (a mapping)")
            await check_spec(component)
        except InvalidSpecError as exc:
            raise InvalidSpecError(f"{path}: {exc.detail}", field=exc.field) from None
        except Exception as exc:
            raise InvalidSpecError(f"{path}: {exc}") from None
        await store.put_spec(path.stem, component)
        names.append(path.stem)
    return names


def _default_store(settings: ServiceSettings) -> Store:
    from ..store.sql import SqlStore

    return SqlStore.from_settings(settings)


def _default_executor(
    settings: ServiceSettings,
    store: Store,
    notifier: Notifier,
    metrics: ServiceMetrics | None,
    cache: Any,
    tracing: ServiceTracing,
) -> Executor:
    if settings.database.is_postgres:
        return JobExecutor(store, settings)  # runs execute in workers, with their own cache
    return LocalExecutor(
        store, settings, notifier.publish, metrics=metrics, response_cache=cache, tracing=tracing
    )


def _metrics(settings: ServiceSettings) -> ServiceMetrics | None:
    return ServiceMetrics() if settings.monitoring.enabled else None


def create_app(
    settings: ServiceSettings,
    *,
    store: Store | None = None,
    executor: Executor | None = None,
    notifier: Notifier | None = None,
    memory_monitor: Any = None,
) -> FastAPI:
    """Build the API (see the module docstring); pass ``store``/``executor``/``notifier`` to override.

    The lifespan opens and closes whatever store it serves with, given or built.
    """

    metrics = _metrics(settings)
    tracing = ServiceTracing(settings.tracing, instance=worker_name("serve"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tracing.start()  # first: a tracing misconfiguration stops the start before anything opens
        uncount = count_model_calls(metrics) if metrics is not None else None
        response_cache = None if settings.database.is_postgres else make_response_cache(settings)
        the_store = store if store is not None else _default_store(settings)
        await the_store.open()
        the_notifier = notifier if notifier is not None else make_notifier(settings)
        await the_notifier.start()
        try:
            guard = MemoryGuard.for_service(
                settings, monitor=memory_monitor, metrics=metrics, caches=[response_cache]
            )
            await ensure_api_keys(the_store, settings)
            if settings.specs_dir is not None:
                await load_specs_dir(the_store, settings.specs_dir)
            the_executor = (
                executor
                if executor is not None
                else _default_executor(settings, the_store, the_notifier, metrics, response_cache, tracing)
            )
            app.state.muster = Services(
                settings=settings,
                store=the_store,
                executor=the_executor,
                notifier=the_notifier,
                streams=StreamLimiter(settings.security.max_sse_connections),
                memory=guard.monitor if guard is not None else memory_monitor,
                metrics=metrics,
            )
            await the_executor.start()
            retention = RetentionTask(the_store, settings.database)
            retention.start()
            app.state.muster_retention = retention
            if guard is not None:
                guard.start()
            try:
                yield
            finally:
                if guard is not None:
                    await guard.stop()
                await retention.stop()
                await the_executor.stop(settings.server.drain_seconds)
        finally:
            await the_notifier.close()
            await the_store.close()
            await close_response_cache(response_cache)
            tracing.shutdown()
            if uncount is not None:
                uncount()

    app = FastAPI(
        title="muster",
        description="Durable multi-agent runs over HTTP: specs, threads, runs, resumable event streams.",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    authorised = [Depends(require_api_key)]
    for module in (specs, threads, runs, timeline, openai):
        app.include_router(module.router, dependencies=authorised)
    app.include_router(health.router)
    if settings.security.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.security.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            expose_headers=["Location", "Content-Location", "Retry-After"],
        )
    app.add_middleware(BodyLimitMiddleware, limit=settings.security.max_body_bytes)
    app.add_middleware(RequestObserver, metrics=metrics)  # sees every answer, 413s too
    app.add_middleware(TraceContextMiddleware, tracing=tracing)  # outermost: access lines inside the span
    return app
