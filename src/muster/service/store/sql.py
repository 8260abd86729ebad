"""``SqlStore``: the :class:`~muster.service.store.base.Store` on SQLAlchemy 2 async Core.

One class for both backends (``_engine.py`` holds what differs). Every method is one
transaction opened by :meth:`SqlStore._tx`, the one place where a database that cannot
be reached becomes :class:`~muster.service.exceptions.StoreUnavailableError`. The
multi-statement steps of a run's life live in ``_runs.py`` and ``_turns.py``; the methods
here open the transaction, call them, and turn rows into resources.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..exceptions import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    StoreUnavailableError,
)
from ..models import (
    ApiKey,
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
from ..settings import DatabaseSettings, ServiceSettings
from . import _runs
from ._checkpoints import rebuild_state
from ._engine import WRITE, create_engine, is_unavailable, unavailable
from ._rows import (
    canonical_digest,
    new_id,
    now,
    plain,
    to_api_key,
    to_event,
    to_message,
    to_run,
    to_spec,
    to_thread,
)
from ._turns import record_turn
from .base import STOP_ROLLBACK, Checkpoint, TurnWrite
from .keys import check_secret, digest_matches, generate_secret, hash_secret, key_prefix
from .migrate import check_current, upgrade
from .tables import api_keys, checkpoints, events, messages, model_responses, runs, specs, threads

__all__ = ["SqlStore"]

_SPEC_LOCK_SPACE = 0x6D73_7063  # "mspc": the advisory-lock space of spec names

_FINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED})


class SqlStore:
    """The store on SQLite (a file) or PostgreSQL.

    Args:
        url: ``sqlite:///path.db`` or ``postgresql://user@host/db`` (drivers chosen for you).
        schema: PostgreSQL schema holding the tables (``database.schema``).
        upgrade: Upgrade the schema in :meth:`open`; by default on SQLite only. On
            PostgreSQL, :meth:`open` otherwise refuses a database whose schema is behind
            (``SchemaOutOfDateError``: run ``muster db upgrade``).
        pool_size: Connections kept open (plus ``max_overflow`` more under load).
    """

    def __init__(
        self,
        url: str | SecretStr,
        *,
        schema: str | None = None,
        upgrade: bool | None = None,
        pool_size: int = 10,
        max_overflow: int = 20,
    ) -> None:
        raw = url.get_secret_value() if isinstance(url, SecretStr) else url
        self._engine: AsyncEngine = create_engine(
            raw, schema=schema, pool_size=pool_size, max_overflow=max_overflow
        )
        self.backend: str = self._engine.dialect.name
        """``"sqlite"`` or ``"postgresql"``."""
        self._upgrade = self.backend == "sqlite" if upgrade is None else upgrade

    @classmethod
    def from_settings(cls, settings: ServiceSettings | DatabaseSettings, **kwargs: Any) -> SqlStore:
        """A store for the configured database (``settings`` or ``settings.database``)."""
        database = settings.database if isinstance(settings, ServiceSettings) else settings
        return cls(database.url, schema=database.schema_name, **kwargs)

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (for migrations and tests)."""
        return self._engine

    # ------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Upgrade (SQLite) or check (PostgreSQL) the schema; raises if the database is not there."""
        if self.backend == "sqlite":
            _check_sqlite_folder(self._engine.url.database or "")
        if self._upgrade:
            await upgrade(self._engine)
        else:
            await check_current(self._engine)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the database answers now.

        A pooled connection the database dropped (it restarted) fails once and is
        discarded; the second try, on a new connection, tells whether it is back.
        """
        for attempt in (1, 2):
            try:
                async with self._engine.connect() as conn:
                    await conn.exec_driver_sql("SELECT 1")
                return
            except sa.exc.DBAPIError as exc:
                if attempt == 1 and exc.connection_invalidated:
                    continue
                raise unavailable(exc) from exc
            except Exception as exc:
                if is_unavailable(exc):
                    raise unavailable(exc) from exc
                raise

    @asynccontextmanager
    async def _tx(self, *, write: bool = True) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                if write:
                    await conn.execution_options(**{WRITE: True})
                async with conn.begin():
                    yield conn
        except (ServiceError, sa.exc.IntegrityError):
            raise
        except Exception as exc:
            if is_unavailable(exc):
                raise unavailable(exc) from exc
            raise

    async def _one(self, query: sa.Select[Any], kind: str, ident: str) -> sa.RowMapping:
        async with self._tx(write=False) as conn:
            row: sa.RowMapping | None = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFoundError(kind, ident)
        return row

    # ------------------------------------------------------------ specs

    async def put_spec(self, name: str, component: Mapping[str, Any]) -> SpecRecord:
        """Store ``component`` under ``name``: a new version if it differs from the latest."""
        if not name or len(name) > 200:
            raise InvalidRequestError("a spec name has 1 to 200 characters", field="name")
        body, digest = plain(component), canonical_digest(component)
        for _ in range(5):  # a concurrent put of the same name took the version: look again
            try:
                async with self._tx() as conn:
                    if self.backend == "postgresql":  # puts of one name queue instead of colliding
                        await conn.execute(
                            sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
                            {"space": _SPEC_LOCK_SPACE, "name": name},
                        )
                    latest = (
                        (
                            await conn.execute(
                                sa.select(specs)
                                .where(specs.c.name == name)
                                .order_by(specs.c.version.desc())
                                .limit(1)
                            )
                        )
                        .mappings()
                        .first()
                    )
                    if latest is not None and latest["digest"] == digest:
                        return to_spec(latest)
                    row = {
                        "name": name,
                        "version": (latest["version"] + 1) if latest is not None else 1,
                        "component": body,
                        "digest": digest,
                        "created_at": now(),
                    }
                    await conn.execute(sa.insert(specs).values(row))
                return to_spec(row)
            except sa.exc.IntegrityError:
                continue
        raise ConflictError(f"spec {name!r} is being written concurrently; retry", field="name")

    async def get_spec(self, name: str, version: int | None = None) -> SpecRecord:
        """The latest (or the given) version of spec ``name``."""
        query = sa.select(specs).where(specs.c.name == name)
        if version is None:
            query = query.order_by(specs.c.version.desc()).limit(1)
        else:
            query = query.where(specs.c.version == version)
        ident = name if version is None else f"{name}@{version}"
        return to_spec(await self._one(query, "spec", ident))

    async def list_specs(self) -> list[SpecRecord]:
        """The latest version of every spec, by name."""
        latest = sa.select(specs.c.name, sa.func.max(specs.c.version).label("version")).group_by(specs.c.name)
        latest_sq = latest.subquery()
        query = (
            sa.select(specs)
            .join(
                latest_sq, sa.and_(specs.c.name == latest_sq.c.name, specs.c.version == latest_sq.c.version)
            )
            .order_by(specs.c.name)
        )
        async with self._tx(write=False) as conn:
            return [to_spec(r) for r in (await conn.execute(query)).mappings()]

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
        async with self._tx() as conn:
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

    @staticmethod
    async def _exists(conn: AsyncConnection, table: sa.Table, ident: str, kind: str) -> None:
        if await conn.scalar(sa.select(table.c.id).where(table.c.id == ident)) is None:
            raise NotFoundError(kind, ident)

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
    ) -> Run:
        """Add a pending run, applying ``strategy`` atomically (see ``Store.create_run``)."""
        try:
            async with self._tx() as conn:
                row = await _runs.create_run(
                    conn, thread_id, spec, task, strategy, now(), max_queue=max_queue, metadata=metadata
                )
        except sa.exc.IntegrityError as exc:
            raise NotFoundError("spec", f"{spec.name}@{spec.version}") from exc
        return to_run(row)

    async def get_run(self, run_id: str) -> Run:
        """The run (``NotFoundError`` if there is none)."""
        return to_run(await self._one(sa.select(runs).where(runs.c.id == run_id), "run", run_id))

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

    async def claim_run(
        self, run_id: str, worker: str, *, stale_before: datetime | None = None
    ) -> Run | None:
        """Atomically move a pending (or stale running) run to running for ``worker``."""
        at = now()
        claimable = runs.c.status == RunStatus.PENDING.value
        if stale_before is not None:
            claimable = claimable | (
                (runs.c.status == RunStatus.RUNNING.value) & (runs.c.heartbeat_at < stale_before)
            )
        query = (
            sa.update(runs)
            .where(runs.c.id == run_id, claimable)
            .values(
                status=RunStatus.RUNNING.value,
                worker=worker,
                attempt=sa.case((runs.c.started_at.is_(None), runs.c.attempt), else_=runs.c.attempt + 1),
                started_at=sa.func.coalesce(runs.c.started_at, at),
                heartbeat_at=at,
                updated_at=at,
            )
            .returning(*runs.c)
        )
        async with self._tx() as conn:
            row = (await conn.execute(query)).mappings().first()
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
        async with self._tx() as conn:
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
    ) -> Run:
        """Stop the run with ``status`` and end its event stream (see ``Store.finish_run``)."""
        status = RunStatus(status)
        if status not in _FINAL:
            raise ValueError(f"finish_run: {status} is not a final status (or interrupted)")
        async with self._tx() as conn:
            thread, run = await _runs.lock_thread_and_run(conn, run_id)
            if run["status"] not in _runs.ACTIVE:
                raise ConflictError(f"run {run_id!r} is already {run['status']}")
            if worker is not None and run["worker"] != worker:
                raise ConflictError(f"run {run_id!r} is held by {run['worker']!r}, not {worker!r}")
            row = await _runs.finish_run(
                conn, thread, run, status, now(), stop_reason=stop_reason, error=error
            )
        return to_run(row)

    async def release_run(self, run_id: str, worker: str) -> bool:
        """Give a running run back to ``pending`` (SIGTERM drain); ``False`` if not held."""
        query = (
            sa.update(runs)
            .where(runs.c.id == run_id, runs.c.worker == worker, runs.c.status == RunStatus.RUNNING.value)
            .values(status=RunStatus.PENDING.value, heartbeat_at=None, updated_at=now())
        )
        async with self._tx() as conn:
            if (await conn.execute(query)).rowcount == 1:
                return True
            await self._exists(conn, runs, run_id, "run")
        return False

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

    async def record_turn(self, write: TurnWrite) -> None:
        """Write one turn boundary atomically (see ``Store.record_turn``)."""
        try:
            async with self._tx() as conn:
                await record_turn(conn, write, now())
        except sa.exc.IntegrityError as exc:
            raise ConflictError(f"run {write.run_id!r}: turn {write.turn} is already written") from exc

    async def latest_checkpoint(self, run_id: str) -> Checkpoint | None:
        """The last turn written for the run and the full state there."""
        async with self._tx(write=False) as conn:
            checkpoint = await rebuild_state(conn, run_id)
            if checkpoint is None:
                await self._exists(conn, runs, run_id, "run")
        return checkpoint

    async def read_events(self, run_id: str, *, after: int = 0, limit: int = 1000) -> list[EventRecord]:
        """The run's events with ``seq > after``, in order."""
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
        insert = pg_insert if self.backend == "postgresql" else sqlite_insert
        query = (
            insert(model_responses)
            .values(run_id=run_id, key=key, response=plain(response), created_at=now())
            .on_conflict_do_nothing(index_elements=["run_id", "key"])
        )
        try:
            async with self._tx() as conn:
                await conn.execute(query)
        except sa.exc.IntegrityError as exc:
            raise NotFoundError("run", run_id) from exc

    # ------------------------------------------------------------ API keys

    async def create_api_key(self, name: str, secret: str | None = None) -> tuple[ApiKey, str]:
        """Store a key, hashed; returns it and its secret (shown to the caller once)."""
        if not name or len(name) > 200:
            raise InvalidRequestError("a key name has 1 to 200 characters", field="name")
        secret = generate_secret() if secret is None else check_secret(secret)
        row = {
            "id": new_id(),
            "name": name,
            "prefix": key_prefix(secret),
            "hash": hash_secret(secret),
            "created_at": now(),
            "revoked_at": None,
        }
        try:
            async with self._tx() as conn:
                await conn.execute(sa.insert(api_keys).values(row))
        except sa.exc.IntegrityError as exc:
            raise ConflictError("an API key with this secret already exists", field="secret") from exc
        return to_api_key(row), secret

    async def verify_api_key(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or ``None``."""
        query = sa.select(api_keys).where(
            api_keys.c.prefix == key_prefix(secret), api_keys.c.revoked_at.is_(None)
        )
        async with self._tx(write=False) as conn:
            candidates = (await conn.execute(query)).mappings().all()
        for row in candidates:
            if digest_matches(secret, row["hash"]):
                return to_api_key(row)
        return None

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key (revoking twice keeps the first date)."""
        async with self._tx() as conn:
            await conn.execute(
                sa.update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
            row = (await conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id))).mappings().first()
        if row is None:
            raise NotFoundError("api key", key_id)
        return to_api_key(row)

    async def list_api_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        async with self._tx(write=False) as conn:
            rows = (await conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at))).mappings()
            return [to_api_key(r) for r in rows]

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


def _check_sqlite_folder(database: str) -> None:
    # Checked here rather than left to the driver: aiosqlite's failed connect leaves its
    # worker thread finishing after the caller moved on (an error logged at shutdown).
    folder = Path(database).resolve().parent
    if not folder.is_dir():
        raise StoreUnavailableError(f"the database is unavailable: folder {folder} does not exist")
