"""notification: each message sent (or not) about a change of answer

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00

The service tells configured channels when its answer changes. Each message
is recorded, delivered or not, with its attempts and error, so a failed
delivery is on record and a restart resumes from the last answer announced
instead of announcing an outage going on a second time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probe", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.String(length=8), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("episode_start", monitor.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_probe_channel", ["probe", "channel", "decided_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_probe_channel")
    op.drop_table("notification")
