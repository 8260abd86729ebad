"""Databases for the service tests: a SQLite file per test, and a PostgreSQL schema per test.

PostgreSQL is the real server on 127.0.0.1:5432 (database ``test``); each test gets a
schema of its own, created and dropped here, so runs never collide. Tests needing it are
marked ``postgres`` and skipped when the server is not there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from muster.service.store import SqlStore, upgrade_database

PG_URL = os.environ.get("MUSTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@dataclass(frozen=True)
class Database:
    """Where a test's store lives."""

    backend: str
    url: str
    schema: str | None = None


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL server's URL (``MUSTER_TEST_POSTGRES_URL`` overrides it)."""
    return PG_URL


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema name (dropped with everything in it afterwards)."""
    if not _pg_available():
        pytest.skip(f"no PostgreSQL server at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """Each backend in turn: a SQLite file, then a PostgreSQL schema (not yet migrated)."""
    if request.param == "sqlite":
        return Database("sqlite", f"sqlite:///{tmp_path / 'muster.db'}")
    schema: str = request.getfixturevalue("pg_schema")
    return Database("postgresql", PG_URL, schema)


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlStore]:
    """An open, migrated store on each backend."""
    if database.schema is not None:
        await upgrade_database(database.url, database.schema)
    store = SqlStore(database.url, schema=database.schema)
    await store.open()
    yield store
    await store.close()
