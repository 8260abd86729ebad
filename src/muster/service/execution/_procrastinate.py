"""The procrastinate app of the service: its connector, its one task, its schema.

One :class:`JobApp` per process. The API side uses it to defer and abort jobs; a worker
also installs the function the task runs (:meth:`JobApp.set_handler`) and runs
procrastinate's worker on it. Procrastinate's tables live in the service's PostgreSQL
schema (``database.schema``, through the connection's ``search_path``) and are created on
first use, under an advisory lock so that replicas starting together create them once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..models import Run
from ..notify import pg_conninfo
from ..settings import ServiceSettings

__all__ = ["TASK_NAME", "JobApp", "RunReleased", "job_conninfo"]

TASK_NAME = "muster.run"
"""The task every run's job runs."""

_SCHEMA_LOCK = 0x6D757374  # "must": serialises schema creation between processes


class RunReleased(Exception):  # noqa: N818 - a signal to procrastinate's retry, not an error
    """Raised by a job whose run was given back: procrastinate re-queues the job.

    Attributes:
        delay: Seconds before the job may run again (0: at once, a drain; more: the
            service failed under the run, and retrying at once would likely fail again).
    """

    def __init__(self, run_id: str, delay: float = 0.0) -> None:
        self.run_id = run_id
        self.delay = delay
        super().__init__(f"run {run_id} was given back; its job is retried in {delay:g} s")


def job_conninfo(settings: ServiceSettings) -> str:
    """The libpq connection string, with ``search_path`` set to the service's schema."""
    from psycopg.conninfo import make_conninfo

    conninfo = pg_conninfo(settings.database.url.get_secret_value())
    schema = settings.database.schema_name
    if schema:
        conninfo = make_conninfo(conninfo, options=f"-c search_path={schema}")
    return conninfo


class JobApp:
    """The procrastinate ``App`` of one process (see the module docstring)."""

    def __init__(self, settings: ServiceSettings) -> None:
        from procrastinate import App, BaseRetryStrategy, PsycopgConnector, RetryDecision
        from procrastinate.jobs import Job

        self.settings = settings
        self.conninfo = job_conninfo(settings)
        self.app = App(connector=PsycopgConnector(conninfo=self.conninfo, min_size=1, max_size=4))
        self._handler: Callable[[Any, str], Awaitable[None]] | None = None

        class RetryReleased(BaseRetryStrategy):
            """Retry exactly the jobs whose runs were given back (never a failed run)."""

            def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
                if isinstance(exception, RunReleased):
                    return RetryDecision(retry_in={"seconds": round(exception.delay)})
                return None

        async def run(context: Any, run_id: str) -> None:
            if self._handler is None:
                raise RuntimeError("this process only defers runs; `muster worker` executes them")
            await self._handler(context, run_id)

        self.app.task(name=TASK_NAME, pass_context=True, queue=settings.worker.queue, retry=RetryReleased())(
            run
        )

    def set_handler(self, handler: Callable[[Any, str], Awaitable[None]]) -> None:
        """What the task runs in this process: ``handler(job_context, run_id)``."""
        self._handler = handler

    async def open(self) -> None:
        """Open the connection pool; create procrastinate's tables if they are missing."""
        await self.ensure_schema()
        await self.app.open_async()

    async def close(self) -> None:
        """Close the connection pool."""
        await self.app.close_async()

    async def ensure_schema(self) -> None:
        """Create the schema and procrastinate's tables unless they exist (idempotent, race-free)."""
        import psycopg
        from psycopg import sql

        schema = self.settings.database.schema_name
        async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
            try:
                if schema:
                    await conn.execute(
                        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                    )
                row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
                if row is None or row[0] is None:
                    schema_sql = self.app.schema_manager.get_schema()
                    async with conn.transaction():
                        await conn.execute(schema_sql)  # type: ignore[arg-type]
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))

    async def worker_counts(self) -> tuple[int, int, int]:
        """Procrastinate's workers: ``(online, offline, busy)`` by their heartbeats and jobs."""
        rows = await self.app.connector.execute_query_all_async(
            query="""
            SELECT w.last_heartbeat > NOW() - (%(stalled)s || ' SECOND')::INTERVAL AS alive,
                   EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.worker_id = w.id AND j.status = 'doing')
                       AS busy
              FROM procrastinate_workers w
            """,
            stalled=self.settings.worker.stalled_after_seconds,
        )
        online = sum(1 for row in rows if row["alive"])
        busy = sum(1 for row in rows if row["alive"] and row["busy"])
        return online, len(rows) - online, busy

    async def defer(self, connection: Any, run: Run) -> None:
        """Queue the run's job (a run already queued is left as it is).

        ``connection``: a psycopg connection whose transaction the job joins (the one
        storing the run), or ``None`` for the app's own pool.
        """
        from procrastinate.exceptions import AlreadyEnqueued

        deferrer = self.app.configure_task(
            TASK_NAME,
            lock=run.thread_id,
            queueing_lock=run.id,
            queue=self.settings.worker.queue,
            connection=connection,
        )
        try:
            await deferrer.defer_async(run_id=run.id)
        except AlreadyEnqueued:
            pass
