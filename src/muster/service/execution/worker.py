"""``muster worker``: procrastinate's worker executing runs, and the takeover of dead workers' runs.

See ``jobs.py`` for the design. This module is the worker process: :func:`run_worker`
opens the store, the notifier and the procrastinate app, then runs procrastinate's worker
(``App.run_worker_async``, which handles SIGTERM/SIGINT itself) beside the loop that takes
stalled jobs over and re-defers runs that lost their job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from ..models import RunStatus
from ..notify import Notifier, make_notifier
from ..settings import ServiceSettings
from ..store.base import Store
from ._procrastinate import TASK_NAME, JobApp, RunReleased
from .base import worker_name
from .recording import close_response_cache, make_response_cache
from .runner import RunRunner

__all__ = ["JobHandler", "run_worker"]

logger = logging.getLogger("muster.service.worker")

_RECONCILE_SECONDS = 60.0
_ERROR_RETRY_SECONDS = 5.0


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
    ) -> None:
        self.response_cache = response_cache
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

        runner = RunRunner(
            self.store,
            run_id,
            worker=self.name,
            agents=self.settings.agents,
            notify=self.notifier.publish,
            heartbeat_seconds=self.settings.worker.heartbeat_seconds,
            metrics=self.metrics,
            response_cache=self.response_cache,
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


async def requeue_orphans(jobs: JobApp, store: Store) -> int:
    """Defer a job for every pending run that has none (its defer failed); returns how many."""
    count = 0
    for run in await store.pending_runs():
        existing = await jobs.app.job_manager.list_jobs_async(task=TASK_NAME, queueing_lock=run.id)
        if any(job.status in ("todo", "doing") for job in existing):
            continue
        await jobs.defer(run)
        count += 1
    return count


async def _maintain(jobs: JobApp, store: Store, settings: ServiceSettings) -> None:
    last_reconcile = time.monotonic()
    while True:
        await asyncio.sleep(settings.worker.poll_seconds)
        try:
            await take_over_stalled(jobs, store, settings)
            if time.monotonic() - last_reconcile >= _RECONCILE_SECONDS:
                last_reconcile = time.monotonic()
                await requeue_orphans(jobs, store)
        except Exception:
            logger.warning("stalled-job check failed; trying again", exc_info=True)


async def run_worker(
    settings: ServiceSettings, store: Store, *, install_signal_handlers: bool = True
) -> None:
    """Execute runs until SIGTERM/SIGINT (the store is opened and closed by the caller)."""
    notifier = make_notifier(settings)
    await notifier.start()
    jobs = JobApp(settings)
    name = worker_name("worker")
    metrics, uncount = _serve_metrics(settings)
    cache = make_response_cache(settings)
    jobs.set_handler(JobHandler(store, settings, notifier, name, metrics, cache))
    await jobs.open()
    maintenance: asyncio.Task[None] | None = None
    try:
        await requeue_orphans(jobs, store)
        maintenance = asyncio.create_task(_maintain(jobs, store, settings), name="muster worker maintenance")
        logger.info("worker %s started", name)
        procrastinate = asyncio.create_task(
            jobs.app.run_worker_async(
                queues=[settings.worker.queue],
                name=name,
                concurrency=settings.agents.max_concurrent,
                fetch_job_polling_interval=settings.worker.poll_seconds,
                abort_job_polling_interval=settings.worker.poll_seconds,
                shutdown_graceful_timeout=settings.server.drain_seconds,
                update_heartbeat_interval=settings.worker.heartbeat_seconds,
                stalled_worker_timeout=settings.worker.stalled_after_seconds,
                install_signal_handlers=install_signal_handlers,
                delete_jobs="successful",
            ),
            name="procrastinate worker",
        )
        try:
            await asyncio.shield(procrastinate)
        except asyncio.CancelledError:
            await _cancel_until_done(procrastinate)
            raise
    finally:
        if maintenance is not None:
            maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await maintenance
        await jobs.close()
        await notifier.close()
        await close_response_cache(cache)
        if uncount is not None:
            uncount()
        logger.info("worker %s stopped", name)


async def _cancel_until_done(task: asyncio.Task[None]) -> None:
    """Cancel procrastinate's worker, again if needed, until it has stopped.

    Cancelling ``run_worker_async`` is how procrastinate stops a worker run in a bigger
    program (it then drains gracefully), but a cancellation that lands while the worker is
    still registering itself can be swallowed by the database driver, leaving the worker
    running: so it is repeated until the task ends.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=1.0)


def _serve_metrics(settings: ServiceSettings) -> tuple[Any, Any]:
    """The worker's metrics on ``monitoring.metrics_port`` (a worker has no API to serve them on)."""
    if not settings.monitoring.enabled or settings.monitoring.metrics_port is None:
        return None, None
    from prometheus_client import start_http_server

    from ..metrics import ServiceMetrics, count_model_calls

    metrics = ServiceMetrics()
    start_http_server(settings.monitoring.metrics_port, registry=metrics.registry)
    return metrics, count_model_calls(metrics)
