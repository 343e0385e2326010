"""Parse a 50-incident ``incidents.json`` and upsert it in one write transaction."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.measure import Reference, Row, expect, timed
from benchmarks.registry import Context, Figure
from benchmarks.server import fixture
from monitor.sources.statuspage import parse_incidents
from monitor.store.ingest import apply_snapshot
from monitor.store.queries import SourceSpec, sync_sources

FIGURE = "parse + upsert 50-incident incidents.json"
PAYLOAD = "github/incidents-2026-07-31.json"
ROWS = 748  # incidents, updates, incident and update components: what the first apply writes
INSERTS = {
    "incident": "INSERT INTO incident (id, source_id, external_id, title, status, impact, "
    "created_at, started_at, resolved_at, url, first_seen_at, last_changed_at) "
    "VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "incident_update": "INSERT INTO incident_update (id, incident_id, external_id, status, body, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
    "incident_component": "INSERT INTO incident_component (incident_id, component) VALUES (?, ?)",
    "update_component": "INSERT INTO update_component (update_id, component, old_status, "
    "new_status) VALUES (?, ?, ?, ?)",
}


def run(context: Context) -> list[Row]:
    folder = context.folder()
    done = context.rounds(lambda: (*_apply(context), _floor(context, folder)))
    first, parse, again, floor = zip(*done, strict=True)
    reference = Reference("json.loads + sqlite3 executemany", floor)
    return [
        Row(FIGURE, first, "ms", 0.050, "<= 50 ms", reference=reference),
        Row("  of which parse_incidents", parse),
        Row("  re-apply identical payload (populated DB)", again),
    ]


def _apply(context: Context) -> tuple[float, float, float]:
    """Into a fresh database: the first apply (50 incidents, 287 updates), then the same again."""
    applied: list[float] = []
    with context.fresh_store() as (_, store):
        with store.write() as session, session.begin():
            spec = SourceSpec("github", "statuspage", "https://www.githubstatus.com")
            source_id = sync_sources(session, [spec], datetime.now(UTC))["github"]
        for expected in ((50, 287), (0, 0)):
            observed_at = datetime.now(UTC)
            with timed() as span:
                began = time.perf_counter()
                snapshot = parse_incidents(fixture(PAYLOAD))
                parse = time.perf_counter() - began
                with store.write() as session, session.begin():
                    stats = apply_snapshot(session, source_id, snapshot, observed_at)
            new = (stats.new_incidents, stats.new_updates)
            expect(new == expected and (any(new) or not stats.changed), f"apply said {stats}")
            applied += [span.wall, parse]
    return applied[0], applied[1], applied[2]


def _floor(context: Context, folder: Path) -> float:
    """json.loads and one transaction of executemany, on a connection set up like the app's."""
    path = context.empty_database(folder / "floor.db").removeprefix("sqlite:///")
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            con.execute(f"PRAGMA {pragma}")
        con.execute(
            "INSERT INTO source (id, name, kind, url, settings, created_at) VALUES (1, 'github', "
            "'statuspage', 'https://www.githubstatus.com', '', '2026-01-01 00:00:00.000000')"
        )
        with timed() as span:
            rows = _rows(json.loads(fixture(PAYLOAD)))
            con.execute("BEGIN IMMEDIATE")
            for table, sql in INSERTS.items():
                con.executemany(sql, rows[table])
            con.execute("COMMIT")
    finally:
        con.close()
    written = sum(map(len, rows.values()))
    expect(written == ROWS, f"the reference wrote {written} rows, not apply_snapshot's {ROWS}")
    return span.wall


def _rows(document: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows apply_snapshot writes for an incidents.json, taken straight from the JSON."""
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in INSERTS}
    fields = ("id", "name", "status", "impact", "created_at", "started_at", "resolved_at")
    for i, incident in enumerate(document["incidents"], start=1):
        values = (*(incident[f] for f in fields), incident["shortlink"], incident["updated_at"])
        rows["incident"].append((i, *values, incident["updated_at"]))
        rows["incident_component"] += [(i, c["name"]) for c in incident.get("components") or []]
        for update in incident["incident_updates"]:
            u = len(rows["incident_update"]) + 1
            fields_u = (update["id"], update["status"], update["body"], update["created_at"])
            rows["incident_update"].append((u, i, *fields_u))
            rows["update_component"] += [
                (u, a["name"], a["old_status"], a["new_status"])
                for a in update.get("affected_components") or []
            ]
    return rows


NOTES = (
    "parse + upsert: parse_incidents, then apply_snapshot and commit in one write "
    "transaction, into a fresh SQLite file (WAL) per round, after one uncounted warm-up. "
    f"Reference: json.loads of the same bytes, then the same {ROWS} rows (incidents, "
    "updates, their components, straight from the JSON: no date parsing, no lookups) "
    "written by plain sqlite3 executemany in one transaction into a fresh copy of the "
    "app's empty schema, on a connection set up like the app's (WAL, synchronous=NORMAL, "
    "foreign keys on) and opened before the timer.",
)
FIGURES = (Figure("ingest", run, ((FIGURE, "<= 50 ms"),), notes=NOTES),)
