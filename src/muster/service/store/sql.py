"""``SqlStore``: the :class:`~muster.service.store.base.Store` on SQLAlchemy 2 async Core.

One class for both backends, in layers: ``_database.py`` (the engine, open/close, the
transaction helper that turns a lost database into ``StoreUnavailableError``),
``_catalog.py`` (specs, API keys) and this module (threads, runs, turns, recorded
responses, retention). Every method is one transaction; the multi-statement steps of a
run's life live in ``_runs.py`` and ``_turns.py``, and the methods here open the
transaction, call them, and turn rows into resources.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ..exceptions import ConflictError, InvalidRequestError, NotFoundError
from ..models import (
    EventRecord,
    MessageRecord,
    Run,
    RunError,
    RunStatus,
    SpecRecord,
    Strategy,
    Thread,
    ThreadStatus,
)
from ..notify.base import payload
from . import _pgpaths as P
from . import _runs
from ._catalog import CatalogStore
from ._checkpoints import rebuild_state
from ._claims import ClaimBatcher
from ._pgturns import NOTIFY, RunEnd, refusal, write_turn
from ._rows import new_id, now, plain, to_event, to_message, to_run, to_thread
from ._turns import record_turn
from .base import STOP_ROLLBACK, Checkpoint, RunStart, Store, TurnWrite
from .tables import checkpoints, events, messages, model_responses, runs, threads, workers

__all__ = ["SqlStore"]

_FINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED})


# The SQLite path's hot statements, built once: building a statement like these and its
# cache key costs SQLAlchemy about twice what executing it costs (PostgreSQL's hot path
# sends SQL of its own, ``_pgpaths.py``).


def _claim_statement(*, stale: bool) -> sa.Update:
    claimable = runs.c.status == RunStatus.PENDING.value
    if stale:
        claimable = claimable | (
            (runs.c.status == RunStatus.RUNNING.value) & (runs.c.heartbeat_at < sa.bindparam("stale_before"))
        )
    earlier = runs.alias("earlier")
    first = ~sa.exists().where(
        earlier.c.thread_id == runs.c.thread_id,
        earlier.c.number < runs.c.number,
        earlier.c.status.in_(_runs.ACTIVE),
    )
    at = sa.bindparam("at", type_=runs.c.updated_at.type)
    return (
        sa.update(runs)
        .where(runs.c.id == sa.bindparam("run_id"), claimable, first)
        .values(
            status=RunStatus.RUNNING.value,
            worker=sa.bindparam("worker"),
            attempt=sa.case((runs.c.started_at.is_(None), runs.c.attempt), else_=runs.c.attempt + 1),
            started_at=sa.func.coalesce(runs.c.started_at, at),
            heartbeat_at=at,
            updated_at=at,
        )
        .returning(*runs.c)
    )


_CLAIM = _claim_statement(stale=False)
_CLAIM_STALE = _claim_statement(stale=True)
_PREVIOUS = runs.alias("previous")
_RUN_START = (
    sa.select(runs.c.task, threads.c.state, *(c.label(f"p_{c.name}") for c in _PREVIOUS.c))
    .select_from(
        runs.join(threads, threads.c.id == runs.c.thread_id).outerjoin(
            _PREVIOUS,
            (_PREVIOUS.c.thread_id == runs.c.thread_id) & (_PREVIOUS.c.number == runs.c.number - 1),
        )
    )
    .where(runs.c.id == sa.bindparam("run_id"))
)


class SqlStore(CatalogStore):
    """The store on SQLite (a file) or PostgreSQL.

    Specs and keys come from :class:`CatalogStore`, the pool and transactions from
    :class:`SqlDatabase`; threads, runs and their turns are here.

    Args:
        url: ``sqlite:///path.db`` or ``postgresql://user@host/db`` (drivers chosen for you).
        schema: PostgreSQL schema holding the tables (``database.schema``).
        upgrade: Upgrade the schema in :meth:`open`; by default on SQLite only. On
            PostgreSQL, :meth:`open` otherwise refuses a database whose schema is behind
            (``SchemaOutOfDateError``: run ``muster db upgrade``).
        pool_size: Connections kept open (plus ``max_overflow`` more under load).

    Attributes:
        notify_channel: PostgreSQL only: a ``LISTEN``/``NOTIFY`` channel (the
            ``PostgresNotifier``'s) that turn writes, run ends and releases notify inside
            their own transaction, delivered at commit: a worker then publishes nothing
            itself. ``None`` (the default): the caller publishes after each write.
        job_entrypoint: PostgreSQL only: the job queue's entrypoint (a worker's). A run's
            end then queues its thread's next run's job in the same transaction
            (``muster_queue_next``), which the worker otherwise does after it.
    """

    notify_channel: str | None = None
    job_entrypoint: str | None = None

    @cached_property
    def _claims(self) -> ClaimBatcher:
        """PostgreSQL: the claims of one loop tick, made in one statement (``_claims.py``)."""
        return ClaimBatcher(self._driver, now)

    async def close(self) -> None:
        """Wait for the claims in flight, then close every pooled connection."""
        await self._claims.close()
        await super().close()

    # ------------------------------------------------------------ threads

    async def create_thread(self, metadata: Mapping[str, Any] | None = None) -> Thread:
        """A new idle thread."""
        at = now()
        row = {
            "id": new_id(),
            "metadata": plain(metadata or {}),
            "status": ThreadStatus.IDLE.value,
            "run_count": 0,
            "message_seq": 0,
            "created_at": at,
            "updated_at": at,
        }
        if self.backend == "postgresql":
            async with self._driver() as pg:
                await pg.execute(
                    P.INSERT_THREAD, (row["id"], json.dumps(row["metadata"]), row["status"], at, at)
                )
            return to_thread(row)
        async with self._tx(single=True) as conn:
            await conn.execute(sa.insert(threads).values(row))
        return to_thread(row)

    async def get_thread(self, thread_id: str) -> Thread:
        """The thread (``NotFoundError`` if there is none)."""
        return to_thread(
            await self._one(sa.select(threads).where(threads.c.id == thread_id), "thread", thread_id)
        )

    async def thread_state(self, thread_id: str) -> Mapping[str, Any] | None:
        """The team state the thread's runs left (``None`` before any)."""
        row = await self._one(
            sa.select(threads.c.state).where(threads.c.id == thread_id), "thread", thread_id
        )
        state: Mapping[str, Any] | None = row["state"]
        return state

    async def list_messages(self, thread_id: str, *, after: int = 0, limit: int = 100) -> list[MessageRecord]:
        """The thread's messages with ``seq > after``, oldest first, at most ``limit``."""
        _check_page(after, limit)
        query = (
            sa.select(messages)
            .where(messages.c.thread_id == thread_id, messages.c.seq > after)
            .order_by(messages.c.seq)
            .limit(limit)
        )
        async with self._tx(write=False) as conn:
            rows = (await conn.execute(query)).mappings().all()
            if not rows:
                await self._exists(conn, threads, thread_id, "thread")
        return [to_message(r) for r in rows]

    # ------------------------------------------------------------ runs

    async def create_run(
        self,
        thread_id: str,
        spec: SpecRecord,
        task: Sequence[Mapping[str, Any]] | None,
        strategy: Strategy,
        *,
        max_queue: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        on_insert: Callable[[Any, Run], Awaitable[None]] | None = None,
        latest: bool = False,
    ) -> Run:
        """Add a pending run, applying ``strategy`` atomically (see ``Store.create_run``)."""
        entrypoint: str | None = getattr(on_insert, "entrypoint", None)
        if self.backend == "postgresql" and (on_insert is None or entrypoint is not None):
            # One call (``muster_create_run``), the job with it; a strategy to apply to the
            # thread's current runs takes the transaction below.
            try:
                async with self._driver() as pg:
                    called = await P.create_run_call(
                        pg,
                        thread_id,
                        spec,
                        task,
                        strategy,
                        now(),
                        max_queue=max_queue,
                        metadata=metadata,
                        entrypoint=entrypoint,
                        latest=latest,
                    )
            except sa.exc.IntegrityError as exc:
                raise NotFoundError("spec", f"{spec.name}@{spec.version}") from exc
            if called is not None:
                return to_run(called)
        if latest:
            spec = await self.get_spec(spec.name)
        try:
            async with self._tx() as conn:
                if self.backend != "postgresql":
                    if on_insert is not None:
                        raise ValueError("create_run: on_insert needs PostgreSQL")
                    row = await _runs.create_run(
                        conn, thread_id, spec, task, strategy, now(), max_queue=max_queue, metadata=metadata
                    )
                    return to_run(row)
                async with self._driver_of(conn) as pg:
                    thread = await P.lock_thread_and_count(pg, thread_id, max_queue)
                    first = thread["status"] != ThreadStatus.BUSY  # no current run: it starts at once
                    if first or strategy == Strategy.ENQUEUE:
                        run = to_run(await P.insert_run(pg, thread, spec, task, strategy, now(), metadata))
                    else:  # the strategy acts on the thread's current runs: the portable path
                        row = await _runs.create_run(
                            conn,
                            thread_id,
                            spec,
                            task,
                            strategy,
                            now(),
                            max_queue=max_queue,
                            metadata=metadata,
                        )
                        run = to_run(row)
                    if on_insert is not None and first:
                        await on_insert(pg, run)
                    return run
        except sa.exc.IntegrityError as exc:
            raise NotFoundError("spec", f"{spec.name}@{spec.version}") from exc

    async def get_run(self, run_id: str) -> Run:
        """The run (``NotFoundError`` if there is none)."""
        if self.backend == "postgresql":
            async with self._driver() as pg:
                found = await P.fetch_one(pg, P.RUN, (run_id,))
            if found is None:
                raise NotFoundError("run", run_id)
            return to_run(found)
        return to_run(await self._one(sa.select(runs).where(runs.c.id == run_id), "run", run_id))

    async def run_result(self, run_id: str) -> tuple[Run, list[dict[str, Any]]] | None:
        """The run and its messages once it has ended (see ``Store.run_result``)."""
        if self.backend == "postgresql":  # one statement: the run, whether it ended, its messages
            async with self._driver() as pg:
                found = await P.fetch_one(pg, P.RUN_RESULT, (run_id,))
            if found is None:
                raise NotFoundError("run", run_id)
            if not found.pop("result_ended"):
                return None
            result_messages: list[dict[str, Any]] = found.pop("result_messages")
            return to_run(found), result_messages
        async with self._tx(write=False) as conn:
            row = (await conn.execute(sa.select(runs).where(runs.c.id == run_id))).mappings().first()
            if row is None:
                raise NotFoundError("run", run_id)
            ended = await conn.scalar(
                sa.select(events.c.seq).where(events.c.run_id == run_id, events.c.event == "end").limit(1)
            )
            if ended is None:
                return None
            found_messages = await conn.scalars(
                sa.select(events.c.data)
                .where(events.c.run_id == run_id, events.c.event == "message")
                .order_by(events.c.seq)
            )
            return to_run(row), [dict(data) for data in found_messages]

    async def list_runs(self, thread_id: str) -> list[Run]:
        """The thread's runs, oldest first."""
        async with self._tx(write=False) as conn:
            rows = (
                (
                    await conn.execute(
                        sa.select(runs).where(runs.c.thread_id == thread_id).order_by(runs.c.number)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                await self._exists(conn, threads, thread_id, "thread")
        return [to_run(r) for r in rows]

    async def run_task(self, run_id: str) -> list[Mapping[str, Any]] | None:
        """The task messages the run was created with."""
        task: list[Mapping[str, Any]] | None = (
            await self._one(sa.select(runs.c.task).where(runs.c.id == run_id), "run", run_id)
        )["task"]
        return task

    async def run_start(self, run_id: str) -> RunStart:
        """The run's task, the thread's previous run and its state, in one query."""
        if self.backend == "postgresql":
            async with self._driver() as pg:
                found = await P.fetch_one(pg, P.RUN_START, (run_id,))
            if found is None:
                raise NotFoundError("run", run_id)
            before = to_run(found) if found["id"] is not None else None
            return RunStart(
                task=found["start_task"], previous=before, thread_state=found["start_thread_state"]
            )
        row = await self._one(_RUN_START, "run", run_id, {"run_id": run_id})
        prior = None
        if row["p_id"] is not None:
            prior = to_run({c.name: row[f"p_{c.name}"] for c in _PREVIOUS.c})
        return RunStart(task=row["task"], previous=prior, thread_state=row["state"])

    async def claim_run_start(
        self, run_id: str, worker: str, *, stale_before: datetime | None = None
    ) -> tuple[Run, RunStart] | None:
        """Claim the run and read its start (see ``Store.claim_run_start``): one statement on PostgreSQL."""
        if self.backend != "postgresql":
            claimed_run = await self.claim_run(run_id, worker, stale_before=stale_before)
            if claimed_run is None:
                return None
            return claimed_run, await self.run_start(run_id)
        row = await self._claims.claim(run_id, worker, stale_before)  # with the tick's others
        if row is None:
            async with self._driver() as pg:
                if await P.fetch_one(pg, P.RUN_EXISTS, (run_id,)) is None:
                    raise NotFoundError("run", run_id)
            return None
        previous = row["start_previous"]
        start = RunStart(
            task=row["task"],
            previous=to_run(previous) if previous is not None else None,
            thread_state=row["start_thread_state"],
        )
        return to_run(row), start

    async def claim_run(
        self, run_id: str, worker: str, *, stale_before: datetime | None = None
    ) -> Run | None:
        """Atomically move a pending (or stale running) run to running for ``worker``."""
        at = now()
        if self.backend == "postgresql":
            params = {"run": run_id, "worker": worker, "at": at, "stale": stale_before}
            async with self._driver() as pg:
                claimed = await P.fetch_one(pg, P.CLAIM, params)
                if claimed is None and await P.fetch_one(pg, P.RUN_EXISTS, (run_id,)) is None:
                    raise NotFoundError("run", run_id)
            return to_run(claimed) if claimed is not None else None
        query = _CLAIM if stale_before is None else _CLAIM_STALE
        params = {"run_id": run_id, "worker": worker, "at": at, "stale_before": stale_before}
        async with self._tx(single=True) as conn:
            row = (await conn.execute(query, params)).mappings().first()
            if row is None:
                await self._exists(conn, runs, run_id, "run")
                return None
        return to_run(row)

    async def heartbeat(self, run_id: str, worker: str) -> bool:
        """Mark the run alive; ``False`` if ``worker`` no longer holds it."""
        query = (
            sa.update(runs)
            .where(runs.c.id == run_id, runs.c.worker == worker, runs.c.status == RunStatus.RUNNING.value)
            .values(heartbeat_at=now())
        )
        async with self._tx(single=True) as conn:
            if (await conn.execute(query)).rowcount == 1:
                return True
            await self._exists(conn, runs, run_id, "run")
        return False

    async def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        stop_reason: str | None = None,
        error: RunError | None = None,
        worker: str | None = None,
        turn: TurnWrite | None = None,
    ) -> Run:
        """Stop the run with ``status`` and end its event stream (see ``Store.finish_run``)."""
        status = RunStatus(status)
        if status not in _FINAL:
            raise ValueError(f"finish_run: {status} is not a final status (or interrupted)")
        if turn is not None and turn.run_id != run_id:
            raise ValueError(f"finish_run: the turn is run {turn.run_id!r}'s, not {run_id!r}'s")
        if turn is not None and worker is not None:
            turn = replace(turn, worker=worker)  # the turn is refused as the end would be
        if turn is not None and turn.finished and self._by_function(turn):
            # (A last turn that is not ``finished`` leaves the thread's state to the portable
            # path, which adopts the run's last checkpoint.)
            return to_run(await self._one_call(turn, RunEnd(status, stop_reason, error)))
        try:
            async with self._tx() as conn:
                if turn is not None:
                    await record_turn(conn, turn, now())
                row = await self._finish(conn, run_id, status, stop_reason, error, worker)
                if self.job_entrypoint is not None and self.backend == "postgresql":
                    await conn.exec_driver_sql(
                        "SELECT muster_queue_next(%s, %s)", (row["thread_id"], self.job_entrypoint)
                    )
                await self._notify(conn, run_id, ended=True)
                return to_run(row)
        except sa.exc.IntegrityError as exc:
            raise _turn_written(turn) from exc

    async def _finish(
        self,
        conn: AsyncConnection,
        run_id: str,
        status: RunStatus,
        stop_reason: str | None,
        error: RunError | None,
        worker: str | None,
    ) -> sa.RowMapping:
        thread, run = await _runs.lock_thread_and_run(conn, run_id)
        if run["status"] not in _runs.ACTIVE:
            raise ConflictError(f"run {run_id!r} is already {run['status']}")
        if worker is not None and run["worker"] != worker:
            raise ConflictError(f"run {run_id!r} is held by {run['worker']!r}, not {worker!r}")
        return await _runs.finish_run(conn, thread, run, status, now(), stop_reason=stop_reason, error=error)

    async def release_run(self, run_id: str, worker: str) -> bool:
        """Give a running run back to ``pending`` (SIGTERM drain); ``False`` if not held."""
        query = (
            sa.update(runs)
            .where(runs.c.id == run_id, runs.c.worker == worker, runs.c.status == RunStatus.RUNNING.value)
            .values(status=RunStatus.PENDING.value, heartbeat_at=None, updated_at=now())
        )
        async with self._tx(single=True) as conn:
            if (await conn.execute(query)).rowcount == 1:
                await self._notify(conn, run_id)  # autocommit: right after the release
                return True
            await self._exists(conn, runs, run_id, "run")
        return False

    async def _notify(self, conn: AsyncConnection, run_id: str, *, ended: bool = False) -> None:
        """Tell ``notify_channel`` of the write, at its commit (nothing without a channel)."""
        if self.notify_channel is not None:
            await conn.exec_driver_sql(NOTIFY, (self.notify_channel, payload(run_id, ended)))

    async def request_stop(self, run_id: str, reason: str) -> Run:
        """Stop a pending run now, or ask a running one to stop at its next boundary."""
        if reason == STOP_ROLLBACK:
            raise ValueError("request_stop: a rollback drops the run's work at once; call rollback_run")
        at = now()
        async with self._tx() as conn:
            thread, run = await _runs.lock_thread_and_run(conn, run_id)
            if run["status"] == RunStatus.PENDING:
                row = await _runs.stop_pending_run(conn, thread, run, reason, at)
            elif run["status"] == RunStatus.RUNNING:
                asked = (
                    sa.update(runs).where(runs.c.id == run_id).values(stop_requested=reason, updated_at=at)
                )
                row = (await conn.execute(asked.returning(*runs.c))).mappings().one()
            else:
                raise ConflictError(f"run {run_id!r} is already {run['status']}")
        return to_run(row)

    async def stop_requested(self, run_id: str) -> str | None:
        """The reason a stop was asked for, or ``None``."""
        reason: str | None = (
            await self._one(sa.select(runs.c.stop_requested).where(runs.c.id == run_id), "run", run_id)
        )["stop_requested"]
        return reason

    async def rollback_run(self, run_id: str) -> Run:
        """Drop what the run did and cancel it (see ``Store.rollback_run``)."""
        async with self._tx() as conn:
            thread, run = await _runs.lock_thread_and_run(conn, run_id)
            row = await _runs.rollback_run(conn, thread, run, now())
        return to_run(row)

    async def pending_runs(self) -> list[Run]:
        """Pending runs, oldest first."""
        query = (
            sa.select(runs)
            .where(runs.c.status == RunStatus.PENDING.value)
            .order_by(runs.c.created_at, runs.c.number)
        )
        async with self._tx(write=False) as conn:
            return [to_run(r) for r in (await conn.execute(query)).mappings()]

    async def stale_runs(self, older_than: datetime) -> list[Run]:
        """Running runs whose heartbeat is older than ``older_than``."""
        query = (
            sa.select(runs)
            .where(runs.c.status == RunStatus.RUNNING.value, runs.c.heartbeat_at < older_than)
            .order_by(runs.c.created_at)
        )
        async with self._tx(write=False) as conn:
            return [to_run(r) for r in (await conn.execute(query)).mappings()]

    async def worker_heartbeat(self, name: str, *, forget_before: datetime | None = None) -> None:
        """Record that the worker ``name`` is alive now (see ``Store.worker_heartbeat``)."""
        at = now()
        async with self._tx() as conn:
            if forget_before is not None:
                await conn.execute(sa.delete(workers).where(workers.c.heartbeat_at < forget_before))
            beat = sa.update(workers).where(workers.c.name == name).values(heartbeat_at=at)
            if (await conn.execute(beat)).rowcount == 0:
                await conn.execute(sa.insert(workers).values(name=name, started_at=at, heartbeat_at=at))

    async def worker_stopped(self, name: str) -> None:
        """Forget the worker ``name`` (see ``Store.worker_stopped``)."""
        async with self._tx(single=True) as conn:
            await conn.execute(sa.delete(workers).where(workers.c.name == name))

    async def worker_counts(self, stalled_before: datetime) -> tuple[int, int, int]:
        """Workers online, offline and busy (see ``Store.worker_counts``)."""
        alive = workers.c.heartbeat_at >= stalled_before
        busy = sa.exists().where(runs.c.worker == workers.c.name, runs.c.status == RunStatus.RUNNING.value)
        query = sa.select(
            sa.func.count().filter(alive),
            sa.func.count().filter(~alive),
            sa.func.count().filter(alive & busy),
        ).select_from(workers)
        async with self._tx(write=False) as conn:
            online, offline, working = (await conn.execute(query)).one()
        return int(online), int(offline), int(working)

    async def queue_depth(self) -> int:
        """How many runs are pending."""
        async with self._tx(write=False) as conn:
            depth = await conn.scalar(
                sa.select(sa.func.count()).select_from(runs).where(runs.c.status == RunStatus.PENDING.value)
            )
        return int(depth or 0)

    async def run_counts(self) -> dict[RunStatus, int]:
        """How many runs are in each status (zeros included)."""
        counts = dict.fromkeys(RunStatus, 0)
        async with self._tx(write=False) as conn:
            for status, count in await conn.execute(
                sa.select(runs.c.status, sa.func.count()).group_by(runs.c.status)
            ):
                counts[RunStatus(status)] = int(count)
        return counts

    # ------------------------------------------------------------ durable turns

    async def record_turn(self, write: TurnWrite) -> str | None:
        """Write one turn boundary atomically (see ``Store.record_turn``)."""
        if self._by_function(write):
            stop: str | None = (await self._one_call(write))["stop_requested"]
            return stop
        try:
            async with self._tx() as conn:
                requested = await record_turn(conn, write, now())
                await self._notify(conn, write.run_id)
                return requested
        except sa.exc.IntegrityError as exc:
            raise _turn_written(write) from exc

    def _by_function(self, write: TurnWrite) -> bool:
        """Whether the turn is one call of PostgreSQL's ``muster_turn`` (``_pgturns.py``).

        Not a last turn that brings only a delta: the thread's new state must then be
        rebuilt from stored checkpoints first (the portable path does that).
        """
        return self.backend == "postgresql" and not (write.finished and write.state is None)

    async def _one_call(self, write: TurnWrite, end: RunEnd | None = None) -> dict[str, Any]:
        failure: BaseException | None = None
        try:
            async with self._driver() as pg:  # the call is its own transaction
                entrypoint = self.job_entrypoint if end is not None else None
                row = await write_turn(pg, write, now(), end, self.notify_channel, entrypoint)
                if row is None:
                    raise _Refused
                return row
        except _Refused:
            pass
        except sa.exc.IntegrityError as exc:  # a turn stored twice; a delta without its base
            failure = exc.orig
        async with self._tx(write=False) as conn:
            run = (await conn.execute(sa.select(runs).where(runs.c.id == write.run_id))).mappings().first()
        raise refusal(write, run, failure)

    async def latest_checkpoint(self, run_id: str) -> Checkpoint | None:
        """The last turn written for the run and the full state there."""
        async with self._tx(write=False) as conn:
            checkpoint = await rebuild_state(conn, run_id)
            if checkpoint is None:
                await self._exists(conn, runs, run_id, "run")
        return checkpoint

    async def read_events(self, run_id: str, *, after: int = 0, limit: int = 1000) -> list[EventRecord]:
        """The run's events with ``seq > after``, in order."""
        _check_page(after, limit)
        if self.backend == "postgresql":
            async with self._driver() as pg:
                found_events = await P.fetch_all(pg, P.EVENTS_AFTER, (run_id, after, limit))
                if not found_events and await P.fetch_one(pg, P.RUN_EXISTS, (run_id,)) is None:
                    raise NotFoundError("run", run_id)
            return [to_event(r) for r in found_events]
        query = (
            sa.select(events)
            .where(events.c.run_id == run_id, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        async with self._tx(write=False) as conn:
            rows = (await conn.execute(query)).mappings().all()
            if not rows:
                await self._exists(conn, runs, run_id, "run")
        return [to_event(r) for r in rows]

    async def get_model_response(self, run_id: str, key: str) -> Mapping[str, Any] | None:
        """The response recorded for this run under ``key``, if any."""
        query = sa.select(model_responses.c.response).where(
            model_responses.c.run_id == run_id, model_responses.c.key == key
        )
        async with self._tx(write=False) as conn:
            response: Mapping[str, Any] | None = await conn.scalar(query)
        return response

    async def put_model_response(self, run_id: str, key: str, response: Mapping[str, Any]) -> None:
        """Record a response; the first one recorded under a key wins."""
        try:
            if self.backend == "postgresql":
                async with self._driver() as pg:
                    await pg.execute(P.PUT_RESPONSE, (run_id, key, json.dumps(plain(response)), now()))
                return
            query = (
                sqlite_insert(model_responses)
                .values(run_id=run_id, key=key, response=plain(response), created_at=now())
                .on_conflict_do_nothing(index_elements=["run_id", "key"])
            )
            async with self._tx(single=True) as conn:
                await conn.execute(query)
        except sa.exc.IntegrityError as exc:
            raise NotFoundError("run", run_id) from exc

    # ------------------------------------------------------------ retention

    async def prune(self, finished_before: datetime) -> int:
        """Delete events, checkpoints and recorded responses of runs finished before the date."""
        finished = sa.select(runs.c.id).where(runs.c.finished_at < finished_before)
        deleted = 0
        async with self._tx() as conn:
            for table in (events, checkpoints, model_responses):
                result = await conn.execute(sa.delete(table).where(table.c.run_id.in_(finished)))
                deleted += result.rowcount
        return deleted


class _Refused(Exception):
    """The run refused the write (``muster_turn`` wrote nothing): explain why."""


def _turn_written(write: TurnWrite | None) -> ConflictError:
    if write is None:  # pragma: no cover - only a turn's rows can collide
        return ConflictError("the write collided with a stored row")
    return ConflictError(f"run {write.run_id!r}: turn {write.turn} is already written")


def _check_page(after: int, limit: int) -> None:
    if after < 0:
        raise InvalidRequestError(f"must be 0 or more, got {after}", field="after")
    if limit < 1:
        raise InvalidRequestError(f"must be 1 or more, got {limit}", field="limit")


if TYPE_CHECKING:

    def _conforms(store: SqlStore) -> Store:
        return store  # mypy checks every method against the protocol
