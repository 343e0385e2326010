"""The rows the app writes itself, and a check that the generator's raw text matches the app's.

Sources and checks go in through monitor.store's own sync functions. Then one
check run and one rollup are written through the app (in a transaction
rolled back afterwards) and read back raw: if SQLAlchemy ever stores times
or JSON differently, generation stops instead of writing a year of rows
the app would misread.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text

from benchmarks.generate.catalog import SOURCES
from benchmarks.generate.story import Plan
from benchmarks.generate.timefmt import HOUR, aware, db_text
from monitor.store import Store
from monitor.store.checkruns import CheckSpec, record_check_run, sync_checks
from monitor.store.models import RollupHourly
from monitor.store.queries import SourceSpec, sync_sources


def app_rows(store: Store, plan: Plan) -> tuple[dict[str, int], dict[str, int]]:
    """Source and check rows through the app; their ids by name."""
    created = aware(plan.start)
    with store.write() as session, session.begin():
        sources = sync_sources(
            session, [SourceSpec(s.name, s.kind, s.url) for s in SOURCES], created
        )
        checks = sync_checks(
            session,
            [
                CheckSpec(c.name, c.kind, c.role, c.target, c.source, list(c.components))
                for c in plan.checks
            ],
            created,
        )
        for source in SOURCES:
            session.execute(
                text("UPDATE source SET page_name = :page, page_status = :status WHERE id = :id"),
                {
                    "page": source.page_name,
                    "status": "All Systems Operational",
                    "id": sources[source.name],
                },
            )
    return sources, checks


def expect_app_formats(store: Store, check_id: int, start: int) -> None:
    """Raise if the app stores a time, a float or JSON differently from the generator."""
    at = aware(start) + timedelta(seconds=1, microseconds=234_567)
    facts = {"phases_ms": {"connect": 12.5, "total": 99.25}}
    classes = {"server_error": 2, "timeout": 1}
    with store.write() as session:
        session.begin()
        record_check_run(
            session,
            check_id=check_id,
            probe="format-check",
            started_at=at,
            duration_ms=99.32,
            ok=True,
            skipped=False,
            server_date=at.replace(microsecond=0),
            detail="",
            facts=facts,
        )
        session.add(
            RollupHourly(
                check_id=check_id,
                probe="format-check",
                hour=aware(start // HOUR * HOUR),
                runs=3,
                failures=3,
                skipped=0,
                p50_ms=1.5,
                p95_ms=None,
                failure_classes=classes,
            )
        )
        session.flush()
        run = session.execute(
            text("SELECT started_at, server_date, duration_ms, ok, facts FROM check_result")
        ).one()
        rollup = session.execute(text("SELECT hour, failure_classes FROM rollup_hourly")).one()
        session.rollback()
    expected_run = (db_text(start + 1, 234_567), db_text(start + 1), 99.32, 1, json.dumps(facts))
    expected_rollup = (db_text(start // HOUR * HOUR), json.dumps(classes))
    if tuple(run) != expected_run or tuple(rollup) != expected_rollup:
        raise RuntimeError(
            "the app stores rows differently from the generator: "
            f"{tuple(run)} != {expected_run} or {tuple(rollup)} != {expected_rollup}"
        )
