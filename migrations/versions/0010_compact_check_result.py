"""check_result: the compact layout, converted in place, in batches, resumable

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 21:00:00

check_result was 98.5 % of a database at 347 bytes a run (issue 17). The
compact layout (``models.CheckRun``, codec ``monitor.store.runcodes``) keys
a run by (check, probe id, start in ms), holds numbers wherever it can and
leaves detail and facts NULL where they equal the check's usual. This
migration converts the rows already there, on SQLite and PostgreSQL:

1. ``probe`` is created and given every probe name the old rows carry, in
   name order; ``check`` gets ``usual_detail`` and ``usual_facts``, set to
   the detail and (converted) facts of each check's newest passing run; the
   new table is created as ``check_result_new``, with a one-row progress
   table. One transaction, every step skipped if already done.
2. The old rows are copied in id order, ``BATCH_ROWS`` at a time, each batch
   one INSERT ... SELECT committed together with the progress row. A killed
   migration (kill -9, power cut) loses at most the batch under way; the
   next start sees the progress row and goes on from there. The usual is
   set before the first batch and never recomputed, so a resumed copy
   compares against the same usual.
3. In one transaction: rows written to the old table meanwhile (by an older
   monitor still running) are copied, the old table is dropped, the new one
   renamed to check_result and indexed, the progress table dropped.
4. SQLite only: the old table's pages are free pages in the file now, so it
   is rebuilt (VACUUM) and its WAL truncated: the file shrinks to what it
   holds. PostgreSQL gives a dropped table's files back at once.

The conversion is SQL, as ``runcodes.encode`` would write each run: time in
ms rounded down, durations in µs rounded half to even (Python's ``round``),
outcome and failure class as codes (a class with no code is
``unclassified``), ``dns`` from ``facts["phases_ms"]`` and the other phases
from their columns (or from the facts where the column is empty), the four
phases taken out of the facts (and ``phases_ms`` with them when nothing else
is left in it), the request id and the server's date kept for failures
only. It must not import runcodes (a migration must do tomorrow what it did
today), so the failure codes are frozen here.

Facts text. On SQLite, json_remove() gives the compact text
``runcodes.facts_text`` writes (``json.dumps(x, separators=(",", ":"))``:
no spaces, ASCII escapes kept as written, keys in their order), so a
converted usual and a newly written run compare equal when they say the
same. On PostgreSQL, facts holding phases go through jsonb, whose text has
spaces and its own key order, and the others keep the text the old row had
(Python's default separators, ", " and ": "): either reads back as the
same values (lossless), but a new run's facts never equal such a usual
unless both are empty (``{}``), so on PostgreSQL, checks converted here
whose usual facts are not empty store their new runs' facts in full:
correct, only less compact. (Converted rows whose facts equal their
check's usual in value but not in text, one with phases and one without,
are stored in full too.)

Runs a millisecond apart at most: the new key holds one run per check,
probe and millisecond; old rows that differ only below the millisecond
(which no check writes, a check runs every few seconds at most) keep the
first by id, the one written first (ON CONFLICT DO NOTHING).

Facts that are not valid JSON to the database (SQLite: a NaN or Infinity
Python wrote; PostgreSQL: a \\u0000 that jsonb refuses) would stop the
conversion; a batch that fails so is redone keeping such facts as they
were, phases and all (they read back the same).

Downgrade rebuilds the old table from the new in one transaction; what the
compact layout did not keep stays lost (passing runs' request ids and
server dates, times below the millisecond).
"""

# The SQL here is assembled from this file's own constants; no value from the data is
# ever put into it (bound parameters carry those).
# ruff: noqa: S608

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

import monitor.store.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("monitor.store.migrate")

# runcodes.FAILURE_CODES as of this revision, frozen: the codes are forever.
FAILURE_CODES = {
    "auth_rejected": 1,
    "forbidden": 2,
    "rate_limited": 3,
    "server_error": 4,
    "unexpected_status": 5,
    "invalid_grant": 6,
    "timeout": 7,
    "connect_timeout": 8,
    "connect_refused": 9,
    "network_unreachable": 10,
    "connection_reset": 11,
    "dns_failure": 12,
    "tls_error": 13,
    "credentials_missing": 14,
    "credentials_invalid": 15,
    "credentials_expired": 16,
    "credentials_insecure": 17,
    "port_unavailable": 18,
    "callback_failed": 19,
    "clock_skew": 20,
    "misconfigured": 21,
    "protocol_error": 22,
    "internal_error": 23,
    "unclassified": 24,
}
UNCLASSIFIED = 24
PHASES = ("dns", "connect", "tls", "ttfb")  # the phases with a column (<phase>_us)

NEW = "check_result_new"
OLD = "check_result_old"  # downgrade's temporary name
PROGRESS = "check_result_progress"
# Rows per committed batch: a kill loses at most one batch's work (about a second).
BATCH_ROWS = 50_000
# Test hook: tests set it to a few rows so a small database takes several batches.
BATCH_VARIABLE = "MONITOR_MIGRATION_BATCH_ROWS"
LOG_EVERY_S = 5.0
RECLAIM_BYTES = 1 << 20  # fewer free bytes than this are left for SQLite to reuse


# --- upgrade ---------------------------------------------------------------------------------


def upgrade() -> None:
    if op.get_context().as_sql:
        raise RuntimeError("0010 converts rows in committed batches: it cannot be written as SQL")
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if "id" in _columns(bind, "check_result"):  # the old layout: convert it
        _prepare(bind)
        _commit(bind)
        _copy(bind)
        began = time.monotonic()
        _swap(bind)
        _commit(bind)
        took = time.monotonic() - began
        log.info(
            "replaced the old table and indexed the new one in %.1f s",
            took,
            extra={"fields": {"phase": "swap", "seconds": took}},
        )
    if sqlite:
        _reclaim(bind)


def _columns(bind: Connection, table: str) -> set[str]:
    inspector = sa.inspect(bind)
    if not inspector.has_table(table):
        return set()
    return {column["name"] for column in inspector.get_columns(table)}


def _commit(bind: Connection) -> None:
    """Commit what is done so far, and go on in a new transaction on the same connection.

    Alembic runs this migration inside a transaction of its own on this
    connection (on PostgreSQL, every pending migration in one) and commits
    whatever is open when the migration returns, the revision stamp with
    it. Committing here makes the work so far durable whatever happens
    next; the migration always leaves a transaction open for Alembic.
    PostgreSQL: psycopg opens the next transaction itself with the next
    statement. SQLite: monitor's engine runs pysqlite without implicit
    transactions (monitor.store.engine), so the next one is begun here,
    holding the write lock as Alembic's own does.

    Not ``op.get_context().autocommit_block()``: on SQLite it would change
    nothing (the engine's begin hook opens a transaction inside it anyway)
    and on leaving it would give the pooled connection back in pysqlite's
    implicit-transaction mode, undoing the engine's setting.
    """
    bind.exec_driver_sql("COMMIT")
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("BEGIN IMMEDIATE")


def _prepare(bind: Connection) -> None:
    """Probes, the usual columns and values, the new table and the progress row (idempotent)."""
    tables = set(sa.inspect(bind).get_table_names())
    if "probe" not in tables:
        op.create_table(
            "probe",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_probe")),
            sa.UniqueConstraint("name", name=op.f("uq_probe_name")),
        )
    names = sorted(_old_probe_names(bind))
    if names:
        bind.execute(
            sa.text("INSERT INTO probe (name) VALUES (:name) ON CONFLICT DO NOTHING"),
            [{"name": name} for name in names],
        )
    missing = {"usual_detail", "usual_facts"} - _columns(bind, "check")
    for name in sorted(missing):
        op.add_column("check", sa.Column(name, sa.Text(), nullable=True))
    _set_usuals(bind, names)
    if NEW not in tables:
        _create_compact(bind, NEW)
    if PROGRESS not in tables:
        op.create_table(PROGRESS, sa.Column("last_id", sa.BigInteger(), nullable=False))
        bind.execute(sa.text(f"INSERT INTO {PROGRESS} (last_id) VALUES (0)"))


def _old_probe_names(bind: Connection) -> set[str]:
    """Every probe name in the old table: a few index seeks per check, not a scan of the runs."""
    found: set[str] = set()
    first = sa.text("SELECT min(probe) FROM check_result WHERE check_id = :check")
    after = sa.text(
        "SELECT min(probe) FROM check_result WHERE check_id = :check AND probe > :probe"
    )
    for check_id in bind.execute(sa.text('SELECT id FROM "check"')).scalars():
        probe = bind.execute(first, {"check": check_id}).scalar()
        while probe is not None:
            found.add(probe)
            probe = bind.execute(after, {"check": check_id, "probe": probe}).scalar()
    return found


def _set_usuals(bind: Connection, probes: Sequence[str]) -> None:
    """Each check's usual: detail and converted facts of its newest passing run, on any probe.

    Only where none is set yet: a resumed migration keeps the usual its
    committed batches were compared with.
    """
    newest = sa.text(
        _converted(
            bind.dialect.name,
            # The row is found first, by the (check, probe, time) key read backwards: as
            # a join's ORDER BY the planners may sort every run of the probe instead.
            where=(
                "r.id = (SELECT n.id FROM check_result n WHERE n.check_id = :check "
                "AND n.probe = :probe AND n.ok AND NOT n.skipped "
                "ORDER BY n.started_at DESC LIMIT 1)"
            ),
            order="r.id",
            limit=1,
            against_usual=False,
            safe=True,  # one row per probe: checking its JSON costs nothing here
        )
    )
    unset = sa.text('SELECT id FROM "check" WHERE usual_detail IS NULL ORDER BY id')
    for check_id in bind.execute(unset).scalars().all():
        found = [
            row
            for probe in probes
            for row in bind.execute(newest, {"check": check_id, "probe": probe}).mappings()
        ]
        if not found:
            continue  # never passed: its first pass after the migration sets it
        usual = max(found, key=lambda row: row["started_at"])  # probes in name order: ties go first
        bind.execute(
            sa.text(
                'UPDATE "check" SET usual_detail = :detail, usual_facts = :facts '
                "WHERE id = :check AND usual_detail IS NULL"
            ),
            {"check": check_id, "detail": usual["detail"], "facts": usual["facts"]},
        )


def _create_compact(bind: Connection, name: str) -> None:
    """The compact table (models.CheckRun) under ``name``, without its secondary indexes.

    On PostgreSQL a primary key's name is an index's name, unique in the
    schema, and the old table still holds pk_check_result: the new key is
    named after the new table and renamed with it. SQLite's constraint
    names are the table's own. PostgreSQL checks a foreign key with a
    trigger per inserted row (about half of a batch's time there), so its
    foreign keys are added once the rows are in, checked by one query;
    SQLite's cost little and can only be declared with the table.
    """
    pk_name = "pk_check_result" if bind.dialect.name == "sqlite" else f"pk_{name}"
    op.create_table(
        name,
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
        *(_foreign_keys() if bind.dialect.name == "sqlite" else ()),
        sa.PrimaryKeyConstraint("check_id", "probe_id", "started_ms", name=pk_name),
        sqlite_with_rowid=False,
    )


def _foreign_keys() -> tuple[sa.ForeignKeyConstraint, ...]:
    """The compact table's foreign keys, as SQLite declares them (PostgreSQL: see _swap)."""
    return (
        sa.ForeignKeyConstraint(
            ["check_id"], ["check.id"], name="fk_check_result_check_id_check", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["probe_id"], ["probe.id"], name="fk_check_result_probe_id_probe"),
    )


def _batch_rows() -> int:
    value = os.environ.get(BATCH_VARIABLE, "")
    return int(value) if value.strip() else BATCH_ROWS


def _copy(bind: Connection) -> None:
    """Copy the old rows in id order, one committed batch (and progress row) at a time."""
    done = int(bind.execute(sa.text(f"SELECT last_id FROM {PROGRESS}")).scalar_one())
    first, last = bind.execute(sa.text("SELECT min(id), max(id) FROM check_result")).one()
    if last is None or done >= last:
        return
    after = max(done, first - 1)
    runs, size = last - after, _batch_rows()
    log.warning(
        "converting about %d check runs to the compact layout (migration 0010%s): on a year "
        "of runs this takes minutes; if it is stopped, the next start goes on from there",
        runs,
        f", resumed after id {after}" if done else "",
    )
    began = logged = time.monotonic()
    while after < last:
        upto = min(after + size, last)
        _copy_batch(bind, after, upto)
        after = upto
        if time.monotonic() - logged >= LOG_EVERY_S:
            logged = time.monotonic()
            log.info(
                "converted check runs up to id %d of %d (%.0f %%)",
                after,
                last,
                100 * (after - first + 1) / (last - first + 1),
            )
    took = time.monotonic() - began
    log.info(
        "converted the check runs in %.1f s",
        took,
        extra={"fields": {"phase": "copy", "seconds": took, "runs": runs}},
    )


def _copy_batch(bind: Connection, after: int, upto: int, *, commit: bool = True) -> None:
    """Rows with ``after < id <= upto``, then the progress row; committed unless told not to.

    A batch the database refuses for its facts' JSON is redone with every
    row's facts checked first (slower, so only then).
    """
    bounds = {"after": after, "upto": upto}
    # A savepoint, so a refused batch leaves the transaction (and _swap's lock) as it was.
    bind.exec_driver_sql("SAVEPOINT batch")
    try:
        bind.execute(sa.text(_copy_sql(bind.dialect.name, safe=False)), bounds)
    except sa.exc.DBAPIError as exc:
        log.warning(
            "check runs %d to %d hold facts the database cannot read as JSON (%s); "
            "converting them keeping those facts as they are",
            after + 1,
            upto,
            str(exc.orig).splitlines()[0],
        )
        bind.exec_driver_sql("ROLLBACK TO SAVEPOINT batch")
        bind.execute(sa.text(_copy_sql(bind.dialect.name, safe=True)), bounds)
    bind.exec_driver_sql("RELEASE SAVEPOINT batch")
    bind.execute(sa.text(f"UPDATE {PROGRESS} SET last_id = :upto"), {"upto": upto})
    if commit:
        _commit(bind)


def _swap(bind: Connection) -> None:
    """Copy what was written meanwhile, then put the new table in the old one's place."""
    if bind.dialect.name == "postgresql":
        # Nobody writes to the old table from here on (SQLite: BEGIN IMMEDIATE holds the lock).
        op.execute("LOCK TABLE check_result IN ACCESS EXCLUSIVE MODE")
    done = int(bind.execute(sa.text(f"SELECT last_id FROM {PROGRESS}")).scalar_one())
    last = bind.execute(sa.text("SELECT max(id) FROM check_result")).scalar()
    if last is not None and last > done:
        # An older monitor writing meanwhile may have named a probe the preparation
        # did not see; the copy joins on the name, so give it its id first.
        bind.execute(
            sa.text(
                "INSERT INTO probe (name) SELECT DISTINCT probe FROM check_result "
                "WHERE id > :done ORDER BY probe ON CONFLICT DO NOTHING"
            ),
            {"done": done},
        )
        _copy_batch(bind, done, last, commit=False)
    op.drop_table("check_result")
    op.rename_table(NEW, "check_result")
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER INDEX pk_{NEW} RENAME TO pk_check_result")
        op.create_foreign_key(
            "fk_check_result_check_id_check",
            "check_result",
            "check",
            ["check_id"],
            ["id"],
            ondelete="CASCADE",
        )
        op.create_foreign_key(
            "fk_check_result_probe_id_probe", "check_result", "probe", ["probe_id"], ["id"]
        )
    op.create_index("ix_check_result_started", "check_result", ["started_ms"])
    op.create_index(
        "ix_check_result_failed",
        "check_result",
        ["started_ms"],
        sqlite_where=sa.text("outcome = 1"),
        postgresql_where=sa.text("outcome = 1"),
    )
    op.drop_table(PROGRESS)


def _reclaim(bind: Connection) -> None:
    """SQLite: give the file's free pages back (the old table's), and empty the WAL.

    VACUUM rewrites the live pages only (the compact table is a fraction of
    the old one) and cannot run inside a transaction. Done whenever a
    quarter of the file is free pages, so a migration killed after the
    swap still shrinks the file when it is run again.
    """
    free = int(bind.exec_driver_sql("PRAGMA freelist_count").scalar_one())
    pages = int(bind.exec_driver_sql("PRAGMA page_count").scalar_one())
    size = int(bind.exec_driver_sql("PRAGMA page_size").scalar_one())
    if free * size < RECLAIM_BYTES or free < pages // 4:
        return  # a new file's few free pages, or what retention frees: SQLite reuses them
    began = time.monotonic()
    bind.exec_driver_sql("COMMIT")
    try:
        bind.exec_driver_sql("VACUUM")
    except sa.exc.OperationalError as exc:
        # Not worth failing the migration (every start would fail again): the free
        # pages are reused as the file grows, and VACUUM can be run by hand later.
        bind.exec_driver_sql("BEGIN IMMEDIATE")
        log.warning(
            "could not give back the %.1f MB the old check runs took (%s); the file keeps its "
            "size until VACUUM is run on it (it needs about its new size free on disk)",
            free * size / 1e6,
            exc.orig,
        )
        return
    bind.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    took = time.monotonic() - began
    log.info(
        "gave back %.1f of %.1f MB the old check runs took (VACUUM, %.1f s)",
        free * size / 1e6,
        pages * size / 1e6,
        took,
        extra={"fields": {"phase": "vacuum", "seconds": took, "freed_bytes": free * size}},
    )


# --- the conversion, in SQL ------------------------------------------------------------------

COMPACT_COLUMNS = (
    "check_id",
    "probe_id",
    "started_ms",
    "outcome",
    "failure_class",
    "http_status",
    "duration_us",
    "dns_us",
    "connect_us",
    "tls_us",
    "ttfb_us",
    "request_id",
    "server_date_ms",
    "detail",
    "facts",
)


def _copy_sql(dialect: str, *, safe: bool) -> str:
    """One batch: the old rows ``:after < id <= :upto`` into the new table, first row wins."""
    select = _converted(dialect, where="r.id > :after AND r.id <= :upto", order="r.id", safe=safe)
    columns = ", ".join(COMPACT_COLUMNS)
    # The innermost level reads the old rows in id order (ORDER BY under OFFSET 0: a walk
    # of the rowid or primary key, no sort) and the levels above hand them on in that
    # order, so the first written of two runs in one millisecond is inserted first and
    # kept. An ORDER BY here would cost a sort (PostgreSQL sorts again, to disk at that).
    # WHERE true: SQLite would read ON CONFLICT as a join's ON without it.
    return (
        f"INSERT INTO {NEW} ({columns}) SELECT {columns} FROM ({select}) AS converted "
        "WHERE true ON CONFLICT DO NOTHING"
    )


def _converted(
    dialect: str,
    *,
    where: str,
    order: str,
    limit: int | None = None,
    against_usual: bool = True,
    safe: bool = False,
) -> str:
    """A SELECT of old rows (``r``) as compact rows: COMPACT_COLUMNS, plus ``id`` and ``started_at``.

    ``against_usual``: detail and facts are NULL where they equal the
    check's usual (off to compute the usual itself). ``safe``: facts the
    database cannot parse as JSON are kept as they are.
    """
    if dialect == "sqlite":
        return _converted_sqlite(where, order, limit, against_usual, safe)
    return _converted_postgresql(where, order, limit, against_usual, safe)


def _failure_code(name: str) -> str:
    cases = " ".join(f"WHEN '{n}' THEN {code}" for n, code in FAILURE_CODES.items())
    return (
        f"CASE WHEN {name} IS NULL THEN NULL ELSE CASE {name} {cases} ELSE {UNCLASSIFIED} END END"
    )


def _us_sqlite(x: str) -> str:
    """``x`` (a number, named cheaply) rounded half to even as an integer, like Python's round().

    Arithmetic only: a function call costs more than the rest, and this runs
    five times a row. CAST truncates toward zero, so ``x`` less its CAST is
    its exact fractional part: ±0.5 is a tie, which goes to the even
    neighbour. Otherwise ±0.5 and CAST round half away from zero, which is
    exact from 0.5 up (below it, adding 0.5 in floating point can make 1 of
    the double just under 0.5, as SQLite's own round() does), and what lies
    strictly between -0.5 and 0.5 is 0.
    """
    whole = f"CAST({x} AS INTEGER)"
    return (
        f"CASE WHEN {x} - {whole} IN (0.5, -0.5) THEN {whole} + {whole} % 2 "
        f"WHEN {x} >= 0.5 THEN CAST({x} + 0.5 AS INTEGER) WHEN {x} > -0.5 THEN 0 "
        f"ELSE CAST({x} - 0.5 AS INTEGER) END"
    )


def _us_postgresql(x: str) -> str:
    """As ``_us_sqlite``, with floor(): exact whatever round() does with ties on this platform."""
    floor = f"floor({x})::bigint"
    return (
        f"({floor} + CASE WHEN {x} - {floor} > 0.5 OR ({x} - {floor} = 0.5 AND {floor} % 2 <> 0) "
        "THEN 1 ELSE 0 END)"
    )


def _ms_sqlite(moment: str) -> str:
    """A stored time ('YYYY-MM-DD HH:MM:SS.ffffff', UTC) as epoch ms, rounded down.

    julianday() keeps whole milliseconds exactly (it rounds to the nearest
    one: hence the text cut after the milliseconds first), and at today's
    dates its double is within a twentieth of a millisecond of them, which
    rounding (+ 0.5, then CAST: times after 1970 are positive) removes. It
    is several times faster than strftime('%s').
    """
    return f"CAST((julianday(substr({moment}, 1, 23)) - 2440587.5) * 86400000 + 0.5 AS INTEGER)"


def _ms_postgresql(moment: str) -> str:
    # numeric on PostgreSQL 14+, double before: either way exact once cut to the millisecond.
    return f"round(extract(epoch FROM date_trunc('milliseconds', {moment})) * 1000)::bigint"


def _converted_sqlite(
    where: str, order: str, limit: int | None, against_usual: bool, safe: bool
) -> str:
    # The inner SELECT computes what is costly or named more than once (JSON is parsed
    # per call) once a row; its OFFSET keeps SQLite from flattening it into the outer one,
    # which would repeat it. It hands on few texts (each costs a copy): the detail is
    # compared with the usual in it, and the request id is NULL for most runs.
    valid = "json_valid(r.facts) AND " if safe else ""

    def phase(name: str) -> str:  # parsed only where the text names it: most rows have no dns
        return (
            f"CASE WHEN {valid}instr(r.facts, '\"{name}\"') "
            f"THEN json_extract(r.facts, '$.phases_ms.{name}') END"
        )

    removed = ", ".join(f"'$.phases_ms.{name}'" for name in PHASES)
    rest = f"CASE WHEN r.facts = '{{}}' THEN '{{}}' ELSE json_remove(r.facts, {removed}) END"
    if safe:
        rest = f"CASE WHEN json_valid(r.facts) THEN {rest} END"
    detail = "r.detail"
    if against_usual:  # a CASE, not nullif(): no function call
        detail = "CASE WHEN r.detail = c.usual_detail THEN NULL ELSE r.detail END"
    extra = "r.started_at AS started_at, " if limit is not None else ""
    inner = f"""
        SELECT {extra}r.check_id AS check_id, p.id AS probe_id,
            {_ms_sqlite("r.started_at")} AS started_ms,
            CASE WHEN r.skipped THEN 2 WHEN r.ok THEN 0 ELSE 1 END AS outcome,
            {_failure_code("r.failure_class")} AS failure_class,
            r.http_status AS http_status, r.duration_ms AS duration_ms,
            {phase("dns")} * 1000 AS dns_x,
            {", ".join(f"coalesce(r.{n}_ms, {phase(n)}) * 1000 AS {n}_x" for n in PHASES[1:])},
            CASE WHEN r.ok THEN NULL ELSE r.request_id END AS request_id,
            CASE WHEN r.ok THEN NULL ELSE {_ms_sqlite("r.server_date")} END AS server_date_ms,
            {detail} AS detail, {"r.facts" if safe else "NULL"} AS original, {rest} AS rest,
            {"c.usual_facts" if against_usual else "NULL"} AS usual_facts
        FROM check_result r
        JOIN "check" c ON c.id = r.check_id
        JOIN probe p ON p.name = r.probe
        WHERE {where}
        ORDER BY {order}
        LIMIT {-1 if limit is None else limit} OFFSET 0"""
    # phases_ms goes when nothing is left in it. Where the old writer put it, last, that
    # is the text's end (which only the top level's last member can be): no JSON parse.
    empty = ',"phases_ms":{}}'
    facts = (
        "CASE WHEN rest IS NULL THEN original "
        "WHEN NOT instr(rest, '\"phases_ms\":{}') THEN rest "
        "WHEN rest = '{\"phases_ms\":{}}' THEN '{}' "
        f"WHEN substr(rest, -{len(empty)}) = '{empty}' "
        f"THEN substr(rest, 1, length(rest) - {len(empty)}) || '}}' "
        "WHEN json_extract(rest, '$.phases_ms') = '{}' THEN json_remove(rest, '$.phases_ms') "
        "ELSE rest END"
    )
    if against_usual:
        facts = f"nullif({facts}, usual_facts)"
    durations = ", ".join(
        f"{_us_sqlite(x)} AS {n}_us"
        for n, x in (("duration", "duration_ms * 1000"), *((n, f"{n}_x") for n in PHASES))
    )
    return f"""
        SELECT {"started_at, " if extra else ""}check_id, probe_id, started_ms, outcome,
            failure_class, http_status, {durations}, request_id, server_date_ms, detail,
            {facts} AS facts
        FROM ({inner}) AS old"""


def _converted_postgresql(
    where: str, order: str, limit: int | None, against_usual: bool, safe: bool
) -> str:
    # Nested subqueries, each fenced by OFFSET 0: pulled up, a value would be computed
    # wherever it is named (LATERAL subqueries end up memoized on the parsed facts, slower
    # still). Only facts naming phases_ms are parsed (jsonb); the others are kept as they
    # were written, which reads back the same. jsonb refuses \u0000, which json (the old
    # column's type) takes: ``safe`` leaves such facts as they are, phases and all.
    phased = "strpos(r.facts::text, '\"phases_ms\"') > 0"
    if safe:
        phased += " AND strpos(r.facts::text, '\\u0000') = 0"
    detail = "nullif(r.detail, c.usual_detail)" if against_usual else "r.detail"
    base = f"""
        SELECT r.id AS id, r.started_at AS started_at, r.check_id AS check_id,
            p.id AS probe_id, {_ms_postgresql("r.started_at")} AS started_ms,
            CASE WHEN r.skipped THEN 2 WHEN r.ok THEN 0 ELSE 1 END AS outcome,
            {_failure_code("r.failure_class")} AS failure_class,
            r.http_status AS http_status, r.duration_ms * 1000 AS duration_x,
            r.connect_ms AS connect_ms, r.tls_ms AS tls_ms, r.ttfb_ms AS ttfb_ms,
            CASE WHEN r.ok THEN NULL ELSE r.request_id END AS request_id,
            CASE WHEN r.ok THEN NULL ELSE {_ms_postgresql("r.server_date")} END AS server_date_ms,
            {detail} AS detail, r.facts::text AS original,
            CASE WHEN {phased} THEN r.facts::jsonb END AS j,
            {"c.usual_facts" if against_usual else "NULL::text"} AS usual_facts
        FROM check_result r
        JOIN "check" c ON c.id = r.check_id
        JOIN probe p ON p.name = r.probe
        WHERE {where}
        ORDER BY {order}
        {"" if limit is None else f"LIMIT {limit}"} OFFSET 0"""

    def phase(name: str) -> str:
        return f"(j #>> '{{phases_ms,{name}}}')::float8"

    removed = " ".join(f"#- '{{phases_ms,{name}}}'" for name in PHASES)
    parsed = f"""
        SELECT id, started_at, check_id, probe_id, started_ms, outcome, failure_class,
            http_status, duration_x, {phase("dns")} * 1000 AS dns_x,
            {", ".join(f"coalesce({n}_ms, {phase(n)}) * 1000 AS {n}_x" for n in PHASES[1:])},
            request_id, server_date_ms, detail, original, j {removed} AS rest, usual_facts
        FROM ({base}) AS base
        OFFSET 0"""
    facts = (
        "CASE WHEN rest IS NULL THEN original "
        "WHEN rest -> 'phases_ms' = '{}'::jsonb THEN (rest - 'phases_ms')::text "
        "ELSE rest::text END"
    )
    if against_usual:
        facts = f"nullif({facts}, usual_facts)"
    durations = ", ".join(f"{_us_postgresql(f'{n}_x')} AS {n}_us" for n in ("duration", *PHASES))
    return f"""
        SELECT id, started_at, check_id, probe_id, started_ms, outcome, failure_class,
            http_status, {durations}, request_id, server_date_ms, detail, {facts} AS facts
        FROM ({parsed}) AS parsed"""


# --- downgrade -------------------------------------------------------------------------------


def downgrade() -> None:
    """The old layout back, in one transaction (passing runs' request ids stay lost)."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # PostgreSQL: the compact table holds pk_check_result until it is dropped (see above).
    op.create_table(
        OLD,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("probe", sa.String(length=64), nullable=False),
        sa.Column("started_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("failure_class", sa.String(length=32), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("connect_ms", sa.Double(), nullable=True),
        sa.Column("tls_ms", sa.Double(), nullable=True),
        sa.Column("ttfb_ms", sa.Double(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("server_date", monitor.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"], ["check.id"], name="fk_check_result_check_id_check", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_check_result" if sqlite else f"pk_{OLD}"),
        *(
            [
                sa.UniqueConstraint(
                    "check_id",
                    "probe",
                    "started_at",
                    name="uq_check_result_check_id_probe_started_at",
                )
            ]
            if sqlite
            else []
        ),
    )
    op.execute(_downgrade_copy_sql(bind.dialect.name))
    op.drop_table("check_result")
    op.rename_table(OLD, "check_result")
    if not sqlite:
        op.execute(f"ALTER INDEX pk_{OLD} RENAME TO pk_check_result")
        op.execute(f"ALTER SEQUENCE {OLD}_id_seq RENAME TO check_result_id_seq")
        # As 0007 left it: "the newest pass" answered from the index alone.
        op.execute(
            "ALTER TABLE check_result ADD CONSTRAINT uq_check_result_check_id_probe_started_at "
            "UNIQUE (check_id, probe, started_at) INCLUDE (ok)"
        )
    op.create_index("ix_check_result_started", "check_result", ["started_at"])
    op.create_index(
        "ix_check_result_failed",
        "check_result",
        ["started_at"],
        sqlite_where=sa.text("ok = 0"),
        postgresql_where=sa.text("NOT ok"),
    )
    op.drop_table("probe")
    for name in ("usual_facts", "usual_detail"):
        if sqlite:
            # Natively (SQLite 3.35+): a batch rebuild would drop "check", and with
            # foreign keys on that deletes every row referring to it.
            op.execute(f'ALTER TABLE "check" DROP COLUMN {name}')
        else:
            op.drop_column("check", name)


def _failure_name(code: str) -> str:
    cases = " ".join(f"WHEN {number} THEN '{name}'" for name, number in FAILURE_CODES.items())
    return (
        f"CASE WHEN {code} IS NULL THEN NULL ELSE CASE {code} {cases} ELSE 'unclassified' END END"
    )


def _downgrade_copy_sql(dialect: str) -> str:
    """Every compact row as an old one: facts with all phases back in ``phases_ms``, as written then."""
    columns = (
        "check_id, probe, started_at, duration_ms, ok, skipped, failure_class, http_status, "
        "connect_ms, tls_ms, ttfb_ms, request_id, server_date, detail, facts"
    )
    source = (
        'FROM check_result r JOIN "check" c ON c.id = r.check_id JOIN probe p ON p.id = r.probe_id '
        "ORDER BY r.started_ms, r.check_id, r.probe_id"
    )
    if dialect == "sqlite":

        def moment(ms: str) -> str:
            return (
                f"strftime('%Y-%m-%d %H:%M:%S', {ms} / 1000, 'unixepoch') "
                f"|| printf('.%03d000', {ms} % 1000)"
            )

        def number(us: str) -> str:
            return f"{us} / 1000.0"

        # A run written after the upgrade may store what moved from its check's usual
        # ("+{...}", runcodes.facts_against): patched onto the usual, whole again. (A key
        # such a run lacked, listed under "-", cannot be taken out here: it is dropped as
        # a key, and the usual's value stays.)
        stored = (
            "(CASE WHEN r.facts LIKE '+%' THEN json_remove(json_patch(coalesce(c.usual_facts, "
            "'{}'), substr(r.facts, 2)), '$.\"-\"') ELSE coalesce(r.facts, c.usual_facts, '{}') END)"
        )
        # Facts kept as they were (see above) hold their phases already: kept again.
        facts = f"CASE WHEN json_valid({stored}) THEN {stored} ELSE '{{}}' END"
        # json_patch onto {} drops the NULL phases; then those kept in the facts.
        listed = ", ".join(f"'{name}', {number(f'r.{name}_us')}" for name in PHASES)
        phases = (
            f"json_patch(json_patch('{{}}', json_object({listed})), "
            f"coalesce(json_extract({facts}, '$.phases_ms'), '{{}}'))"
        )
        old_facts = (
            f"CASE WHEN NOT json_valid({stored}) THEN {stored} "
            f"WHEN {phases} = '{{}}' THEN json_remove({facts}, '$.phases_ms') "
            f"ELSE json_set({facts}, '$.phases_ms', json({phases})) END"
        )
        ok, skipped = "r.outcome <> 1", "r.outcome = 2"
    else:

        def moment(ms: str) -> str:
            return f"'epoch'::timestamptz + {ms} * interval '1 millisecond'"

        def number(us: str) -> str:
            return f"{us}::float8 / 1000"

        # What moved from the usual ("+{...}"), patched onto it, as on SQLite above.
        stored = (
            "(CASE WHEN r.facts LIKE '+%' THEN ((coalesce(c.usual_facts, '{}')::jsonb "
            "|| substr(r.facts, 2)::jsonb) - '-')::text ELSE coalesce(r.facts, c.usual_facts, "
            "'{}') END)"
        )
        kept = f"strpos({stored}, '\\u0000') > 0"  # as above: kept again
        facts = f"(CASE WHEN {kept} THEN '{{}}' ELSE {stored} END)::jsonb"
        listed = ", ".join(f"'{name}', {number(f'r.{name}_us')}" for name in PHASES)
        phases = (
            f"(jsonb_strip_nulls(jsonb_build_object({listed})) "
            f"|| coalesce({facts} -> 'phases_ms', '{{}}'::jsonb))"
        )
        old_facts = (
            f"CASE WHEN {kept} THEN {stored}::json "
            f"WHEN {phases} = '{{}}'::jsonb THEN ({facts} - 'phases_ms')::json "
            f"ELSE ({facts} || jsonb_build_object('phases_ms', {phases}))::json END"
        )
        ok, skipped = "r.outcome <> 1", "r.outcome = 2"
    return f"""
        INSERT INTO {OLD} ({columns})
        SELECT r.check_id, p.name, {moment("r.started_ms")}, {number("r.duration_us")},
            {ok}, {skipped}, {_failure_name("r.failure_class")}, r.http_status,
            {number("r.connect_us")}, {number("r.tls_us")}, {number("r.ttfb_us")},
            r.request_id,
            CASE WHEN r.server_date_ms IS NULL THEN NULL ELSE {moment("r.server_date_ms")} END,
            coalesce(r.detail, c.usual_detail, ''), {old_facts}
        {source}"""
