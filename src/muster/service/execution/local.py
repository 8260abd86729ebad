"""LocalExecutor: runs execute as asyncio tasks in the serving process (SQLite, the embedded default).

- At most ``agents.max_concurrent`` runs execute at once (a semaphore); the rest wait,
  ``pending`` in the store.
- A thread's runs execute one at a time, in the order they were submitted: each run's
  task first waits for the task of the thread's run before it.
- On start, runs a crashed process left ``running`` go back to ``pending``, and every
  pending run is scheduled again, oldest first: a killed server resumes its runs from
  their last checkpoints when it comes back.
- On stop (SIGTERM), new runs are refused; running ones get ``grace`` seconds to finish,
  then are given back (``pending``, from their last checkpoint) for the next start.

Cancelling and the ``interrupt``/``rollback`` strategies reach a run already executing
here at once (the runner re-reads its stop request), not only at its next boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..models import Run, Strategy
from ..settings import ServiceSettings
from ..store.base import Store
from .base import Executor, worker_name
from .runner import RunRunner

if TYPE_CHECKING:
    from ..metrics import ServiceMetrics

__all__ = ["LocalExecutor"]

logger = logging.getLogger("muster.service.execution")

_RELEASE_SECONDS = 10.0
"""How long runs given back at the end of a drain have to write their release."""


class LocalExecutor(Executor):
    """Executes runs in this process (see the module docstring).

    Args:
        store: The service store.
        settings: ``agents`` limits and ``worker.heartbeat_seconds``.
        notify: Awaited with a run id after each of its writes (wakes its streams).
        metrics: The app's ``ServiceMetrics`` (the runners count turns, replays, run times).
        response_cache: The shared response cache the runs' model clients go through.
        tracing: The app's ``ServiceTracing`` (runs traced when it is started), or ``None``.
    """

    def __init__(
        self,
        store: Store,
        settings: ServiceSettings,
        notify: Callable[[str], Awaitable[None]] | None = None,
        *,
        metrics: ServiceMetrics | None = None,
        response_cache: Any = None,
        tracing: Any = None,
    ) -> None:
        self.store = store
        self.tracing = tracing
        self.metrics = metrics
        self.response_cache = response_cache
        self.settings = settings
        self.worker = worker_name("serve")
        self._notify = notify
        self._slots = asyncio.Semaphore(settings.agents.max_concurrent)
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runners: dict[str, RunRunner] = {}
        self._draining = False

    @property
    def draining(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._draining

    @property
    def executing(self) -> int:
        """Runs executing now."""
        return len(self._runners)

    async def worker_counts(self) -> tuple[int, int, int]:
        """This process: online, and busy while a run executes."""
        return 1, 0, 1 if self._runners else 0

    async def start(self) -> None:
        """Give back what a crashed process left running, then schedule every pending run."""
        for run in await self.store.stale_runs(datetime.now(UTC)):
            if run.worker is not None and await self.store.release_run(run.id, run.worker):
                logger.info("run %s left running by %s: resuming it", run.id, run.worker)
        for run in await self.store.pending_runs():
            self._schedule(run)

    async def submit(self, run: Run, *, enqueued: bool = False) -> None:
        """Schedule a stored ``pending`` run; a drain leaves it pending for the next start."""
        if self._draining:
            return
        if run.strategy in (Strategy.INTERRUPT, Strategy.ROLLBACK):
            # The store already marked the thread's current runs: make them look now.
            for runner in list(self._runners.values()):
                if runner.thread_id == run.thread_id:
                    await runner.check_stop()
        self._schedule(run)

    async def cancel(self, run_id: str) -> None:
        """Make the run's runner read its stop request now (if it executes here)."""
        runner = self._runners.get(run_id)
        if runner is not None:
            await runner.check_stop()

    def _schedule(self, run: Run) -> None:
        before = self._tails.get(run.thread_id)
        task = asyncio.create_task(self._execute(run, before), name=f"run {run.id}")
        self._tails[run.thread_id] = task
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if self._tails.get(run.thread_id) is finished:
                del self._tails[run.thread_id]

        task.add_done_callback(done)

    async def _execute(self, run: Run, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait([before])  # its outcome is its own; only the order matters here
        async with self._slots:
            if self._draining:
                return
            runner = RunRunner(
                self.store,
                run.id,
                worker=self.worker,
                agents=self.settings.agents,
                notify=self._notify,
                heartbeat_seconds=self.settings.worker.heartbeat_seconds,
                thread_id=run.thread_id,
                metrics=self.metrics,
                response_cache=self.response_cache,
                tracing=self.tracing,
            )
            self._runners[run.id] = runner
            try:
                await runner.execute()
            except Exception:
                # The store failed under the runner: the run stays as the store has it
                # (running: the next start gives it back and resumes it).
                logger.exception("run %s stopped on an error of the service", run.id)
            finally:
                del self._runners[run.id]

    async def stop(self, grace: float) -> None:
        """Refuse new runs; wait ``grace`` seconds, then give running runs back."""
        self._draining = True
        running = [t for t in self._tasks if t.get_name().removeprefix("run ") in self._runners]
        if running:
            await asyncio.wait(running, timeout=grace)
        for runner in list(self._runners.values()):
            runner.request_stop("release")
        pending = list(self._tasks)
        if pending:
            _, late = await asyncio.wait(pending, timeout=_RELEASE_SECONDS)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
