"""poll.note: what a poll that worked still wants a person to know

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 05:30:00

A poll can succeed and still say something worth reading: the page moved
to another host (a redirect was followed there). ``error`` is for polls
that failed; ``note`` for what a poll that worked wants read.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.drop_column("note")
