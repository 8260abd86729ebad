"""The service's two long-running processes: ``muster serve`` and ``muster worker``.

``serve`` runs the API on uvicorn (``server.workers`` processes on PostgreSQL; one on
SQLite, where the serving process also executes the runs). ``worker`` runs PgQueuer's
queue manager executing runs (PostgreSQL only). Both stop on SIGTERM after draining within
``server.drain_seconds``: uvicorn closes the listening socket and ends the event streams,
then the app's lifespan drains its executor; the worker finishes its runs or gives them
back from their last checkpoints.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from .exceptions import InvalidRequestError
from .settings import ServiceSettings, load_settings

__all__ = ["app_from_environment", "serve", "work"]


def _check_serve(settings: ServiceSettings) -> None:
    if not settings.database.is_postgres and settings.server.workers > 1:
        # Each process would execute runs from the same SQLite file: one must.
        raise InvalidRequestError(
            "on SQLite the serving process executes the runs: server.workers must be 1",
            field="server.workers",
        )


def app_from_environment() -> Any:
    """The app of one uvicorn worker process (``server.workers`` > 1): settings from the environment."""
    from .api import create_app
    from .logs import configure_logging

    settings = load_settings()
    configure_logging(settings.logging)
    return create_app(settings)


def serve(settings: ServiceSettings) -> int:
    """Run the API until SIGTERM/SIGINT; returns the exit code.

    Raises:
        InvalidRequestError: the settings cannot be served (checked before anything starts).
    """
    import uvicorn

    from .logs import configure_logging

    _check_serve(settings)
    configure_logging(settings.logging)
    common: dict[str, Any] = {
        "host": settings.server.host,
        "port": settings.server.port,
        "log_config": None,  # the service's logging (JSON lines) is configured by the CLI
        "timeout_graceful_shutdown": settings.server.drain_seconds,
        "access_log": False,  # one request log line comes from the app's middleware
    }
    if settings.server.workers > 1:
        # Each worker process builds its own app from the environment, so the CLI's
        # options travel there as environment variables.
        os.environ["MUSTER_SERVER__HOST"] = settings.server.host
        os.environ["MUSTER_SERVER__PORT"] = str(settings.server.port)
        if settings.specs_dir is not None:
            os.environ["MUSTER_SPECS_DIR"] = str(settings.specs_dir)
        uvicorn.run(
            "muster.service.processes:app_from_environment",
            factory=True,
            workers=settings.server.workers,
            **common,
        )
        return 0
    from .api import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings), **common))
    server.run()
    return 0


def work(settings: ServiceSettings) -> int:
    """Run ``muster worker`` until SIGTERM/SIGINT; returns the exit code.

    Raises:
        InvalidRequestError: the database is not PostgreSQL (checked before anything starts).
    """
    if not settings.database.is_postgres:
        raise InvalidRequestError(
            "workers execute runs from PostgreSQL; on SQLite `muster serve` executes them itself",
            field="database.url",
        )
    from .execution.worker import run_worker
    from .logs import configure_logging
    from .store.sql import SqlStore

    configure_logging(settings.logging)

    async def main() -> None:
        store = SqlStore.from_settings(settings)
        await store.open()
        try:
            await run_worker(settings, store)
        finally:
            await store.close()

    with asyncio.Runner(loop_factory=fast_loop_factory()) as runner:
        runner.run(main())
    return 0


def fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (the ``server`` extra has it), else asyncio's.

    uvicorn picks uvloop by itself (``loop="auto"``); the worker asks for it here. It cuts
    the event loop's own share of every database round trip and HTTP request.
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
