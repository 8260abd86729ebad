"""``SqlDatabase``: the engine, its lifecycle, and the one transaction helper every store method uses.

:meth:`SqlDatabase._tx` is the one place where a database that cannot be reached becomes
:class:`~muster.service.exceptions.StoreUnavailableError`; ``_engine.py`` holds what differs
between the backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..exceptions import NotFoundError, ServiceError, StoreUnavailableError
from ..settings import DatabaseSettings, ServiceSettings
from ._engine import WRITE, create_engine, is_unavailable, unavailable
from .migrate import check_current, upgrade

__all__ = ["SqlDatabase"]


class SqlDatabase:
    """A connection pool to SQLite (a file) or PostgreSQL, with the schema checked on open.

    The base of :class:`~muster.service.store.sql.SqlStore` (its arguments are documented there).
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
        self._idle: list[_Held] = []
        """Autocommit connections :meth:`_driver` keeps out of the pool between calls."""
        limit = pool_size + max_overflow
        hot = limit - max(1, limit // 4)  # a quarter of the pool stays for the other paths
        self._hot: asyncio.Semaphore | None = asyncio.Semaphore(hot) if hot > 0 else None
        """How many connections the hot path may hold (first come, first served); ``None``:
        a pool too small to spare any, each call checks one out and gives it back."""
        self._closing = False
        self._writer = asyncio.Lock()
        """SQLite: this process's write transactions, one at a time (``_sqlite_inline.py``)."""

    @classmethod
    def from_settings(cls, settings: ServiceSettings | DatabaseSettings, **kwargs: Any) -> Self:
        """A store for the configured database (``settings`` or ``settings.database``)."""
        database = settings.database if isinstance(settings, ServiceSettings) else settings
        kwargs.setdefault("pool_size", database.pool_size)
        kwargs.setdefault("max_overflow", database.max_overflow)
        return cls(database.url, schema=database.schema_name, **kwargs)

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (for migrations and tests)."""
        return self._engine

    # ------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Upgrade (SQLite) or check (PostgreSQL) the schema; raises if the database is not there."""
        self._closing = False
        if self.backend == "sqlite":
            _check_sqlite_folder(self._engine.url.database or "")
        if self._upgrade:
            await upgrade(self._engine)
        else:
            await check_current(self._engine)

    async def close(self) -> None:
        """Close every pooled connection."""
        self._closing = True  # a call still running gives its connection back, not to the stack
        idle, self._idle = self._idle, []
        await self._give_back(idle, healthy=True)
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
    async def _tx(self, *, write: bool = True, single: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction; on PostgreSQL, in autocommit for a read or a lone write.

        A read is one or two statements that each see committed data, and a ``single``
        write is one statement (atomic by itself, its follow-up only a read), so on
        PostgreSQL they run without BEGIN and COMMIT: one round trip per statement
        instead of three, and most of the statements a run costs are such. On SQLite,
        whose statements run on the loop's thread, this process's write transactions
        take turns on an ``asyncio.Lock`` before SQLite's own lock, so none of them ever
        waits for it on the loop while another one, holding it, waits to be resumed.
        """
        if write and self.backend == "sqlite":
            if _writing.get():
                raise RuntimeError("a SQLite write transaction inside another would wait for itself")
            async with self._writer:
                token = _writing.set(True)
                try:
                    async with self._transaction(write=write, single=single) as conn:
                        yield conn
                finally:
                    _writing.reset(token)
            return
        async with self._transaction(write=write, single=single) as conn:
            yield conn

    @asynccontextmanager
    async def _transaction(self, *, write: bool, single: bool) -> AsyncIterator[AsyncConnection]:
        with _Translated():
            async with self._engine.connect() as conn:
                if self.backend == "postgresql" and (single or not write):
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    yield conn
                    return
                if write:
                    await conn.execution_options(**{WRITE: True})
                async with conn.begin():
                    yield conn

    @asynccontextmanager
    async def _driver(self) -> AsyncIterator[Any]:
        """A psycopg connection in autocommit, for one call of the hot paths (PostgreSQL).

        Each statement sent on it is its own transaction (a read, a lone write, or a
        PL/pgSQL function that is one). The hot path holds up to three quarters of the
        pool's connections out of SQLAlchemy's pool, idle between calls, because checking
        a connection out of an async engine and back costs about twice the CPU of the call
        itself here (greenlet hops, events, the isolation level set and reset), and a run
        makes several calls. Callers beyond that wait their turn on a semaphore, first
        come, first served; the rest of the pool serves the other paths, which therefore
        never wait behind the hot path. A connection that broke, or is left inside a
        transaction or a statement (a cancelled call), is dropped from the pool.
        """
        if self._hot is None:
            held = await self._checkout()
            try:
                with _Translated():
                    yield held.pg
            finally:
                await self._give_back([held], healthy=_healthy(held.pg))
            return
        async with self._hot:
            held = self._idle.pop() if self._idle else await self._checkout()
            try:
                with _Translated():
                    yield held.pg
            finally:
                await self._put_back(held)

    async def _checkout(self) -> _Held:
        with _Translated():
            return await self._open_autocommit()

    async def _open_autocommit(self) -> _Held:
        # Entered and left as SQLAlchemy's context manager, whose exit closes the connection
        # in a task of its own: closing it in the caller's task instead (``await
        # conn.close()``) left other connections' results unread under load (100 calls in
        # flight, overflow connections opened and closed: every connection of the pool was
        # soon held by a call waiting for a result PostgreSQL had already sent).
        exits = contextlib.AsyncExitStack()
        try:
            conn = await exits.enter_async_context(self._engine.connect())
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            pg = (await conn.get_raw_connection()).driver_connection
        except BaseException:
            with contextlib.suppress(Exception):
                await exits.aclose()
            raise
        return _Held(conn, pg, exits)

    async def _put_back(self, held: _Held) -> None:
        """Keep ``held`` for the next call; drop it if it broke (and, then, the idle ones too)."""
        pg = held.pg
        if _healthy(pg) and not self._closing:
            self._idle.append(held)
            return
        dropped = [held]
        if pg.broken or pg.closed:  # the server went away, most likely: the idle ones are dead too
            dropped += self._idle
            self._idle = []
        await self._give_back(dropped, healthy=False)

    @staticmethod
    async def _give_back(connections: list[_Held], *, healthy: bool) -> None:
        for each in connections:
            with contextlib.suppress(Exception):  # the caller's error, if any, is what counts
                if not healthy:
                    await each.conn.invalidate()  # closed at once, never reset or pooled again
                await each.exits.aclose()

    @staticmethod
    @asynccontextmanager
    async def _driver_of(conn: AsyncConnection) -> AsyncIterator[Any]:
        """``conn``'s psycopg connection; one that broke under it is dropped from the pool.

        SQLAlchemy learns that a connection died from its own statements only: one that
        died under a statement sent through psycopg directly is invalidated here, so the
        pool neither tries to reset it (an error in the logs) nor hands it out again.
        """
        pg: Any = (await conn.get_raw_connection()).driver_connection
        try:
            yield pg
        except BaseException:
            if pg.broken or pg.closed:
                await conn.invalidate()
            raise

    async def _one(
        self, query: sa.Select[Any], kind: str, ident: str, params: dict[str, Any] | None = None
    ) -> sa.RowMapping:
        async with self._tx(write=False) as conn:
            row: sa.RowMapping | None = (await conn.execute(query, params)).mappings().first()
        if row is None:
            raise NotFoundError(kind, ident)
        return row

    @staticmethod
    async def _exists(conn: AsyncConnection, table: sa.Table, ident: str, kind: str) -> None:
        if await conn.scalar(sa.select(table.c.id).where(table.c.id == ident)) is None:
            raise NotFoundError(kind, ident)


@dataclass(frozen=True, slots=True)
class _Held:
    """A connection :meth:`SqlDatabase._driver` holds out of the pool, and how to give it back."""

    conn: AsyncConnection
    pg: Any
    """The connection's psycopg connection."""
    exits: contextlib.AsyncExitStack
    """Leaving it gives the connection back to the pool."""


_writing: ContextVar[bool] = ContextVar("muster_sqlite_writing", default=False)
"""Set while this task holds :attr:`SqlDatabase._writer`: a nested write would deadlock."""

_IDLE = 0
"""libpq's ``PQTRANS_IDLE``: no transaction open and no statement running."""


class _Translated:
    """Raises :func:`_service_error`'s translation of an error leaving the block (else lets it be).

    A class rather than a generator: its ``__exit__`` never swallows, and says so to mypy.
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, Exception):
            error = _service_error(exc)
            if error is not exc:
                raise error from exc


def _healthy(pg: Any) -> bool:
    """Whether a psycopg connection can serve the next call as it is."""
    return not (pg.broken or pg.closed) and pg.info.transaction_status == _IDLE


def _service_error(exc: Exception) -> Exception:
    """What a store call raises for ``exc``: the same types whichever way the SQL went.

    A statement sent through psycopg directly (``_pgpaths.py``) that breaks a constraint
    raises SQLAlchemy's ``IntegrityError``, as the others do, so callers handle one type;
    a database that cannot be reached is ``StoreUnavailableError``; anything else as is.
    """
    if isinstance(exc, ServiceError | sa.exc.IntegrityError):
        return exc
    if _is_driver_integrity_error(exc):
        return sa.exc.IntegrityError(None, None, exc)
    if is_unavailable(exc):
        return unavailable(exc)
    return exc


def _is_driver_integrity_error(exc: BaseException) -> bool:
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.IntegrityError)


def _check_sqlite_folder(database: str) -> None:
    # Checked here rather than left to the driver: aiosqlite's failed connect leaves its
    # worker thread finishing after the caller moved on (an error logged at shutdown).
    folder = Path(database).resolve().parent
    if not folder.is_dir():
        raise StoreUnavailableError(f"the database is unavailable: folder {folder} does not exist")
