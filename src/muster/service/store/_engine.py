"""Engines for the two backends, and the one place database failures become service errors.

- SQLite through SQLAlchemy's aiosqlite dialect, on ``sqlite3`` run inline
  (``_sqlite_inline.py``): a file (an in-memory database would be a different database
  on every pooled connection), WAL so readers never wait for the writer, foreign keys on,
  and a ``busy_timeout`` so a writer waits for the lock instead of failing. Write
  transactions start with ``BEGIN IMMEDIATE``: taking the write lock up front means two
  writers queue instead of both reading and then one failing to upgrade its lock.
- PostgreSQL through psycopg 3 (``postgresql://`` and ``postgres://`` URLs are mapped to
  ``postgresql+psycopg://``); an optional schema is put on the connection's
  ``search_path``, so the unqualified tables resolve there.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ..exceptions import StoreUnavailableError
from ._sqlite_inline import connect as inline_connect

__all__ = ["WRITE", "async_url", "check_schema_name", "create_engine", "is_unavailable", "unavailable"]

WRITE = "muster_write"
"""Execution option marking a connection whose transactions write (SQLite: BEGIN IMMEDIATE)."""

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_schema_name(schema: str) -> str:
    """Return ``schema`` if it is a plain lower-case identifier (it is spliced into SQL).

    Raises:
        ValueError: anything else.
    """
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"database.schema {schema!r}: use lower-case letters, digits and '_' (at most 63)")
    return schema


def async_url(url: str | sa.URL) -> sa.URL:
    """The URL with the async driver muster uses for its backend.

    Raises:
        ValueError: a backend other than SQLite or PostgreSQL, or an in-memory SQLite.
    """
    parsed = sa.make_url(url) if isinstance(url, str) else url
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("database.url: SQLite needs a file (sqlite:///path/to/muster.db)")
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"database.url: unsupported backend {backend!r} (use sqlite:/// or postgresql://)")


def create_engine(
    url: str | sa.URL,
    *,
    schema: str | None = None,
    pool_size: int = 10,
    max_overflow: int = 20,
    busy_timeout_ms: int = 15_000,
    connect_timeout: float = 5.0,
) -> AsyncEngine:
    """An async engine for ``url`` configured as the module docstring says."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        # Statements run on the event loop's thread (``_sqlite_inline.py`` says why and
        # what keeps that safe); the dialect is still SQLAlchemy's aiosqlite one.
        engine = create_async_engine(
            target,
            pool_size=pool_size,
            max_overflow=max_overflow,
            async_creator=inline_connect(target.database or ""),
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    connect_args: dict[str, Any] = {
        "connect_timeout": max(1, round(connect_timeout)),
        "application_name": "muster",
    }
    if schema:
        connect_args["options"] = f"-csearch_path={check_schema_name(schema)}"
    return create_async_engine(
        target,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=connect_timeout * 2,
        connect_args=connect_args,
    )


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN would defeat BEGIN IMMEDIATE (and commit
        # before DDL): the "begin" listener below issues every BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            # Switching a new file to WAL does not wait for the busy timeout: the only way
            # to fail is another connection switching it at the same moment. The mode is
            # stored in the file, and this connection reads it at its next transaction.
            if "locked" not in str(exc):
                raise
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be used right now (not a bad statement)."""
    psycopg = sys.modules.get("psycopg")  # the hot writes use the driver directly
    if psycopg is not None and isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return isinstance(
        exc,
        sa.exc.OperationalError
        | sa.exc.InterfaceError
        | sa.exc.DisconnectionError
        | sa.exc.TimeoutError
        | OSError,
    )


def unavailable(exc: BaseException) -> StoreUnavailableError:
    """The service error for a database failure; the driver's message, never its stack."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return StoreUnavailableError(f"the database is unavailable: {text}")
