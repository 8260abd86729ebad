"""Schema migrations: Alembic, configured in code, run on the store's own engine.

``muster db upgrade`` calls :func:`upgrade_database`; ``SqlStore.open()`` calls
:func:`upgrade` on SQLite (an embedded database upgrades itself) and :func:`check_current`
on PostgreSQL, where several replicas share the database and an operator decides when the
schema changes. Upgrades run in one transaction; on PostgreSQL an advisory lock makes a
second concurrent upgrade wait and then find nothing to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ..exceptions import SchemaOutOfDateError
from ._engine import WRITE, check_schema_name, create_engine, is_unavailable, unavailable

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "check_current",
    "current_revision",
    "head_revision",
    "upgrade",
    "upgrade_database",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_LOCK_KEY = 0x6D75_7374  # "must": the advisory lock every muster migration takes


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the store's migrations, running on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this version of muster needs."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the store ships at least one migration"
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
    command.upgrade(alembic_config(connection), "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision (``None`` when muster's tables are not there)."""
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    except Exception as exc:
        if is_unavailable(exc):
            raise unavailable(exc) from exc
        raise


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to :func:`head_revision`, in one transaction."""
    try:
        async with engine.connect() as conn:
            await conn.execution_options(**{WRITE: True})
            async with conn.begin():
                await conn.run_sync(_upgrade)
    except Exception as exc:
        if is_unavailable(exc):
            raise unavailable(exc) from exc
        raise


async def check_current(engine: AsyncEngine) -> None:
    """Raise ``SchemaOutOfDateError`` unless the database is at :func:`head_revision`."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDateError(current, head)


async def upgrade_database(url: str, schema: str | None = None) -> str:
    """Create the PostgreSQL schema if needed and upgrade; returns the revision reached.

    What ``muster db upgrade`` runs. Works on SQLite too (the same as opening the store).
    """
    if schema:
        check_schema_name(schema)
        admin = create_engine(url)
        try:
            if admin.dialect.name == "postgresql":
                async with admin.begin() as conn:
                    await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
                    await conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        except Exception as exc:
            if is_unavailable(exc):
                raise unavailable(exc) from exc
            raise
        finally:
            await admin.dispose()
    engine = create_engine(url, schema=schema)
    try:
        await upgrade(engine)
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    assert revision is not None
    return revision
