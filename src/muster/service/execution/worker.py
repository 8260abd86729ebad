"""``muster worker``: procrastinate's worker executing runs, and the takeover of dead workers' runs.

See ``jobs.py`` for the design. This module is the worker process: :func:`run_worker`
opens the notifier and the procrastinate app, then runs procrastinate's ``Worker`` (the
machinery of ``App.run_worker_async``, held directly so it can be stopped gracefully and
started again after a database outage) beside the loop that takes stalled jobs over and
re-defers runs that lost their job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..memory import MemoryGuard
from ..models import RunStatus
from ..notify import Notifier, make_notifier
from ..settings import ServiceSettings
from ..store.base import Store
from ..tracing import ServiceTracing
from ._procrastinate import TASK_NAME, JobApp, RunReleased
from .base import worker_name
from .recording import close_response_cache, make_response_cache
from .runner import RunRunner

__all__ = ["JobHandler", "run_worker"]

logger = logging.getLogger("muster.service.worker")

_RECONCILE_SECONDS = 60.0
_ERROR_RETRY_SECONDS = 5.0
_MEMORY_RETRY_SECONDS = 5.0


class JobHandler:
    """What a ``muster.run`` job does in a worker: execute its run with a :class:`RunRunner`."""

    def __init__(
        self,
        store: Store,
        settings: ServiceSettings,
        notifier: Notifier,
        name: str,
        metrics: Any = None,
        response_cache: Any = None,
        tracing: ServiceTracing | None = None,
        memory: Any = None,
    ) -> None:
        self.response_cache = response_cache
        self.tracing = tracing
        self.memory = memory
        self.store = store
        self.settings = settings
        self.notifier = notifier
        self.name = name
        self.metrics = metrics

    async def __call__(self, context: Any, run_id: str) -> None:
        """Execute the run; turn an abort into a stop of the run, a drain into a retry.

        Raises:
            RunReleased: the run was given back (drain, or the service failed under it):
                procrastinate re-queues the job and a worker resumes the run.
        """
        from procrastinate.job_context import AbortReason

        if self.memory is not None and self.memory.backpressure:
            # Memory is critical here: the job goes back to the queue, unclaimed, for a worker with room.
            raise RunReleased(run_id, _MEMORY_RETRY_SECONDS)
        runner = RunRunner(
            self.store,
            run_id,
            worker=self.name,
            agents=self.settings.agents,
            # The store notifies inside its writes when it can (``notify_channel``).
            notify=None if getattr(self.store, "notify_channel", None) else self.notifier.publish,
            heartbeat_seconds=self.settings.worker.heartbeat_seconds,
            metrics=self.metrics,
            response_cache=self.response_cache,
            tracing=self.tracing,
        )
        execution = asyncio.create_task(runner.execute(), name=f"run {run_id}")
        try:
            await asyncio.shield(execution)
        except asyncio.CancelledError:
            # procrastinate cancels a job's task to abort it: stop the run cleanly instead.
            if context.abort_reason() == AbortReason.SHUTDOWN:
                runner.request_stop("release")
            else:
                await runner.check_stop()
                runner.request_stop("cancel")  # an abort the store knows nothing of is a cancel
            with contextlib.suppress(Exception):
                await execution
        except Exception:
            logger.exception("run %s stopped on an error of the service; retrying it", run_id)
            with contextlib.suppress(Exception):
                await self.store.release_run(run_id, self.name)
            raise RunReleased(run_id, _ERROR_RETRY_SECONDS) from None
        if runner.stop_reason == "release":
            raise RunReleased(run_id)


async def take_over_stalled(jobs: JobApp, store: Store, settings: ServiceSettings) -> int:
    """Give the runs of dead workers' jobs back, and re-queue the jobs; returns how many."""
    manager = jobs.app.job_manager
    stalled = await manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.worker.stalled_after_seconds,
        queue=settings.worker.queue,
        task_name=TASK_NAME,
    )
    taken = 0
    for job in stalled:
        run_id = job.task_kwargs.get("run_id")
        try:
            if isinstance(run_id, str):
                run = await store.get_run(run_id)
                if run.status is RunStatus.RUNNING and run.worker is not None:
                    await store.release_run(run.id, run.worker)
            await manager.retry_job(job)
            taken += 1
            logger.info("took over run %s from a dead worker (job %s)", run_id, job.id)
        except Exception as exc:  # another live worker may have taken it first
            logger.debug("could not take over job %s: %s", job.id, exc)
    return taken


async def take_over_stale_runs(jobs: JobApp, store: Store, settings: ServiceSettings) -> int:
    """Give back runs nobody heartbeats any more, and queue them again; returns how many.

    The complement of :func:`take_over_stalled` for a live worker: a job whose run met a
    database outage cannot record its end or its retry while the database is down, and
    stays ``doing`` under a worker whose own heartbeat comes back. Its run's heartbeat in
    the store does not: once it is ``worker.stalled_after_seconds`` old, the run goes back to
    ``pending`` and its job to ``todo`` (or a new job is deferred), and a worker resumes it.
    """
    older_than = datetime.now(UTC) - timedelta(seconds=settings.worker.stalled_after_seconds)
    manager = jobs.app.job_manager
    count = 0
    for run in await store.stale_runs(older_than):
        if run.worker is None or not await store.release_run(run.id, run.worker):
            continue
        queued = False
        for job in await manager.list_jobs_async(task=TASK_NAME, queueing_lock=run.id):
            if job.status == "doing":
                with contextlib.suppress(Exception):  # a worker may have finished it meanwhile
                    await manager.retry_job(job)
                    queued = True
            elif job.status == "todo":
                queued = True
        if not queued:
            await jobs.defer(None, run)
        count += 1
        logger.info(
            "run %s had no heartbeat for %g s: queued again", run.id, settings.worker.stalled_after_seconds
        )
    return count


async def requeue_orphans(jobs: JobApp, store: Store) -> int:
    """Defer a job for every pending run that has none (its defer failed); returns how many."""
    count = 0
    for run in await store.pending_runs():
        existing = await jobs.app.job_manager.list_jobs_async(task=TASK_NAME, queueing_lock=run.id)
        if any(job.status in ("todo", "doing") for job in existing):
            continue
        await jobs.defer(None, run)
        count += 1
    return count


async def _maintain(jobs: JobApp, store: Store, settings: ServiceSettings) -> None:
    last_reconcile = time.monotonic() - _RECONCILE_SECONDS  # the first pass re-defers at once
    me = asyncio.current_task()
    while True:
        await asyncio.sleep(settings.worker.poll_seconds)
        try:
            await take_over_stalled(jobs, store, settings)
            await take_over_stale_runs(jobs, store, settings)
            if time.monotonic() - last_reconcile >= _RECONCILE_SECONDS:
                last_reconcile = time.monotonic()
                await requeue_orphans(jobs, store)
        except Exception:
            logger.warning("stalled-job check failed; trying again", exc_info=True)
        if me is not None and me.cancelling():
            # Asked to stop while a database call was under way, and that call swallowed
            # the cancellation (seen under load in a connection pool): stop now rather
            # than loop on, a worker that never finishes stopping.
            raise asyncio.CancelledError


async def run_worker(
    settings: ServiceSettings,
    store: Store,
    *,
    install_signal_handlers: bool = True,
    stop: asyncio.Event | None = None,
    memory_monitor: Any = None,
) -> None:
    """Execute runs until SIGTERM/SIGINT or ``stop`` is set (the store is the caller's to open and close).

    ``memory_monitor``: a ``muster.ops.MemoryMonitor`` to use instead of the one ``memory``
    settings build (at critical, new jobs go back to the queue unclaimed).

    Procrastinate's :class:`~procrastinate.worker.Worker` runs inside a loop: when it stops
    without being asked to (one of its side tasks failed: the database went away), the
    loop waits for the database and starts a new one, and the runs the old one held are
    taken over once its heartbeat lapses, like a dead worker's. SIGTERM (or ``stop``) asks
    the worker to stop: it drains within ``server.drain_seconds`` (see ``JobHandler``).
    """
    stopping = stop if stop is not None else asyncio.Event()
    name = worker_name("worker")
    tracing = ServiceTracing(settings.tracing, instance=name)
    tracing.start()  # first: a tracing misconfiguration stops the worker before it opens anything
    notifier = make_notifier(settings)
    await notifier.start()
    _notify_in_writes(store, notifier)
    jobs = JobApp(settings)
    metrics, stop_metrics = _serve_metrics(settings)
    cache = make_response_cache(settings)
    guard = MemoryGuard.for_service(settings, monitor=memory_monitor, metrics=metrics, caches=[cache])
    jobs.set_handler(JobHandler(store, settings, notifier, name, metrics, cache, tracing, guard))
    loop = asyncio.get_running_loop()
    if install_signal_handlers:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
    tasks: list[asyncio.Task[None]] = []
    try:
        await _until_database(jobs.open, stopping)
        if guard is not None:
            guard.start()
        tasks.append(asyncio.create_task(_maintain(jobs, store, settings), name="muster worker maintenance"))
        current: list[Any] = []
        tasks.append(asyncio.create_task(_stop_when(stopping, current), name="muster worker stop"))
        logger.info("worker %s started", name)
        while not stopping.is_set():
            worker = _procrastinate_worker(jobs, settings, name)
            current[:] = [worker]
            try:
                await worker.run()
            except Exception:
                logger.warning("the job worker stopped on an error", exc_info=True)
            if not stopping.is_set():
                logger.warning("the job worker stopped unasked (database lost?); starting a new one")
                await _until_database(lambda: _ping(jobs), stopping)
    finally:
        if install_signal_handlers:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if guard is not None:
            await guard.stop()
        await jobs.close()
        await notifier.close()
        await close_response_cache(cache)
        tracing.shutdown()
        if stop_metrics is not None:
            stop_metrics()
        logger.info("worker %s stopped", name)


def _notify_in_writes(store: Store, notifier: Notifier) -> None:
    """Let the store send the runs' notifications inside its writes (PostgreSQL ``NOTIFY``).

    Sent in the write's own transaction, a notification costs no round trip of its own
    and is delivered exactly when the write commits. Only when the notifier is
    ``LISTEN``/``NOTIFY`` on the store's own database (no Redis configured).
    """
    from ..notify.postgres import PostgresNotifier
    from ..store.sql import SqlStore

    if (
        isinstance(notifier, PostgresNotifier)
        and isinstance(store, SqlStore)
        and store.backend == "postgresql"
    ):
        store.notify_channel = notifier.channel


def _procrastinate_worker(jobs: JobApp, settings: ServiceSettings, name: str) -> Any:
    from procrastinate.worker import Worker

    return Worker(
        app=jobs.app,
        queues=[settings.worker.queue],
        name=name,
        concurrency=settings.agents.max_concurrent,
        fetch_job_polling_interval=settings.worker.poll_seconds,
        abort_job_polling_interval=settings.worker.poll_seconds,
        shutdown_graceful_timeout=settings.server.drain_seconds,
        update_heartbeat_interval=settings.worker.heartbeat_seconds,
        stalled_worker_timeout=settings.worker.stalled_after_seconds,
        install_signal_handlers=False,  # ours set `stopping`, which stops every worker the loop starts
        delete_jobs="successful",
    )


async def _stop_when(stopping: asyncio.Event, current: list[Any]) -> None:
    """Once ``stopping`` is set, ask the current procrastinate worker to stop (graceful drain).

    Asked again every half second: a worker that was just starting clears a stop request
    made before its ``run()`` began, so one request might be lost (``stop()`` is idempotent).
    """
    await stopping.wait()
    while True:
        for worker in current:
            worker.stop()
        await asyncio.sleep(0.5)


async def _ping(jobs: JobApp) -> None:
    if not await jobs.app.check_connection_async():
        raise RuntimeError("procrastinate's tables are missing")


async def _until_database(attempt: Callable[[], Awaitable[None]], stopping: asyncio.Event) -> None:
    """Retry ``attempt`` with a capped backoff until it succeeds or the worker is stopping."""
    delay = 0.2
    while not stopping.is_set():
        try:
            await attempt()
            return
        except Exception as exc:
            logger.warning("waiting for the database: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
        delay = min(delay * 2, 5.0)


def _serve_metrics(settings: ServiceSettings) -> tuple[Any, Any]:
    """The worker's metrics on ``monitoring.metrics_port`` (a worker has no API to serve them on).

    They listen on ``server.host``, as the API would: the default (127.0.0.1) keeps a worker
    run on a laptop unreachable from the network, and a container sets ``0.0.0.0`` for both.
    Returns the metrics and the function that stops counting and serving them.
    """
    if not settings.monitoring.enabled or settings.monitoring.metrics_port is None:
        return None, None
    from prometheus_client import start_http_server

    from ..metrics import ServiceMetrics, count_model_calls

    metrics = ServiceMetrics()
    server, _ = start_http_server(
        settings.monitoring.metrics_port, addr=settings.server.host, registry=metrics.registry
    )
    uncount = count_model_calls(metrics)

    def stop() -> None:
        uncount()
        server.shutdown()
        server.server_close()

    return metrics, stop
