"""observed events: failures imported from the user's own tools

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 07:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "observed_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("failure_class", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("imported_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observed_event")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_observed_event_fingerprint")),
    )
    with op.batch_alter_table("observed_event", schema=None) as batch_op:
        batch_op.create_index("ix_observed_event_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("observed_event", schema=None) as batch_op:
        batch_op.drop_index("ix_observed_event_at")
    op.drop_table("observed_event")
