"""JobExecutor and ``muster worker``: runs as PgQueuer jobs on PostgreSQL.

API replicas only enqueue: one job per run, entrypoint ``muster.run:<worker.queue>``,
the run id as payload and as ``dedupe_key`` (a run is never queued twice). ``muster
worker`` processes run PgQueuer's ``QueueManager``: LISTEN/NOTIFY wake-ups, at most
``agents.max_concurrent`` jobs at a time, a heartbeat on every job it holds; each job
executes its run with the :class:`RunRunner`.

Why PgQueuer and not procrastinate: the issue named procrastinate unless it measurably
failed a requirement here, and it did. Alone, with no-op jobs and two workers on this
2-core machine, procrastinate moved 150-254 jobs/s at about 6 ms of CPU per job (most of
it in PostgreSQL), under the 300 runs/s the service must reach; PgQueuer moved
2,700-5,900 jobs/s at 0.3 ms (``make bench-service BENCH_ARGS=--floor``,
docs/benchmarks.md).

What PgQueuer gives and what this module adds:

- **Order per thread.** PgQueuer has no per-key lock (procrastinate's ``lock``). The store
  keeps the order instead: only a thread's first current run is queued when it is
  created (in the transaction that stores it); a claim is refused while an earlier run of
  the thread is pending or running; and whoever finishes with a run queues the thread's
  next one (:meth:`JobQueue.kick`).
- **Takeover.** A job whose worker stopped beating for ``worker.stalled_after_seconds``
  is picked again by PgQueuer (its ``heartbeat_timeout``); the new worker claims the run
  only if the run's own heartbeat in the store is as old, and resumes it from its last
  checkpoint.
- **Cancellation** is PgQueuer's cancellation event: the worker holding the job cancels
  its context, and the job stops its run at once (the store says why: cancel or rollback).
- **Outages.** When the database goes away, PgQueuer's loop stops and ``run_worker``
  starts a new one once the database answers; a run whose turn write met the outage is
  given back, or, when even that cannot be written, taken over once its heartbeat lapses.
  Runs whose heartbeat in the store is ``worker.stalled_after_seconds`` old are given back
  and queued again by every worker's upkeep loop.
- **Drain.** SIGTERM stops taking jobs; running ones get ``server.drain_seconds``, then
  give their run back (``pending``) and ask PgQueuer to retry the job
  (``RetryRequested``), so another worker resumes it.
- **Nothing dropped.** A run is stored with its job, or queued when the run before it
  ends; and every worker queues, at start and then every minute, each thread's next run
  that has no job (a worker killed between a run's end and the next run's queuing).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..models import Run, Strategy
from ..settings import ServiceSettings
from ..store.base import Store
from ._pgqueuer import JobQueue
from .base import Executor

__all__ = ["JobExecutor", "ensure_job_schema"]

logger = logging.getLogger("muster.service.execution")

_ROLLED_BACK = """
SELECT id FROM runs WHERE thread_id = %s AND id <> %s AND status = 'cancelled' AND stop_requested = 'rollback'
"""


class JobExecutor(Executor):
    """The API side on PostgreSQL: queues a job per run, cancels jobs to stop runs (see above).

    Args:
        store: The service store (runs are stored before they are submitted).
        settings: The database URL and schema, the worker queue.
        jobs: The queue (built from ``settings`` when not given).
    """

    def __init__(self, store: Store, settings: ServiceSettings, jobs: JobQueue | None = None) -> None:
        self.store = store
        self.settings = settings
        self.jobs = jobs or JobQueue(settings)
        self._draining = False

    @property
    def draining(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._draining

    async def start(self) -> None:
        """Create PgQueuer's tables on first use."""
        await self.jobs.ensure_schema()

    async def stop(self, grace: float) -> None:
        """Stop queuing (runs execute in workers: nothing here to drain) and close the connection."""
        self._draining = True
        await self.jobs.close()

    def enqueue_in(self) -> Callable[[Any, Run], Awaitable[None]]:
        """Queue the run's job on the store's connection, in the transaction that stores the run.

        The callable names the queue's ``entrypoint``: the PostgreSQL store then queues
        the job inside its own one-call write (``muster_create_run``) instead of calling it.
        """
        return _EnqueueIn(self.jobs)

    async def submit(self, run: Run, *, enqueued: bool = False) -> None:
        """Queue the thread's next run unless the store did; a failure leaves the run pending for the reconcile pass."""
        if not enqueued:
            try:
                async with self.jobs.connection() as conn:
                    await self.jobs.kick(conn, run.thread_id)
            except Exception:
                logger.warning("could not enqueue run %s; a worker will", run.id, exc_info=True)
                return
        if run.strategy is Strategy.ROLLBACK:
            # The store rolled the thread's current runs back: stop their turns now.
            await self._cancel(_ROLLED_BACK, (run.thread_id, run.id))

    async def cancel(self, run_id: str) -> None:
        """Stop the run's job now: its worker stops the run (the store has the reason)."""
        await self._cancel(None, (run_id,))

    async def _cancel(self, query: str | None, params: tuple[str, ...]) -> None:
        try:
            async with self.jobs.connection() as conn:
                run_ids = list(params)
                if query is not None:
                    cursor = conn.cursor()
                    await cursor.execute(query, params)
                    run_ids = [row[0] for row in await cursor.fetchall()]
                await self.jobs.cancel(conn, run_ids)
        except Exception:
            # The stop is in the store: the run still stops at its next turn boundary.
            logger.warning("could not cancel the jobs of %s", params, exc_info=True)

    async def worker_counts(self) -> tuple[int, int, int]:
        """``muster worker`` processes: heartbeat fresh, heartbeat lapsed, running a run."""
        stalled = datetime.now(UTC) - timedelta(seconds=self.settings.worker.stalled_after_seconds)
        return await self.store.worker_counts(stalled)


class _EnqueueIn:
    """``JobExecutor.enqueue_in``'s callable: the run's job, on the store's connection; names the entrypoint."""

    def __init__(self, jobs: JobQueue) -> None:
        self.jobs = jobs
        self.entrypoint = jobs.entrypoint

    async def __call__(self, conn: Any, run: Run) -> None:
        await self.jobs.enqueue(conn, [run.id])


async def ensure_job_schema(settings: ServiceSettings) -> None:
    """Create PgQueuer's tables in the service's schema unless they exist (``muster db upgrade``)."""
    await JobQueue(settings).ensure_schema()
