"""SQLite on the event loop's own thread, in the shape SQLAlchemy's aiosqlite dialect drives.

aiosqlite runs every call (each statement, fetch, commit) on a thread of its own and hands
the result back through the event loop: two cross-thread wake-ups per call. On the 2-core
machine the benchmarks run on, that cost about 0.6 ms of CPU per statement, against
about 10 us for the statement itself in ``sqlite3`` (a run writes some 40), and made the
embedded default four times as costly per run as PostgreSQL. SQLite is a library, not a
server: a statement on a local file takes microseconds, so the store runs it where it is
called, on the loop's thread, and no call ever waits for another thread.

What keeps that safe is that nothing on the loop waits for SQLite's lock:

- In-process writers are queued in asyncio before they take it (``SqlDatabase._tx``
  holds an ``asyncio.Lock`` around every write transaction), so a transaction that awaits
  something between its statements never leaves another one of this process spinning in
  ``busy_timeout`` on the loop's thread, which would stall the first one for good.
- Readers never wait: the database is in WAL mode (readers see the last commit).
- Another process's write (``muster keys create`` beside a running server) makes a writer
  here wait up to ``busy_timeout``, as long as that process's transaction lasts
  (milliseconds), on the loop's thread: the one stall this design accepts.

SQLAlchemy's ``sqlite+aiosqlite`` dialect takes any connection factory
(``async_creator``); :func:`connect` gives it :class:`InlineConnection`, which has the
parts of aiosqlite's connection the dialect uses (its coroutines, ``isolation_level``,
and the ``_conn`` and ``_tx`` it reaches into to set the isolation level).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self

__all__ = ["InlineConnection", "InlineCursor", "connect"]


class InlineCursor:
    """An ``sqlite3`` cursor behind aiosqlite's coroutine methods."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Self:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Self:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """Stands in for aiosqlite's request queue: the call runs as it is put."""

    __slots__ = ()

    @staticmethod
    def put_nowait(item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)


class InlineConnection:
    """An ``sqlite3`` connection behind aiosqlite's coroutine methods (see the module docstring)."""

    _tx = _RunNow()

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn: sqlite3.Connection | None = connection

    @property
    def _connection(self) -> sqlite3.Connection | None:  # the dialect checks it before commit
        return self._conn

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._live().isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:  # sqlite3 checks it: None or a BEGIN mode
        self._live().isolation_level = value

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._live().cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        return InlineCursor(self._live().execute(sql, parameters))

    async def commit(self) -> None:
        self._live().commit()

    async def rollback(self) -> None:
        self._live().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._live().create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close now (the dialect's forced termination)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def connect(database: str, **kwargs: Any) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: opens ``database`` with ``sqlite3``.

    ``kwargs`` go to :func:`sqlite3.connect`. ``check_same_thread`` is off: SQLAlchemy's
    pool may close a connection from another thread (at interpreter exit).
    """

    async def create() -> InlineConnection:
        return InlineConnection(sqlite3.connect(database, check_same_thread=False, **kwargs))

    return create
