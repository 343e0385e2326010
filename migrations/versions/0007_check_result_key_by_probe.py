"""check_result keyed by (check, probe, time), carrying ``ok`` on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 08:00:00

With several probes writing into one database, the questions ``why`` asks
are per check and probe: the newest pass before a failure streak, the
first run that ended it. Under (check, time, probe) those walked every
probe's runs of the check, and on PostgreSQL the planner preferred the
time index and filtered the whole streak's span of every check. Under
(check, probe, time) each is one index seek; PostgreSQL also carries ``ok``
in the index (INCLUDE), so "the newest pass" never visits the table. A
check's newest run across probes is then one seek per probe
(``store.checkruns.latest_runs``). SQLite cannot alter a constraint in
place, so the table is copied once (batch mode, in one transaction: a kill
leaves the old table whole).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Alembic builds the constraint on a table of just its key columns, so
        # the INCLUDE column is written out here.
        op.drop_constraint("uq_check_result_check_id_started_at_probe", "check_result")
        op.execute(
            "ALTER TABLE check_result ADD CONSTRAINT uq_check_result_check_id_probe_started_at "
            "UNIQUE (check_id, probe, started_at) INCLUDE (ok)"
        )
        return
    with op.batch_alter_table("check_result", schema=None) as batch_op:
        batch_op.drop_constraint("uq_check_result_check_id_started_at_probe", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_check_result_check_id_probe_started_at"), ["check_id", "probe", "started_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("check_result", schema=None) as batch_op:
        batch_op.drop_constraint("uq_check_result_check_id_probe_started_at", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_check_result_check_id_started_at_probe"), ["check_id", "started_at", "probe"]
        )
