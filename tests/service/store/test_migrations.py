"""Alembic migrations: they create exactly the tables of ``tables.py``, on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from muster.service.exceptions import SchemaOutOfDateError, StoreUnavailableError
from muster.service.store import SqlStore, upgrade_database
from muster.service.store._engine import create_engine
from muster.service.store.migrate import alembic_config, current_revision, head_revision, upgrade
from muster.service.store.tables import metadata


def _diff(connection: sa.Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


def _tables(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def test_the_migration_creates_exactly_the_tables_module(database: Any) -> None:
    await upgrade_database(database.url, database.schema)
    engine = create_engine(database.url, schema=database.schema)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            assert await conn.run_sync(_tables) == set(metadata.tables) | {"alembic_version"}
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
    if database.schema is not None:  # the tables went to the configured schema, not public
        with psycopg.connect(database.url) as conn:
            found = conn.execute(
                "select table_schema, count(*) from information_schema.tables"
                " where table_name = 'runs' group by table_schema"
            ).fetchall()
        assert (database.schema, 1) in found


async def test_upgrading_twice_and_concurrently_is_harmless(database: Any) -> None:
    revisions = await asyncio.gather(*(upgrade_database(database.url, database.schema) for _ in range(3)))
    assert revisions == [head_revision()] * 3
    assert await upgrade_database(database.url, database.schema) == head_revision()


async def test_downgrade_removes_every_table(database: Any) -> None:
    await upgrade_database(database.url, database.schema)
    engine = create_engine(database.url, schema=database.schema)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == {"alembic_version"}
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_sqlite_is_upgraded_when_the_store_opens(tmp_path: Any) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    await store.open()
    try:
        assert await current_revision(store.engine) == head_revision()
        thread = await store.create_thread()
        assert (await store.get_thread(thread.id)).id == thread.id
    finally:
        await store.close()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Any) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'wal.db'}")
    await store.open()
    try:
        async with store.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 15000
    finally:
        await store.close()


@pytest.mark.postgres
async def test_postgres_open_refuses_a_schema_that_is_behind(pg_schema: str, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{pg_schema}"')
    store = SqlStore(pg_url, schema=pg_schema)
    with pytest.raises(SchemaOutOfDateError, match="no muster schema.*run `muster db upgrade`") as info:
        await store.open()
    assert info.value.status == 503 and info.value.current is None
    await store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute(
            "select count(*) from information_schema.tables where table_schema = %s", (pg_schema,)
        ).fetchone() == (0,)


@pytest.mark.postgres
async def test_postgres_open_refuses_an_unknown_revision(pg_schema: str, pg_url: str) -> None:
    await upgrade_database(pg_url, pg_schema)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'UPDATE "{pg_schema}".alembic_version SET version_num = %s', ("9999",))
    store = SqlStore(pg_url, schema=pg_schema)
    with pytest.raises(SchemaOutOfDateError, match="revision 9999"):
        await store.open()
    await store.close()


def test_a_schema_name_is_an_identifier() -> None:
    with pytest.raises(ValueError, match="database.schema"):
        SqlStore("postgresql://postgres@127.0.0.1/test", schema='x"; drop table runs; --')


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("sqlite://", "SQLite needs a file"),
        ("sqlite:///:memory:", "needs a file"),
        ("mysql://h/db", "unsupported backend"),
    ],
)
def test_unsupported_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SqlStore(url)


async def test_a_missing_database_directory_is_unavailable(tmp_path: Any) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    with pytest.raises(StoreUnavailableError, match="database is unavailable"):
        await store.open()
    await store.close()


async def test_a_store_from_settings_uses_the_database_section(tmp_path: Any) -> None:
    from muster.service.settings import load_settings

    settings = load_settings(env={"MUSTER_DATABASE__URL": f"sqlite:///{tmp_path / 'cfg.db'}"})
    for source in (settings, settings.database):
        store = SqlStore.from_settings(source)
        await store.open()
        assert store.backend == "sqlite"
        await store.close()
    assert (tmp_path / "cfg.db").exists()


def test_the_store_protocol_imports_without_sqlalchemy() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from muster.service.store import Store, TurnWrite, Checkpoint\n"
        "print([m for m in ('sqlalchemy', 'alembic', 'aiosqlite', 'psycopg') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
