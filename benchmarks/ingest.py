"""Figure 1: parse a 50-incident ``incidents.json`` and upsert it, in one write transaction."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import payloads
from benchmarks.measure import Row, expect, timed
from monitor.sources.statuspage import parse_incidents
from monitor.store import Store, open_store
from monitor.store.ingest import ApplyStats, apply_snapshot
from monitor.store.queries import SourceSpec, sync_sources

FIGURE = "parse + upsert 50-incident incidents.json"
TARGET_S = 0.050
INCIDENTS = 50
UPDATES = 287


@dataclass(frozen=True, slots=True)
class Ingest:
    """One parse + apply + commit: its wall time, the parse's share, and what it changed."""

    wall: float
    parse: float
    stats: ApplyStats


def run(repeat: int) -> list[Row]:
    """Fresh database per round: first apply (the figure), then re-apply the same bytes."""
    payload = payloads.incidents()
    _round(payload)  # warm-up: imports, SQLAlchemy's statement cache; not counted
    rounds = [_round(payload) for _ in range(repeat)]
    return [
        Row(FIGURE, tuple(f.wall for f, _ in rounds), target=TARGET_S, target_label="<= 50 ms"),
        Row("  of which parse_incidents", tuple(f.parse for f, _ in rounds)),
        Row("  re-apply identical payload (populated DB)", tuple(a.wall for _, a in rounds)),
    ]


def _round(payload: bytes) -> tuple[Ingest, Ingest]:
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'monitor.db'}")
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
