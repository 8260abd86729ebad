"""Worker heartbeats: one row per ``muster worker`` process.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

The job engine (PgQueuer) keeps heartbeats per job, not per worker, so the service keeps
its own: ``autogen_agents_count{status}`` counts workers online, offline and busy from it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the workers table."""
    op.create_table(
        "workers",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )


def downgrade() -> None:
    """Drop the workers table."""
    op.drop_table("workers")
