"""check_result keyed by (check, time, probe); component transitions indexed by time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 08:30:00

The unique key was (check_id, probe, started_at): with the probe in the
middle, "a check's newest run" or "its runs over a span" across probes
could not use it, and ``monitor status`` sorted every run of a check (5 s
on a year of data). Reordered, the same index serves both at no extra
size. SQLite cannot alter a constraint in place, so the table is copied
once (batch mode).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check_result", schema=None) as batch_op:
        batch_op.drop_constraint("uq_check_result_check_id_probe_started_at", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_check_result_check_id_started_at_probe"), ["check_id", "started_at", "probe"]
        )
    with op.batch_alter_table("component_status", schema=None) as batch_op:
        batch_op.create_index("ix_component_status_observed", ["observed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("component_status", schema=None) as batch_op:
        batch_op.drop_index("ix_component_status_observed")
    with op.batch_alter_table("check_result", schema=None) as batch_op:
        batch_op.drop_constraint("uq_check_result_check_id_started_at_probe", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_check_result_check_id_probe_started_at"), ["check_id", "probe", "started_at"]
        )
