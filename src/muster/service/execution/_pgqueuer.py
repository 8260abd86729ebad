"""The service's PgQueuer queue: its names, its schema, and the statements the service adds.

One :class:`JobQueue` per process. PgQueuer's tables live in the service's PostgreSQL
schema (``database.schema``) and are created on first use, under an advisory lock so that
replicas starting together create them once. Its NOTIFY channel is named after the schema:
channels are database-wide, and two services sharing a database must not wake each
other's workers.

A run's job carries the run id as its payload and as its ``dedupe_key``: PgQueuer keeps at
most one queued or picked job per key, so a run is never queued twice, however many
paths (the run's creation, the end of the run before it, the reconcile pass) queue it.

Only a thread's *first* current run has a job (see ``jobs.py``): :meth:`JobQueue.kick`
queues the run that comes next on a thread once the one before it has ended.

A worker's queue manager comes from :meth:`JobQueue.queue_manager`, which also keeps
PgQueuer's wake-ups bounded (``_wakeups.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..notify import pg_conninfo
from ..settings import ServiceSettings

if TYPE_CHECKING:
    from pgqueuer import Queries, QueueManager

__all__ = ["JobQueue", "ListeningDriver", "job_conninfo"]

_SCHEMA_LOCK = 0x6D757374  # "must": serialises schema creation between processes

# A thread's next run: the first pending one, once no run of the thread runs or waits before it.
_NEXT_RUNS = """
SELECT r.id FROM runs r
 WHERE r.status = 'pending' AND (%(thread)s::text IS NULL OR r.thread_id = %(thread)s::text)
   AND NOT EXISTS (SELECT 1 FROM runs e
                    WHERE e.thread_id = r.thread_id AND e.id <> r.id
                      AND (e.status = 'running' OR (e.status = 'pending' AND e.number < r.number)))
 ORDER BY r.created_at
"""


class ListeningDriver:
    """PgQueuer's psycopg driver, with LISTEN on a connection of its own.

    PgQueuer's ``PsycopgDriver`` waits for notifications on the connection its queries use,
    holding the connection for up to a second at a time: an idle worker's next dequeue
    waited behind it, and a run on a quiet service took a second to start (seen at one
    client: p50 1,020 ms). Here queries go to one driver and LISTEN to another, each on its
    own autocommit connection. Implements PgQueuer's ``Driver`` protocol.
    """

    def __init__(self, connection: Any, listen_connection: Any) -> None:
        from pgqueuer import PsycopgDriver

        self._queries = PsycopgDriver(connection)
        self._listen = PsycopgDriver(listen_connection)

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        return await self._queries.fetch(query, *args)

    async def execute(self, query: str, *args: object) -> str:
        return await self._queries.execute(query, *args)

    async def notify(self, channel: str, payload: str) -> None:
        await self._queries.notify(channel, payload)

    async def add_listener(self, channel: str, callback: Any) -> None:
        await self._listen.add_listener(channel, callback)

    async def remove_listener(self, channel: str, callback: Any) -> None:
        await self._listen.remove_listener(channel, callback)

    @property
    def shutdown(self) -> asyncio.Event:
        return self._queries.shutdown

    @property
    def tm(self) -> Any:
        return self._listen.tm

    async def __aenter__(self) -> ListeningDriver:
        await self._listen.__aenter__()
        await self._queries.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._queries.__aexit__(*exc)
        finally:
            await self._listen.__aexit__(*exc)


def job_conninfo(settings: ServiceSettings) -> str:
    """The libpq connection string, with ``search_path`` set to the service's schema."""
    from psycopg.conninfo import make_conninfo

    conninfo = pg_conninfo(settings.database.url.get_secret_value())
    schema = settings.database.schema_name
    if schema:
        conninfo = make_conninfo(conninfo, options=f"-c search_path={schema}")
    return conninfo


class JobQueue:
    """PgQueuer as the service uses it (see the module docstring).

    Args:
        settings: The database URL and schema; ``worker.queue`` names the entrypoint.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        from pgqueuer.adapters.persistence.qb import QueryQueueBuilder
        from pgqueuer.domain.settings import DBSettings

        self.settings = settings
        self.conninfo = job_conninfo(settings)
        schema = settings.database.schema_name or "public"
        self.db = DBSettings(db_schema=schema, channel=f"muster_jobs_{schema}"[:63])
        self.entrypoint = f"muster.run:{settings.worker.queue}"
        """The one entrypoint every run's job names (one per ``worker.queue``)."""
        self._enqueue_sql = QueryQueueBuilder(settings=self.db).build_enqueue_query("skip")
        self._conn: Any = None
        self._lock = asyncio.Lock()

    def queries(self, connection: Any, listen_connection: Any = None) -> Queries:
        """PgQueuer's queries over ``connection`` (an autocommit psycopg connection), with our names.

        ``listen_connection``: another one, for LISTEN (a worker's queue manager listens).
        """
        from pgqueuer import PsycopgDriver, Queries
        from pgqueuer.adapters.persistence.qb import (
            QueryBuilderEnvironment,
            QueryQueueBuilder,
            QuerySchedulerBuilder,
        )

        driver = (
            PsycopgDriver(connection)
            if listen_connection is None
            else ListeningDriver(connection, listen_connection)
        )
        return Queries(
            driver,  # type: ignore[arg-type]  # ListeningDriver implements the Driver protocol
            qbe=QueryBuilderEnvironment(settings=self.db),
            qbq=QueryQueueBuilder(settings=self.db),
            qbs=QuerySchedulerBuilder(settings=self.db),
        )

    def queue_manager(self, connection: Any, listen_connection: Any) -> QueueManager:
        """A worker's PgQueuer ``QueueManager``: queries on ``connection``, LISTEN on ``listen_connection``.

        On the service's channel, with its wake-ups bounded: PgQueuer builds the queue
        from ``pgqueuer.core.listeners.PGNoticeEventListener`` when it starts listening,
        which is made ``_wakeups.OneWakeUp`` here (once per process; nothing else uses it);
        it probes the table once between waits (``_wakeups.OneProbeQueueManager``).
        """
        from pgqueuer.domain.types import Channel

        from ._wakeups import OneProbeQueueManager, bound_wake_ups

        bound_wake_ups()
        return OneProbeQueueManager(
            self.queries(connection, listen_connection), channel=Channel(self.db.channel)
        )

    async def connect(self) -> Any:
        """A new autocommit psycopg connection to the service's schema."""
        import psycopg

        return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)

    async def ensure_schema(self) -> None:
        """Create the schema and PgQueuer's tables unless they exist (idempotent, race-free)."""
        async with await self.connect() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
            try:
                queries = self.queries(conn)
                if not await queries.schema_is_installed():
                    await queries.install(create_schema=True)
                await conn.execute(self._enqueue_function())
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))

    def _enqueue_function(self) -> str:
        """``muster_enqueue``: PgQueuer's enqueue statement as a function, for the store's own functions.

        The store queues a run's job inside its writes (``muster_create_run``, and
        ``muster_queue_next`` at a run's end: migration 0003), so that the job commits with
        the run in one round trip. It calls this function, which runs PgQueuer's own
        statement (its ``$1``-``$6`` are the function's arguments), so the jobs are
        PgQueuer's exactly, whatever its version; replaced at every start.
        """
        return (
            f"CREATE OR REPLACE FUNCTION {self.db.db_schema}.muster_enqueue("
            "int[], text[], bytea[], interval[], text[], jsonb[]) RETURNS TABLE(o bigint, j bigint) "
            f"LANGUAGE plpgsql AS $muster$ BEGIN RETURN QUERY {self._enqueue_sql.strip()}; END $muster$"
        )

    async def enqueue(self, conn: Any, run_ids: Sequence[str]) -> None:
        """Queue the runs' jobs on ``conn`` (in its transaction, if it is in one); runs already queued are skipped."""
        from psycopg import AsyncRawCursor

        if not run_ids:
            return
        count = len(run_ids)
        cursor = AsyncRawCursor(conn)
        await cursor.execute(
            self._enqueue_sql,
            (
                [0] * count,
                [self.entrypoint] * count,
                [run_id.encode() for run_id in run_ids],
                [timedelta(0)] * count,
                list(run_ids),
                [None] * count,
            ),
        )

    async def kick(self, conn: Any, thread_id: str | None = None) -> list[str]:
        """Queue the next run of ``thread_id`` (of every thread if ``None``); returns the runs it found.

        A run is next when it is its thread's first pending run and no run of the thread
        is running. Queuing one that is queued already does nothing.
        """
        cursor = conn.cursor()
        await cursor.execute(_NEXT_RUNS, {"thread": thread_id})
        found = [row[0] for row in await cursor.fetchall()]
        await self.enqueue(conn, found)
        return found

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """This process's own autocommit connection (the API's cancels, a worker's upkeep), reopened if it broke."""
        async with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = await self.connect()
            try:
                yield self._conn
            except BaseException:
                if self._conn.broken:
                    with contextlib.suppress(Exception):
                        await self._conn.close()
                    self._conn = None
                raise

    async def close(self) -> None:
        """Close this process's own connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def cancel(self, conn: Any, run_ids: Sequence[str]) -> int:
        """Ask the workers executing these runs' jobs to stop them now; returns how many jobs were told.

        A PgQueuer cancellation event: the worker holding the job cancels its context,
        and the job stops its run at once (the store says why). Queued jobs are left:
        a worker finds their run stopped when it picks them.
        """
        if not run_ids:
            return 0
        from pgqueuer.models import JobId

        cursor = conn.cursor()
        await cursor.execute(
            f"SELECT id FROM {self.db.qualified.queue_table}"
            " WHERE entrypoint = %s AND status = 'picked' AND dedupe_key = ANY(%s)",
            (self.entrypoint, list(run_ids)),
        )
        ids = [JobId(row[0]) for row in await cursor.fetchall()]
        if ids:
            await self.queries(conn).notify_job_cancellation(ids)
        return len(ids)
