"""The store's tables, as SQLAlchemy Core: one metadata for SQLite and PostgreSQL.

The Alembic migrations in ``migrations/versions`` create exactly these tables (a test
compares them with Alembic's autogenerate); change both together.

No table names a schema: on PostgreSQL the store points the connection's ``search_path``
at ``database.schema``, so one definition serves every schema.

Counters kept on parent rows (``threads.message_seq``, ``runs.event_seq``) number a
thread's messages and a run's events. Incrementing them in the same transaction that
inserts the rows takes the parent's row lock, so two writers never pick the same number,
and numbers never go back after a rollback deletes rows (a client paging with
``after=seq`` never misses a later row).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

__all__ = [
    "JSONType",
    "UtcDateTime",
    "api_keys",
    "checkpoints",
    "events",
    "messages",
    "metadata",
    "model_responses",
    "runs",
    "specs",
    "threads",
    "workers",
]

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON on SQLite, JSONB on PostgreSQL (compact and indexable)."""


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both backends.

    SQLite has no timezone type: values are stored as naive UTC and come back marked UTC,
    so comparisons (heartbeat ages, retention) mean the same thing on both backends.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes (their zone is a guess) and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware timestamps")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark SQLite's naive values as the UTC they were written as."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_ID = sa.String(32)
"""uuid4 hex strings."""


def _created() -> sa.Column[Any]:
    return sa.Column("created_at", UtcDateTime(), nullable=False)


specs = sa.Table(
    "specs",
    metadata,
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("component", JSONType, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    _created(),
    sa.PrimaryKeyConstraint("name", "version"),
)
"""Spec versions; ``digest`` (sha256 of the canonical JSON) tells a new body from the latest."""

threads = sa.Table(
    "threads",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("metadata", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("state", JSONType, nullable=True),
    sa.Column("state_run_id", _ID, nullable=True),
    sa.Column("state_turn", sa.Integer, nullable=True),
    sa.Column("run_count", sa.Integer, nullable=False),
    sa.Column("message_seq", sa.Integer, nullable=False),
    _created(),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)
"""A thread; ``state`` is the team state its runs left, written by run ``state_run_id``."""

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("thread_id", _ID, sa.ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("spec", sa.String(200), nullable=False),
    sa.Column("spec_version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("strategy", sa.String(16), nullable=False),
    sa.Column("task", JSONType, nullable=True),
    sa.Column("metadata", JSONType, nullable=False),
    sa.Column("stop_reason", sa.Text, nullable=True),
    sa.Column("error", JSONType, nullable=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(200), nullable=True),
    sa.Column("heartbeat_at", UtcDateTime(), nullable=True),
    sa.Column("stop_requested", sa.String(64), nullable=True),
    sa.Column("turns", sa.Integer, nullable=False),
    sa.Column("last_turn", sa.Integer, nullable=True),
    sa.Column("event_seq", sa.Integer, nullable=False),
    sa.Column("replaced_state", sa.Boolean, nullable=False),
    sa.Column("prior_state", JSONType, nullable=True),
    sa.Column("prior_state_run_id", _ID, nullable=True),
    sa.Column("prior_state_turn", sa.Integer, nullable=True),
    _created(),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["spec", "spec_version"], ["specs.name", "specs.version"]),
    sa.UniqueConstraint("thread_id", "number"),
    sa.Index(None, "status", "created_at"),
    sa.Index(None, "finished_at"),
)
"""Runs. ``number`` orders a thread's runs; ``prior_state*`` is the thread state this run
replaced (``replaced_state``), put back if the run is rolled back."""

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("thread_id", _ID, sa.ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("run_id", _ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("message", JSONType, nullable=False),
    _created(),
    sa.PrimaryKeyConstraint("thread_id", "seq"),
    sa.Index(None, "run_id"),
)
"""A thread's messages in order (``seq`` from 1)."""

events = sa.Table(
    "events",
    metadata,
    sa.Column("run_id", _ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("data", JSONType, nullable=False),
    _created(),
    sa.PrimaryKeyConstraint("run_id", "seq"),
)
"""A run's event log (the SSE stream; ``seq`` is the SSE id)."""

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("run_id", _ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("turn", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("state", JSONType, nullable=False),
    sa.Column("finished", sa.Boolean, nullable=False),
    _created(),
    sa.PrimaryKeyConstraint("run_id", "turn"),
)
"""Turn checkpoints: ``kind`` is ``full`` (a TeamState) or ``delta`` (against the turn before)."""

model_responses = sa.Table(
    "model_responses",
    metadata,
    sa.Column("run_id", _ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("response", JSONType, nullable=False),
    _created(),
    sa.PrimaryKeyConstraint("run_id", "key"),
)
"""Model responses recorded per run, replayed when the run is resumed."""

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False, index=True),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)
"""API keys: the sha256 hex of the secret, never the secret."""

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
)
"""``muster worker`` processes and their heartbeats (``autogen_agents_count``; a clean stop deletes the row)."""
