"""Figures 8 and 9: what a year of check runs costs on disk, measured on the generated database.

The file (plus its WAL, after a checkpoint) divided by its check_result
rows, the share of each kind of table (SQLite's dbstat), and two floors
built from a sample of the same rows: the same table and indexes written by
plain sqlite3 (what monitor's schema costs with nothing else around it),
and a compact layout (what the same numbers could cost).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure

FIGURE_PER_RESULT = "database bytes per check result"
FIGURE_PER_YEAR = "bytes per year: 12 checks every 30 s"
RUNS_PER_YEAR = 12 * (86_400 // 30) * 365  # 12,614,400 check runs
SAMPLE_ROWS = 1_000_000  # rows copied into each floor table
GROUPS = {  # table -> the group its pages count under (indexes go with their table)
    "check_result": "check runs",
    "rollup_hourly": "hourly rollups",
    "poll": "poll log",
    "incident": "incidents, updates, components, maintenances",
    "incident_update": "incidents, updates, components, maintenances",
    "incident_component": "incidents, updates, components, maintenances",
    "update_component": "incidents, updates, components, maintenances",
    "component_status": "incidents, updates, components, maintenances",
    "maintenance": "incidents, updates, components, maintenances",
}
OTHER = "everything else (small tables, schema, free pages)"
COMPACT = """
CREATE TABLE compact (
    check_id INTEGER NOT NULL, probe_id INTEGER NOT NULL, started_ms INTEGER NOT NULL,
    duration_ms REAL NOT NULL, outcome INTEGER NOT NULL, failure_class TEXT,
    http_status INTEGER, connect_ms REAL, tls_ms REAL, ttfb_ms REAL,
    request_id TEXT, server_date INTEGER, detail TEXT, facts TEXT,
    PRIMARY KEY (check_id, probe_id, started_ms)
) WITHOUT ROWID;
CREATE INDEX compact_started ON compact (started_ms);
"""
COMPACT_COPY = """
INSERT INTO compact SELECT check_id, 1,
    CAST(round((julianday(started_at) - 2440587.5) * 86400000) AS INTEGER),
    duration_ms, CASE WHEN skipped THEN 2 WHEN ok THEN 0 ELSE 1 END, failure_class,
    http_status, connect_ms, tls_ms, ttfb_ms,
    CASE WHEN ok THEN NULL ELSE request_id END,
    CASE WHEN ok THEN NULL ELSE CAST(strftime('%s', server_date) AS INTEGER) END,
    CASE WHEN ok THEN NULL ELSE detail END,
    CASE WHEN ok THEN NULL ELSE facts END
FROM src.check_result WHERE id > ? ORDER BY id
"""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the bytes of one database file are."""

    bytes: int
    results: int
    groups: dict[str, int]  # GROUPS' names (and OTHER) -> bytes
    indexes: dict[str, int]  # check_result's indexes -> bytes


def layout(path: Path) -> Layout:
    """Checkpoint, then size the file and group its pages by table (indexes with their table)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        results = int(con.execute("SELECT count(*) FROM check_result").fetchone()[0])
        owners = dict(con.execute("SELECT name, tbl_name FROM sqlite_schema").fetchall())
        labels = {
            name: "index ("
            + ", ".join(c[2] for c in con.execute(f"PRAGMA index_info('{name}')"))
            + ")"
            for name, table in owners.items()
            if table == "check_result" and name != table
        }
        pages = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    wal = path.with_name(path.name + "-wal")
    size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    groups: defaultdict[str, int] = defaultdict(int)
    indexes: dict[str, int] = {}
    for name, used in pages:
        table = owners.get(name, name)
        groups[GROUPS.get(table, OTHER)] += used
        if name in labels:
            indexes[labels[name]] = used
    groups[OTHER] += size - sum(used for _, used in pages)  # free pages, WAL
    return Layout(size, results, dict(groups), indexes)


def floors(path: Path, sample: int) -> tuple[float, float, int]:
    """Bytes per row of the newest ``sample`` check runs: plain copy, compact layout; rows used."""
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as name:
        plain, compact = Path(name) / "plain.db", Path(name) / "compact.db"
        with closing(sqlite3.connect(path)) as source:
            schema = source.execute(
                "SELECT sql FROM sqlite_schema WHERE tbl_name = 'check_result' AND sql IS NOT NULL "
                "ORDER BY type DESC"  # the table before its indexes
            ).fetchall()
            newest = int(source.execute("SELECT max(id) FROM check_result").fetchone()[0] or 0)
        first = max(0, newest - sample)
        copied = _fill(
            plain,
            ";".join(s for (s,) in schema),
            "INSERT INTO check_result SELECT * FROM src.check_result WHERE id > ? ORDER BY id",
            path,
            first,
        )
        _fill(compact, COMPACT, COMPACT_COPY, path, first)
        return plain.stat().st_size / copied, compact.stat().st_size / copied, copied


def _fill(target: Path, schema: str, copy: str, source: Path, first: int) -> int:
    """A fresh plain sqlite3 file (default settings) with ``schema``, filled by ``copy``."""
    with closing(sqlite3.connect(target, isolation_level=None)) as con:
        con.executescript(schema)
        con.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
        con.execute("BEGIN")
        copied = con.execute(copy, (first,)).rowcount
        con.execute("COMMIT")
        con.execute("DETACH DATABASE src")
    return copied


def run(context: Context) -> list[Row]:
    data = context.dataset()
    found = layout(data.path)
    expect(found.results > 0, f"{data.path} holds no check runs")
    plain, compact, sampled = floors(data.path, SAMPLE_ROWS)
    per_result = found.bytes / found.results
    check_runs = found.groups.get("check runs", 0)
    rows = [
        Row(
            FIGURE_PER_RESULT,
            (per_result,),
            unit="B",
            reference=Reference("same rows, plain sqlite3, same table + indexes", (plain,)),
        ),
        Row("  check_result table with its indexes, per row", (check_runs / found.results,), "B"),
    ]
    rows += [
        Row(f"  of which {name}", (used / found.results,), "B")
        for name, used in sorted(found.indexes.items())
    ]
    rows += [
        Row(f"  share: {group}", (used / found.bytes,), "%")
        for group, used in sorted(found.groups.items(), key=lambda item: -item[1])
    ]
    rows += [
        Row("  compact layout of the same rows (see notes)", (compact,), "B"),
        Row("  check runs in the file", (float(found.results),), "n"),
        Row("  of them copied into each floor's table", (float(sampled),), "n"),
        Row(
            FIGURE_PER_YEAR,
            (per_result * RUNS_PER_YEAR,),
            unit="MB",
            reference=Reference("plain sqlite3 floor, same rows", (plain * RUNS_PER_YEAR,)),
        ),
        Row("  compact layout, same rows", (compact * RUNS_PER_YEAR,), "MB"),
        Row(
            "  at the default retention (raw 90 days)",
            (per_result * RUNS_PER_YEAR * 90 / 365,),
            "MB",
        ),
    ]
    return rows


FIGURES = (
    Figure(
        "database",
        run,
        ((FIGURE_PER_RESULT, "-"), (FIGURE_PER_YEAR, "-")),
        repeats=False,
        notes=(
            "database figures: measured once on the generated database (python -m "
            "benchmarks.generate: a year of 12 checks every 30 s, ~12.6 million check runs, in "
            "benchmarks/.cache/year.db; a week with --quick; --db PATH for another file). Bytes "
            "= the file plus its WAL after PRAGMA wal_checkpoint(TRUNCATE), divided by the "
            "check_result rows; shares from SQLite's dbstat, each table with its indexes. The "
            "generated file holds rollups for every hour even where raw rows are kept (the "
            "app folds and deletes); they are a fraction of a percent. Per year = bytes per "
            f"check run x {RUNS_PER_YEAR:,} runs (12 x 2,880 x 365), so everything else in the "
            "file (polls, incidents, rollups) is counted in proportion.",
            f"database reference: the newest check runs (up to {SAMPLE_ROWS:,}) copied with "
            "INSERT ... SELECT, in id (= time) order, by plain sqlite3 (default settings, no "
            "WAL) into a fresh file holding only check_result with the app's own DDL and both "
            "its indexes: the bytes monitor's row layout costs with nothing else around it. The "
            "compact layout is a floor for the same information, not what monitor does: times "
            "as integer milliseconds, outcome as a small integer, a WITHOUT ROWID table keyed "
            "by (check, probe, time) plus a time index, and detail, facts, request id and "
            "server date kept only for runs that did not pass (an ok run's detail and facts "
            "repeat the same text or the phase columns).",
        ),
    ),
)
