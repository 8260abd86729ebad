"""JobExecutor and ``muster worker``: runs as procrastinate jobs on PostgreSQL.

API replicas only enqueue: one job per run, task ``muster.run``, ``lock`` = the thread id
(procrastinate never runs two jobs holding one lock at once, so a thread's runs are
serial, in order) and ``queueing_lock`` = the run id (a run is never queued twice).
``muster worker`` processes run procrastinate's worker (its ``Worker``, what
``App.run_worker_async`` runs, held directly to stop it gracefully and restart it): LISTEN/
NOTIFY wake-ups, ``agents.max_concurrent`` jobs at a time, a heartbeat every
``worker.heartbeat_seconds``; each job executes its run with the :class:`RunRunner`.

What procrastinate gives and what this module adds:

- **Takeover.** Procrastinate records worker heartbeats and finds the jobs of workers
  silent for ``worker.stalled_after_seconds`` (``JobManager.get_stalled_jobs``), but does
  not retry them by itself. Every worker runs a small loop that does: the run goes back
  to ``pending`` in the store (``release_run`` for its dead worker), the job back to
  ``todo`` (``JobManager.retry_job``), and a live worker resumes the run from its last
  checkpoint. A loop rather than a procrastinate periodic task: a periodic job needs a
  free job slot, and workers whose slots are all busy with long runs must still take
  over a dead worker's runs.
- **Cancellation** is the job's abort (``cancel_job_by_id_async(abort=True)``): the worker
  cancels the job's asyncio task, and the job turns that into a stop of the run at its
  turn (the store says why: cancel or rollback).
- **Outages.** When the database goes away, procrastinate's worker stops (its heartbeat
  and listener fail) and ``run_worker`` starts a new one once the database answers; a run
  whose turn write met the outage is not failed, it is given back. A job whose end could
  not be recorded stays ``doing`` under a live worker, so runs whose own heartbeat in the
  store is ``worker.stalled_after_seconds`` old are queued again as well.
- **Drain.** SIGTERM stops the worker (``Worker.stop()``): no new jobs;
  running ones get ``server.drain_seconds`` (``shutdown_graceful_timeout``), then are
  aborted, and the job gives its run back (``pending``) and asks procrastinate to retry it
  (its retry strategy retries exactly that), so another worker resumes it.
- **Nothing dropped.** A run is stored before its job is deferred; if deferring fails, the
  run stays ``pending`` and workers re-defer pending runs that have no live job, at start
  and then every minute.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..models import Run, Strategy
from ..settings import ServiceSettings
from ..store.base import Store
from ._procrastinate import TASK_NAME, JobApp
from .base import Executor

__all__ = ["JobExecutor", "ensure_job_schema"]

logger = logging.getLogger("muster.service.execution")


class JobExecutor(Executor):
    """The API side on PostgreSQL: defers a job per run, aborts jobs to cancel (see above).

    Args:
        store: The service store (runs are stored before they are submitted).
        settings: The database URL and schema, the worker queue.
        jobs: The procrastinate app wrapper (built from ``settings`` when not given).
    """

    def __init__(self, store: Store, settings: ServiceSettings, jobs: JobApp | None = None) -> None:
        self.store = store
        self.settings = settings
        self.jobs = jobs or JobApp(settings)
        self._draining = False

    @property
    def draining(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._draining

    async def start(self) -> None:
        """Open procrastinate's connection pool (creating its tables on first use)."""
        await self.jobs.open()

    async def stop(self, grace: float) -> None:
        """Stop deferring (runs execute in workers: nothing here to drain) and close the pool."""
        self._draining = True
        await self.jobs.close()

    def enqueue_in(self) -> Callable[[Any, Run], Awaitable[None]]:
        """Defer the run's job on the store's connection, in the transaction that stores the run."""
        return self.jobs.defer

    async def submit(self, run: Run, *, enqueued: bool = False) -> None:
        """Defer the run's job (unless ``enqueued``); a failure leaves the run pending for a worker to re-defer."""
        if not enqueued:
            try:
                await self.jobs.defer(None, run)
            except Exception:
                logger.warning("could not enqueue run %s; a worker will", run.id, exc_info=True)
                return
        if run.strategy is Strategy.ROLLBACK:
            # The store rolled the thread's current runs back: stop their turns now.
            await self._abort(lock=run.thread_id, exclude=run.id)

    async def cancel(self, run_id: str) -> None:
        """Abort the run's job: its worker stops the run now (the store has the reason)."""
        await self._abort(queueing_lock=run_id)

    async def _abort(self, exclude: str | None = None, **filters: Any) -> None:
        try:
            for job in await self.jobs.app.job_manager.list_jobs_async(task=TASK_NAME, **filters):
                if job.id is None or job.status not in ("todo", "doing"):
                    continue
                if exclude is not None and job.task_kwargs.get("run_id") == exclude:
                    continue
                await self.jobs.app.job_manager.cancel_job_by_id_async(job.id, abort=True)
        except Exception:
            # The stop is in the store: the run still stops at its next turn boundary.
            logger.warning("could not abort jobs %s", filters, exc_info=True)

    async def worker_counts(self) -> tuple[int, int, int]:
        """``muster worker`` processes: heartbeat fresh, heartbeat lapsed, running a job."""
        return await self.jobs.worker_counts()


async def ensure_job_schema(settings: ServiceSettings) -> None:
    """Create procrastinate's tables in the service's schema unless they exist (``muster db upgrade``)."""
    await JobApp(settings).ensure_schema()
