"""Figure 1: parse a 50-incident ``incidents.json`` and upsert it, in one write transaction."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import payloads, references
from benchmarks.measure import Reference, Row, expect, timed
from benchmarks.registry import Context, Figure
from monitor.sources.statuspage import parse_incidents
from monitor.store import Store, open_store
from monitor.store.ingest import ApplyStats, apply_snapshot
from monitor.store.queries import SourceSpec, sync_sources

FIGURE = "parse + upsert 50-incident incidents.json"
TARGET_S = 0.050
INCIDENTS = 50
UPDATES = 287
ROWS = 748  # incidents, updates, incident and update components: what the first apply writes


@dataclass(frozen=True, slots=True)
class Ingest:
    """One parse + apply + commit: its wall time, the parse's share, and what it changed."""

    wall: float
    parse: float
    stats: ApplyStats


def run(context: Context) -> list[Row]:
    """Fresh database per round: first apply (the figure), then re-apply the same bytes.

    Each round also times the reference on a fresh copy of the same empty schema.
    """
    payload = payloads.incidents()
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as name:
        tmp = Path(name)
        template = _empty_schema(tmp / "template.db")
        _round(payload, tmp)  # warm-up: imports, SQLAlchemy's statement cache; not counted
        references.ingest_floor(payload, template, tmp / "floor.db")
        rounds = [_round(payload, tmp) for _ in range(context.repeat)]
        floors = [references.ingest_floor(payload, template, tmp / "floor.db") for _ in rounds]
    written = floors[0][1]
    expect(
        sum(written.values()) == ROWS,
        f"the reference should write the {ROWS} rows apply_snapshot writes: {written}",
    )
    return [
        Row(
            FIGURE,
            tuple(f.wall for f, _ in rounds),
            target=TARGET_S,
            target_label="<= 50 ms",
            reference=Reference(references.LABEL_INGEST, tuple(s.wall for s, _ in floors)),
        ),
        Row("  of which parse_incidents", tuple(f.parse for f, _ in rounds)),
        Row("  re-apply identical payload (populated DB)", tuple(a.wall for _, a in rounds)),
    ]


def _empty_schema(path: Path) -> Path:
    """A migrated, empty database to copy for each reference round."""
    store = open_store(f"sqlite:///{path}")
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def _round(payload: bytes, tmp: Path) -> tuple[Ingest, Ingest]:
    database = tmp / "monitor.db"
    for leftover in (database, tmp / "monitor.db-wal", tmp / "monitor.db-shm"):
        leftover.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{database}")
    try:
        source_id = _create_source(store)
        first = _ingest(store, source_id, payload)
        again = _ingest(store, source_id, payload)
    finally:
        store.close()
    expect(
        (first.stats.new_incidents, first.stats.new_updates) == (INCIDENTS, UPDATES),
        f"first apply should add {INCIDENTS} incidents and {UPDATES} updates: {first.stats}",
    )
    expect(not again.stats.changed, f"re-applying the same payload changed rows: {again.stats}")
    return first, again


def _create_source(store: Store) -> int:
    with store.write() as session, session.begin():
        spec = SourceSpec("github", "statuspage", "https://www.githubstatus.com")
        return sync_sources(session, [spec], datetime.now(UTC))["github"]


def _ingest(store: Store, source_id: int, payload: bytes) -> Ingest:
    observed_at = datetime.now(UTC)
    with timed() as span:
        parse_start = time.perf_counter()
        snapshot = parse_incidents(payload)
        parse = time.perf_counter() - parse_start
        with store.write() as session, session.begin():
            stats = apply_snapshot(session, source_id, snapshot, observed_at)
    return Ingest(span.wall, parse, stats)


FIGURES = (
    Figure(
        "ingest",
        run,
        ((FIGURE, "<= 50 ms"),),
        notes=(
            "parse + upsert: parse_incidents, then apply_snapshot and commit in one write "
            "transaction, on a fresh SQLite file (WAL) per round, after one uncounted warm-up.",
            f"parse + upsert reference: json.loads of the same bytes, then the same {ROWS} rows "
            "(50 incidents, 287 updates, their incident and update components, taken straight "
            "from the JSON: no date parsing, no lookups) written by plain sqlite3 executemany "
            "in one transaction into a fresh copy of the app's empty schema, on a connection "
            "set up like the app's (WAL, synchronous=NORMAL, foreign keys on) and opened "
            "before the timer.",
        ),
    ),
)
