"""Figures 8 and 9: what a year of check runs costs on disk, measured on the generated database.

The file (plus its WAL, after a checkpoint) divided by its check_result
rows; where the bytes are (SQLite's dbstat: each table with its indexes,
and check_result's own pages split into row payload, free space and
headers); and the same rows copied by plain sqlite3 into a file holding
nothing but check_result: in key order (the floor this layout can reach),
in time order (as the service inserts them), and in the layout before the
compact one (migration 0009's).
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
from monitor.store.runcodes import FAILURE_NAMES

FIGURE_PER_RESULT = "database bytes per check result"
FIGURE_PER_YEAR = "bytes per year: 12 checks every 30 s"
RUNS_PER_YEAR = 12 * (86_400 // 30) * 365  # 12,614,400 check runs
TARGET_PER_RESULT, TARGET_PER_YEAR = 100, 1.3e9
SAMPLE_DAYS = 30  # the newest days' rows are copied into each reference file
INCIDENTS = "incidents, updates, components, maintenances"
GROUPS = {"check_result": "check runs", "rollup_hourly": "hourly rollups", "poll": "poll log"}
GROUPS |= dict.fromkeys(("incident", "incident_update", "incident_component", "update_component",
                         "component_status", "maintenance"), INCIDENTS)  # fmt: skip
OTHER = "everything else (small tables, schema, free pages)"
OLD = """
CREATE TABLE check_result (id INTEGER NOT NULL PRIMARY KEY, check_id INTEGER NOT NULL,
    probe VARCHAR(64) NOT NULL, started_at DATETIME NOT NULL, duration_ms DOUBLE NOT NULL,
    ok BOOLEAN NOT NULL, skipped BOOLEAN NOT NULL, failure_class VARCHAR(32), http_status INTEGER,
    connect_ms DOUBLE, tls_ms DOUBLE, ttfb_ms DOUBLE, request_id VARCHAR(128),
    server_date DATETIME, detail TEXT NOT NULL, facts JSON NOT NULL,
    UNIQUE (check_id, probe, started_at));
CREATE INDEX ix_check_result_started ON check_result (started_at);
CREATE INDEX ix_check_result_failed ON check_result (started_at) WHERE ok = 0;
"""  # migration 0009's check_result, as SQLAlchemy created it
OLD_COPY = """
INSERT INTO check_result SELECT NULL, r.check_id, p.name, {started},
    r.duration_us / 1000.0, r.outcome != 1, r.outcome = 2, {classes}, r.http_status,
    r.connect_us / 1000.0, r.tls_us / 1000.0, r.ttfb_us / 1000.0, r.request_id,
    {date}, coalesce(r.detail, c.usual_detail, ''),
    json_set({facts}, '$.phases_ms', json_patch(
        coalesce(json_extract({facts}, '$.phases_ms'), '{{}}'),
        json_object('connect', r.connect_us / 1000.0, 'tls', r.tls_us / 1000.0,
                    'ttfb', r.ttfb_us / 1000.0, 'dns', r.dns_us / 1000.0)))
FROM src.check_result r JOIN src."check" c ON c.id = r.check_id JOIN src.probe p
    ON p.id = r.probe_id WHERE r.started_ms >= ? ORDER BY r.started_ms
"""  # 0009 kept phases in facts too (json_patch drops the NULL ones), detail never NULL
# A run's whole facts: its own, the usual, or the usual patched with what moved ("+{...}").
FACTS = (
    "(CASE WHEN r.facts LIKE '+%' THEN json_patch(coalesce(c.usual_facts, '{{}}'), "
    "substr(r.facts, 2)) ELSE coalesce(r.facts, c.usual_facts, '{{}}') END)"
)
TIME = "strftime('%Y-%m-%d %H:%M:%f', {} / 1000.0, 'unixepoch') || '000'"


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the bytes of one database file are."""

    bytes: int
    results: int
    groups: dict[str, int]  # GROUPS' names (and OTHER) -> bytes
    pages: dict[str, tuple[int, int, int]]  # check_result's b-trees: label -> bytes, payload, free


def layout(path: Path) -> Layout:
    """Checkpoint, then size the file and group its pages by table (indexes with their table)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        results = int(con.execute("SELECT count(*) FROM check_result").fetchone()[0])
        owners = dict(con.execute("SELECT name, tbl_name FROM sqlite_schema").fetchall())
        stats = con.execute(
            "SELECT name, sum(pgsize), sum(payload), sum(unused) FROM dbstat GROUP BY name"
        ).fetchall()
        labels = {
            name: "index (" + ", ".join(c[2] for c in con.execute(f"PRAGMA index_info('{name}')"))
            + (")" if "failed" not in name else ") where outcome = 1")
            for name, table in owners.items() if table == "check_result" and name != table
        } | {"check_result": "table (its rows, clustered by check, probe, time)"}  # fmt: skip
    wal = path.with_name(path.name + "-wal")
    size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    groups: defaultdict[str, int] = defaultdict(int)
    for name, used, _payload, _free in stats:
        groups[GROUPS.get(owners.get(name, name), OTHER)] += used
    groups[OTHER] += size - sum(used for _, used, _, _ in stats)  # free pages, WAL
    pages = {labels[name]: (used, payload, free) for name, used, payload, free in stats
             if name in labels}  # fmt: skip
    return Layout(size, results, dict(groups), pages)


def references(path: Path) -> tuple[dict[str, float], int]:
    """Bytes per row of the newest SAMPLE_DAYS' runs copied alone into a fresh file (plain
    sqlite3, default settings); rows copied. The floor: the table filled in key order, then
    its indexes built (sorted, so every page full). As the service fills it: table and
    indexes first, then the rows in time order. And in the layout before (0009), likewise."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source:
        table, *indexes = (s for (s,) in source.execute(
            "SELECT sql FROM sqlite_schema WHERE tbl_name = 'check_result' AND sql IS NOT NULL "
            "ORDER BY type DESC"))  # fmt: skip
        newest = source.execute("SELECT max(started_ms) FROM check_result").fetchone()[0] or 0
    every = "INSERT INTO check_result SELECT * FROM src.check_result WHERE started_ms >= ? "
    names = " ".join(f"WHEN {code} THEN '{name}'" for code, name in FAILURE_NAMES.items())
    old = OLD_COPY.format(started=TIME.format("r.started_ms"), classes=f"CASE r.failure_class "
                          f"{names} END", date=TIME.format("r.server_date_ms"),
                          facts=FACTS)  # fmt: skip
    copies = {  # label: DDL before, the copy, DDL after
        "floor": ([table], every + "ORDER BY check_id, probe_id, started_ms", indexes),
        "time order": ([table, *indexes], every + "ORDER BY started_ms", []),
        "old layout": ([OLD], old, []),
    }
    found, copied = {}, 0
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as folder:
        for label, (before, copy, after) in copies.items():
            target = Path(folder) / f"{label}.db"
            with closing(sqlite3.connect(target, isolation_level=None)) as con:
                con.executescript(";".join(before))
                con.execute("ATTACH DATABASE ? AS src", (f"file:{path}?mode=ro",))
                con.execute("BEGIN")
                copied = con.execute(copy, (newest - SAMPLE_DAYS * 86_400_000,)).rowcount
                con.execute("COMMIT")
                con.executescript(";".join(after))
            found[label] = target.stat().st_size / max(1, copied)
            target.unlink()
    return found, copied


def run(context: Context) -> list[Row]:
    data = context.dataset()
    found = layout(data.path)
    expect(found.results > 0, f"{data.path} holds no check runs")
    floors, copied = references(data.path)
    per_result, floor = found.bytes / found.results, floors["floor"]
    rows = [
        Row(FIGURE_PER_RESULT, (per_result,), "B", TARGET_PER_RESULT, "<= 100 B",
            reference=Reference("same rows alone, plain sqlite3, packed", (floor,))),
        Row("  check_result with its indexes, per row",
            (found.groups.get("check runs", 0) / found.results,), "B"),
    ]  # fmt: skip
    for label, (used, payload, free) in sorted(found.pages.items(), key=lambda i: -i[1][0]):
        rows.append(Row(f"    {label}", (used / found.results,), "B"))
        rows.append(Row("      of which row payload", (payload / found.results,), "B"))
        rows.append(Row("      of which free space in its pages", (free / found.results,), "B"))
    rows += [
        Row(f"  share: {group}", (used / found.bytes,), "%")
        for group, used in sorted(found.groups.items(), key=lambda item: -item[1])
    ]
    rows += [
        Row("  same rows alone, in time order (as the service inserts them)",
            (floors["time order"],), "B"),
        Row("  same rows alone, in the layout before (0009)", (floors["old layout"],), "B"),
        Row("  check runs in the file", (float(found.results),), "n"),
        Row("  of them copied into each reference file", (float(copied),), "n"),
        Row(FIGURE_PER_YEAR, (per_result * RUNS_PER_YEAR,), "MB", TARGET_PER_YEAR,
            "<= 1.3 GB", reference=Reference("same rows alone, plain sqlite3, packed",
                                             (floor * RUNS_PER_YEAR,))),
        Row("  the layout before (0009), same rows alone",
            (floors["old layout"] * RUNS_PER_YEAR,), "MB"),
        Row("  at the default retention (raw 90 days)",
            (per_result * RUNS_PER_YEAR * 90 / 365,), "MB"),
    ]  # fmt: skip
    return rows


FIGURES = (
    Figure(
        "database",
        run,
        ((FIGURE_PER_RESULT, "<= 100 B"), (FIGURE_PER_YEAR, "<= 1.3 GB")),
        repeats=False,
        notes=(
            "database figures: measured once on the generated database (python -m "
            "benchmarks.generate: a year of 12 checks every 30 s, 12.6 million check runs in the "
            "compact layout, inserted in time order as the service does, in "
            "benchmarks/.cache/year.db; a week with --quick; --db PATH for another file). Bytes "
            "= the file plus its WAL after PRAGMA wal_checkpoint(TRUNCATE), divided by the "
            "check_result rows; where they are from SQLite's dbstat (each table with its "
            "indexes; check_result's b-trees split into row payload, free space inside their "
            "pages, and the rest: page and cell headers). The file also holds the hourly rollups "
            "the store's retention would have folded the runs older than 90 days into. Per year "
            f"= bytes per check run x {RUNS_PER_YEAR:,} runs (12 x 2,880 x 365), so everything "
            "else in the file (polls, incidents, rollups) is counted in proportion.",
            f"database reference: the newest {SAMPLE_DAYS} days' check runs copied with INSERT "
            "... SELECT by plain sqlite3 (default settings, no WAL) into a fresh file holding "
            "only check_result with the app's own DDL, in key order, its indexes built after "
            "(sorted): what this layout costs with nothing else around it and every page full. "
            "Sub-rows: the same copy into the table with its indexes, in time order (pages "
            "split as the service's inserts split them), and the same "
            "runs in migration 0009's layout (text times, names, phases repeated in JSON facts, "
            "detail and facts on every row; the request ids and dates of passing runs are not "
            "in the compact file, so that row is a lower bound of the old cost).",
        ),
    ),
)
