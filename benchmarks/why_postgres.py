"""``why`` in process on PostgreSQL, four probes' worth of the generated year, beside SQLite.

The generated database (one probe) is copied once per probe into PostgreSQL
and into a SQLite file (benchmarks.multiprobe), so both hold the same rows:
a year of 4 probes x 12 checks every 30 s, about 50 million check runs. The
figure is the same ``why`` the SQLite figure times (benchmarks.why.in_process)
at the same planted moments, on PostgreSQL; the reference is that ``why`` on
the SQLite copy, in the same run.
"""

from __future__ import annotations

from benchmarks import multiprobe, postgres
from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.why import EXPECTED, KINDS, in_process, moments, samples

TARGET_RATIO = 2.0
TARGET_LABEL = f"<= {TARGET_RATIO:g}x SQLite"
PROBES = len(multiprobe.PROBES)


def figure_name(kind: str) -> str:
    return f"why in process on PostgreSQL, {PROBES} probes, {kind.replace('_', ' ')}"


def run_why_postgres(context: Context) -> list[Row]:
    """Copy the dataset per probe into both databases (or reuse the copies), then time ``why``."""
    url = context.postgres_url
    if url is None:
        context.progress("  skipped: no --postgres-url given (see --help)")
        return [Row(figure_name(kind), (), target_label=TARGET_LABEL) for kind in KINDS]
    data = context.dataset()
    expect(data.summary is not None, "the why figures need a generated database (its moments)")
    assert data.summary is not None
    label = multiprobe.label(data.summary)
    lite = multiprobe.sqlite_target(data.path)
    lite_took = multiprobe.sqlite_copy(data.path, lite, label, context.progress)
    database = f"{multiprobe.DATABASE}_{data.summary.days}d"
    pg, pg_took = multiprobe.postgres_copy(data.path, url, database, label, context.progress)
    lite_url = f"sqlite:///{lite}"
    rows = []
    for kind, at in moments(context):
        on_pg, on_lite = in_process(pg, at), in_process(lite_url, at)
        for answer, where in ((on_pg, "PostgreSQL"), (on_lite, "SQLite")):
            verdict = answer()
            expect(verdict == EXPECTED[kind], f"why at {at} ({kind}) on {where} said {verdict}")
        reference = Reference(
            f"the same why on the SQLite copy (at {at:%Y-%m-%d %H:%M}Z)",
            tuple(samples(on_lite, context.repeat)),
        )
        rows.append(
            Row(
                figure_name(kind),
                tuple(samples(on_pg, context.repeat)),
                unit="ms",
                target=TARGET_RATIO * (reference.median or 0.0),
                target_label=TARGET_LABEL,
                reference=reference,
            )
        )
    runs = multiprobe.count_rows(pg, "check_result")
    expect(runs == multiprobe.count_rows(lite_url, "check_result"), "the copies differ in size")
    rows += [
        Row("  check runs in each copy", (float(runs),), unit="n"),
        Row("  PostgreSQL database size", (float(postgres.database_size(url, database)),), "MB"),
        Row("  SQLite copy, file size", (float(lite.stat().st_size),), unit="MB"),
    ]
    if pg_took is not None:
        rows.append(Row("  made now: the PostgreSQL copy (COPY, indexes, VACUUM)", (pg_took,), "s"))
    if lite_took is not None:
        rows.append(Row("  made now: the SQLite copy (INSERT ... SELECT)", (lite_took,), "s"))
    return rows


FIGURES = (
    Figure(
        "why-postgres",
        run_why_postgres,
        tuple((figure_name(kind), TARGET_LABEL) for kind in KINDS),
        notes=(
            "why on PostgreSQL: the generated database (a year of 12 checks every 30 s, one "
            f"probe; a week with --quick) copied once per probe for {PROBES} probes "
            "(probe-1..probe-4), into a PostgreSQL database on the --postgres-url server "
            "(COPY fed by SQLite, then the app's own indexes and constraints rebuilt from their "
            "definitions and VACUUM ANALYZE, as autovacuum would) and into a SQLite file "
            "beside the generated one (INSERT ... SELECT into the app's migrated schema): the "
            "same rows in both. Each table with a probe column (check runs, heartbeats, polls, "
            "hourly rollups) holds every row once per probe, ids renumbered in time order; the "
            "rest (checks, sources, incidents) once. Both copies are labelled when complete "
            "and reused while the label matches (the rows 'made now' appear only when one was "
            "made in the run). The figure: the why-in-process call (read_around, "
            "evidence_from, explain) on PostgreSQL at the same planted moments, verdicts "
            "checked on both; one uncounted warm-up each. Reference: the same call on the "
            "SQLite copy, measured in the same run right after; the target is "
            f"{TARGET_RATIO:g}x its median. Without --postgres-url the figure is listed as "
            "skipped.",
        ),
    ),
)
