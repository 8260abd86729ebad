"""Alembic's environment for the store: migrations run on a connection the caller opened.

There is no ``alembic.ini``: :mod:`muster.service.store.migrate` builds the configuration
in code and passes an open (sync-facing) connection in ``config.attributes["connection"]``,
already inside a transaction and already pointed at the right PostgreSQL schema, so the
migrations and the store always agree on where the tables are.
"""

from __future__ import annotations

from alembic import context

from muster.service.store.tables import metadata

__all__: list[str] = []

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them: later revisions that alter columns need it.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
