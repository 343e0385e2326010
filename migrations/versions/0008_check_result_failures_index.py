"""check_result: an index of the failing runs alone, by time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:40:00

A quarter's report (``monitor report``) asks for every failure in the range:
through the time index that visits every run of every check to look at
``ok``, some three million rows for a failure rate of one in a hundred. A
partial index holds the failures only, so the read costs what it returns,
and the index is about a hundredth of the time index's size. Its condition is
written as SQLAlchemy writes "not ok" on each engine (``ok = 0`` on SQLite,
which stores booleans as integers), since a partial index serves only a
query whose condition matches it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_check_result_failed",
        "check_result",
        ["started_at"],
        sqlite_where=sa.text("ok = 0"),
        postgresql_where=sa.text("NOT ok"),
    )


def downgrade() -> None:
    op.drop_index("ix_check_result_failed", table_name="check_result")
