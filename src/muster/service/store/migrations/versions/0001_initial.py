"""The initial schema: specs, threads, runs, messages, events, checkpoints, model responses, API keys.

Revision ID: 0001
Revises:
Create Date: 2025-06-01

Types are spelled out here rather than imported from ``tables.py``: a revision must keep
creating what it created when it was written, whatever the tables module says later.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=False)


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"], ["runs.id"], name=op.f(f"fk_{table}_run_id_runs"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "specs",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("component", _json(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_specs")),
    )
    op.create_table(
        "threads",
        _id(),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", _json(), nullable=True),
        sa.Column("state_run_id", sa.String(32), nullable=True),
        sa.Column("state_turn", sa.Integer(), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
    )
    op.create_table(
        "runs",
        _id(),
        _id("thread_id"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("spec", sa.String(200), nullable=False),
        sa.Column("spec_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("task", _json(), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("error", _json(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", _ts(), nullable=True),
        sa.Column("stop_requested", sa.String(64), nullable=True),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("last_turn", sa.Integer(), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("replaced_state", sa.Boolean(), nullable=False),
        sa.Column("prior_state", _json(), nullable=True),
        sa.Column("prior_state_run_id", sa.String(32), nullable=True),
        sa.Column("prior_state_turn", sa.Integer(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("started_at", _ts(), nullable=True),
        sa.Column("finished_at", _ts(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["spec", "spec_version"], ["specs.name", "specs.version"], name=op.f("fk_runs_spec_specs")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_runs_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("thread_id", "number", name=op.f("uq_runs_thread_id_number")),
    )
    op.create_index(op.f("ix_runs_status_created_at"), "runs", ["status", "created_at"])
    op.create_index(op.f("ix_runs_finished_at"), "runs", ["finished_at"])
    op.create_table(
        "messages",
        _id("thread_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _id("run_id"),
        sa.Column("message", _json(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        _run_fk("messages"),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_messages_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("thread_id", "seq", name=op.f("pk_messages")),
    )
    op.create_index(op.f("ix_messages_run_id"), "messages", ["run_id"])
    op.create_table(
        "events",
        _id("run_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        _run_fk("events"),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_events")),
    )
    op.create_table(
        "checkpoints",
        _id("run_id"),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", _json(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        _run_fk("checkpoints"),
        sa.PrimaryKeyConstraint("run_id", "turn", name=op.f("pk_checkpoints")),
    )
    op.create_table(
        "model_responses",
        _id("run_id"),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("response", _json(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        _run_fk("model_responses"),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_model_responses")),
    )
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("revoked_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("hash", name=op.f("uq_api_keys_hash")),
    )
    op.create_index(op.f("ix_api_keys_prefix"), "api_keys", ["prefix"])


def downgrade() -> None:
    """Drop every table (children first)."""
    for table in (
        "api_keys",
        "model_responses",
        "checkpoints",
        "events",
        "messages",
        "runs",
        "threads",
        "specs",
    ):
        op.drop_table(table)
