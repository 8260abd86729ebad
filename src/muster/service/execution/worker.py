"""``muster worker``: PgQueuer's queue manager executing runs, and the upkeep of runs nobody holds.

See ``jobs.py`` for the design. This module is the worker process: :func:`run_worker`
opens the notifier and the queue, then runs PgQueuer's ``QueueManager`` (in a loop that
starts a new one after a database outage) beside the upkeep loop, which beats the
worker's heartbeat in the store, gives back runs whose heartbeat lapsed and queues each
thread's next run that lost its job.
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
from ._pgqueuer import JobQueue
from .base import worker_name
from .recording import close_response_cache, make_response_cache
from .runner import RunRunner

__all__ = ["JobHandler", "run_worker"]

logger = logging.getLogger("muster.service.worker")

_RECONCILE_SECONDS = 60.0
_ERROR_RETRY_SECONDS = 5.0
_MEMORY_RETRY_SECONDS = 5.0
_BATCH = 10
"""Jobs a worker takes from the queue at a time, at most (fewer when ``max_concurrent`` is small)."""


class JobHandler:
    """What a run's job does in a worker: execute its run with a :class:`RunRunner`, then queue the thread's next."""

    def __init__(
        self,
        store: Store,
        settings: ServiceSettings,
        notifier: Notifier,
        name: str,
        jobs: JobQueue,
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
        self.jobs = jobs
        self.metrics = metrics
        self.draining = False
        self.runners: dict[str, RunRunner] = {}
        # PgQueuer takes at least two jobs at a time; with ``max_concurrent`` 1 the second
        # waits here, its run still pending (the queue limit counts it), until the first ends.
        self._slots = asyncio.Semaphore(settings.agents.max_concurrent)
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, job: Any, context: Any) -> None:
        """Execute the job's run; a cancellation stops the run, a drain gives it back.

        Raises:
            RetryRequested: the run was given back (drain, memory, or the service failed
                under it), or an earlier run of its thread still holds it back: PgQueuer
                queues the job again and a worker resumes the run.
        """
        async with self._slots:
            await self._execute(bytes(job.payload).decode(), context)

    async def _execute(self, run_id: str, context: Any) -> None:
        from pgqueuer import RetryRequested

        if self.draining:
            raise RetryRequested(timedelta(0), "this worker is draining")
        if self.memory is not None and self.memory.backpressure:
            # Memory is critical here: the job goes back to the queue, unclaimed, for a worker with room.
            raise RetryRequested(timedelta(seconds=_MEMORY_RETRY_SECONDS), "memory is critical here")
        runner = RunRunner(
            self.store,
            run_id,
            worker=self.name,
            agents=self.settings.agents,
            # The store notifies inside its writes when it can (``notify_channel``).
            notify=None if getattr(self.store, "notify_channel", None) else self.notifier.publish,
            heartbeat_seconds=self.settings.worker.heartbeat_seconds,
            takeover_after=self.settings.worker.stalled_after_seconds,
            metrics=self.metrics,
            response_cache=self.response_cache,
            tracing=self.tracing,
        )
        self.runners[run_id] = runner
        self._idle.clear()
        execution = asyncio.create_task(runner.execute(), name=f"run {run_id}")
        try:
            with context.cancellation:  # PgQueuer cancels it when the API stops the run
                await asyncio.shield(execution)
            if not execution.done():
                await runner.check_stop()
                runner.request_stop("cancel")  # a cancel the store knows nothing of is a cancel
                await asyncio.wait([execution])
            ended = execution.result()
        except Exception:
            logger.exception("run %s stopped on an error of the service; retrying it", run_id)
            with contextlib.suppress(Exception):
                await self.store.release_run(run_id, self.name)
            raise RetryRequested(timedelta(seconds=_ERROR_RETRY_SECONDS), "the service failed") from None
        finally:
            del self.runners[run_id]
            if not self.runners:
                self._idle.set()
        if runner.stop_reason == "release":
            raise RetryRequested(timedelta(0), "given back")
        if ended is not None and getattr(self.store, "job_entrypoint", None) is not None:
            return  # the run's end queued its thread's next run (``SqlStore.job_entrypoint``)
        thread_id = ended.thread_id if ended is not None else None
        if ended is None:  # not claimed, or lost: why decides what becomes of the job
            run = await self.store.get_run(run_id)
            if run.status is RunStatus.PENDING:  # an earlier run of its thread is still on
                raise RetryRequested(timedelta(seconds=self.settings.worker.poll_seconds), "waits its turn")
            if run.status is RunStatus.RUNNING:  # a live worker has it
                return
            thread_id = run.thread_id
        async with self.jobs.connection() as conn:  # the run is done with: its thread's next may start
            await self.jobs.kick(conn, thread_id)

    async def drain(self, grace: float) -> None:
        """Stop taking runs; give the running ones ``grace`` seconds, then give them back."""
        self.draining = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        for runner in list(self.runners.values()):
            runner.request_stop("release")


async def take_over_stale_runs(jobs: JobQueue, store: Store, settings: ServiceSettings) -> int:
    """Give back runs nobody heartbeats any more, and queue them again; returns how many.

    PgQueuer picks a dead worker's job again by itself once the job's heartbeat lapses.
    This covers the rest: a run whose job is gone (its end could not be recorded in a
    database outage, or the job was logged while the run was still held) but whose
    heartbeat in the store is ``worker.stalled_after_seconds`` old goes back to
    ``pending``, and its thread's next run (this one) is queued.
    """
    older_than = datetime.now(UTC) - timedelta(seconds=settings.worker.stalled_after_seconds)
    count = 0
    for run in await store.stale_runs(older_than):
        if run.worker is None or not await store.release_run(run.id, run.worker):
            continue
        async with jobs.connection() as conn:
            await jobs.kick(conn, run.thread_id)
        count += 1
        logger.info(
            "run %s had no heartbeat for %g s: queued again", run.id, settings.worker.stalled_after_seconds
        )
    return count


async def requeue_orphans(jobs: JobQueue) -> int:
    """Queue every thread's next run that has no job (queued already: skipped); returns how many were due."""
    async with jobs.connection() as conn:
        return len(await jobs.kick(conn))


async def _maintain(jobs: JobQueue, store: Store, settings: ServiceSettings, name: str) -> None:
    last_reconcile = time.monotonic() - _RECONCILE_SECONDS  # the first pass queues at once
    last_beat = 0.0
    me = asyncio.current_task()
    while True:
        try:
            if time.monotonic() - last_beat >= settings.worker.heartbeat_seconds:
                # The first beat forgets the workers that died before this one started.
                lapsed = datetime.now(UTC) - timedelta(seconds=settings.worker.stalled_after_seconds)
                await store.worker_heartbeat(name, forget_before=None if last_beat else lapsed)
                last_beat = time.monotonic()
            await take_over_stale_runs(jobs, store, settings)
            if time.monotonic() - last_reconcile >= _RECONCILE_SECONDS:
                last_reconcile = time.monotonic()
                await requeue_orphans(jobs)
        except Exception:
            logger.warning("worker upkeep failed; trying again", exc_info=True)
        if me is not None and me.cancelling():
            # Asked to stop while a database call was under way, and that call swallowed
            # the cancellation (seen under load in a connection pool): stop now rather
            # than loop on, a worker that never finishes stopping.
            raise asyncio.CancelledError
        await asyncio.sleep(min(settings.worker.poll_seconds, settings.worker.heartbeat_seconds))


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

    PgQueuer's ``QueueManager`` runs inside a loop: when it stops without being asked to
    (the database went away), the loop waits for the database and starts a new one.
    SIGTERM (or ``stop``) drains: no new jobs; running runs get ``server.drain_seconds``
    to finish, then are given back (see ``JobHandler``).
    """
    stopping = stop if stop is not None else asyncio.Event()
    name = worker_name("worker")
    tracing = ServiceTracing(settings.tracing, instance=name)
    tracing.start()  # first: a tracing misconfiguration stops the worker before it opens anything
    notifier = make_notifier(settings)
    await notifier.start(listen=False)  # a worker publishes; it never waits for a run
    _notify_in_writes(store, notifier)
    jobs = JobQueue(settings)
    _queue_in_writes(store, jobs)
    metrics, stop_metrics = _serve_metrics(settings)
    cache = make_response_cache(settings)
    guard = MemoryGuard.for_service(settings, monitor=memory_monitor, metrics=metrics, caches=[cache])
    handler = JobHandler(store, settings, notifier, name, jobs, metrics, cache, tracing, guard)
    loop = asyncio.get_running_loop()
    if install_signal_handlers:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
    tasks: list[asyncio.Task[None]] = []
    try:
        await _until_database(jobs.ensure_schema, stopping)
        if guard is not None:
            guard.start()
        tasks.append(asyncio.create_task(_maintain(jobs, store, settings, name), name="muster worker upkeep"))
        current: list[Any] = []
        tasks.append(
            asyncio.create_task(
                _stop_when(stopping, handler, current, settings.server.drain_seconds),
                name="muster worker stop",
            )
        )
        logger.info("worker %s started", name)
        while not stopping.is_set():
            try:
                await _serve(jobs, handler, settings, current)
            except Exception:
                logger.warning("the job loop stopped on an error", exc_info=True)
            if not stopping.is_set():
                logger.warning("the job loop stopped unasked (database lost?); starting a new one")
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
        with contextlib.suppress(Exception):
            await store.worker_stopped(name)
        if guard is not None:
            await guard.stop()
        await jobs.close()
        await notifier.close()
        await close_response_cache(cache)
        tracing.shutdown()
        if stop_metrics is not None:
            stop_metrics()
        logger.info("worker %s stopped", name)


async def _serve(jobs: JobQueue, handler: JobHandler, settings: ServiceSettings, current: list[Any]) -> None:
    """One PgQueuer ``QueueManager`` on its own two connections (queries, LISTEN), until it is shut down or one fails."""
    # PgQueuer wants room for two batches (max_concurrent_tasks >= 2 * batch_size); a job past
    # agents.max_concurrent waits on the handler's slots.
    concurrency = max(settings.agents.max_concurrent, 2)
    batch = max(1, min(_BATCH, concurrency // 2))
    async with await jobs.connect() as conn, await jobs.connect() as listening:
        manager = jobs.queue_manager(conn, listening)

        async def run(job: Any, context: Any) -> None:
            await handler(job, context)

        manager.entrypoint(jobs.entrypoint, accepts_context=True)(run)
        current[:] = [manager]
        if handler.draining:
            return
        try:
            await manager.run(
                dequeue_timeout=timedelta(seconds=settings.worker.poll_seconds),
                batch_size=batch,
                max_concurrent_tasks=concurrency,
                shutdown_on_listener_failure=True,
                heartbeat_timeout=timedelta(seconds=settings.worker.stalled_after_seconds),
            )
        finally:
            current.clear()


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


def _queue_in_writes(store: Store, jobs: JobQueue) -> None:
    """Let a run's end queue its thread's next run in its own transaction (PostgreSQL)."""
    from ..store.sql import SqlStore

    if isinstance(store, SqlStore) and store.backend == "postgresql":
        store.job_entrypoint = jobs.entrypoint


async def _stop_when(stopping: asyncio.Event, handler: JobHandler, current: list[Any], grace: float) -> None:
    """Once ``stopping`` is set: take no more jobs, and drain the running ones within ``grace`` seconds."""
    await stopping.wait()
    handler.draining = True
    for manager in current:
        manager.shutdown.set()
    await handler.drain(grace)


async def _ping(jobs: JobQueue) -> None:
    async with await jobs.connect() as conn:
        await conn.execute("SELECT 1")


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
