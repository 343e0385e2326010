"""check_result: the compact layout (interim: creates it empty; the converting migration replaces this)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe")),
        sa.UniqueConstraint("name", name=op.f("uq_probe_name")),
    )
    with op.batch_alter_table("check") as batch:
        batch.add_column(sa.Column("usual_detail", sa.Text(), nullable=True))
        batch.add_column(sa.Column("usual_facts", sa.Text(), nullable=True))
    op.drop_table("check_result")
    op.create_table(
        "check_result",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("outcome", sa.SmallInteger(), nullable=False),
        sa.Column("failure_class", sa.SmallInteger(), nullable=True),
        sa.Column("http_status", sa.SmallInteger(), nullable=True),
        sa.Column("duration_us", sa.Integer(), nullable=False),
        sa.Column("dns_us", sa.Integer(), nullable=True),
        sa.Column("connect_us", sa.Integer(), nullable=True),
        sa.Column("tls_us", sa.Integer(), nullable=True),
        sa.Column("ttfb_us", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("server_date_ms", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("facts", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["check.id"],
            name=op.f("fk_check_result_check_id_check"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["probe_id"], ["probe.id"], name=op.f("fk_check_result_probe_id_probe")
        ),
        sa.PrimaryKeyConstraint("check_id", "probe_id", "started_ms", name=op.f("pk_check_result")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_check_result_started", "check_result", ["started_ms"])
    op.create_index(
        "ix_check_result_failed",
        "check_result",
        ["started_ms"],
        sqlite_where=sa.text("outcome = 1"),
        postgresql_where=sa.text("outcome = 1"),
    )


def downgrade() -> None:
    raise NotImplementedError("interim migration")
