"""Retention: fold old check runs into hourly rollups, then delete the raw rows.

A check on a 30 s interval writes ~2,900 rows a day; kept forever that is a
database that only grows. Questions about last quarter need "how often did
it fail, how slow was it, what kind of failure" per hour, not every run, so
raw runs older than ``retention.raw`` (default 90 days) are folded into one
``rollup_hourly`` row per check, probe and hour, and rollups themselves go
after ``retention.rollups`` (default 2 years).

Why it is safe to interrupt and to re-run:

* Only whole hours are folded: everything strictly before the raw cutoff,
  ``hour_of(now - raw)``. Raw rows are therefore kept for at least ``raw``
  and at most ``raw`` plus an hour, and an hour is never split between a
  rollup and raw rows by the cutoff.
* Each batch of hours is one write transaction that reads the hours' raw
  rows, writes their rollups and deletes exactly the rows it read. A kill or
  an error leaves every hour either wholly raw or wholly rolled up, and the
  next run simply carries on with the hours still raw.
* Should raw rows appear in an hour that was already folded (a run recorded
  late: a skewed probe clock, an import), they are merged into the existing
  rollup. Since folded rows were deleted with the write, "existing rollup +
  remaining raw rows" never counts a run twice. Counts merge exactly;
  percentiles cannot be (their inputs are gone) and are blended instead,
  see ``monitor.rollups.merge``.

What is never pruned: incidents and their updates and components,
maintenances, component history, heartbeats. The poll log is kept for now
(one row per source poll is small next to check runs; its retention is
left for when someone needs it).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from monitor.rollups import RawRun, RollupRow, fold, hour_of, keep_problem, merge
from monitor.store import Store, runcodes
from monitor.store.checkruns import ms_from
from monitor.store.models import CheckRun, Probe, RollupHourly

log = logging.getLogger("monitor.retention")

# Runs per DELETE statement: well under SQLite's bound-parameter limit (999
# on old builds), so the same code runs everywhere.
_DELETE_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PruneStats:
    """What one prune did; the counts are totals over all its transactions."""

    runs_folded: int = 0
    hours_written: int = 0  # rollup rows inserted or updated
    raw_deleted: int = 0
    rollups_deleted: int = 0
    batches: int = 0
    elapsed_s: float = 0.0
    raw_cutoff: datetime | None = None  # raw runs before this were folded
    rollup_cutoff: datetime | None = None  # rollups before this were deleted


def prune(
    store: Store,
    now: datetime,
    *,
    raw_keep: timedelta,
    rollup_keep: timedelta,
    batch_hours: int = 24,
) -> PruneStats:
    """Fold raw runs older than ``raw_keep`` into hourly rollups; drop rollups past ``rollup_keep``.

    Works oldest hours first, ``batch_hours`` hours per write transaction,
    so the service's own writers wait at most one batch for the lock and an
    interruption loses no more than the batch in flight (which rolls back
    whole). ``now`` is passed in so callers and tests decide what time it is.
    Incidents, maintenances, component history, heartbeats and the poll log
    are not touched.
    """
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r} refused: pass an aware time")
    if raw_keep <= timedelta(0) or rollup_keep <= timedelta(0):
        raise ValueError("retention periods must be positive")
    problem = keep_problem(raw_keep, rollup_keep)
    if problem:
        raise ValueError(problem)
    if batch_hours < 1:
        raise ValueError(f"batch_hours must be at least 1, got {batch_hours}")
    began = time.perf_counter()
    raw_cutoff = hour_of(now - raw_keep)
    rollup_cutoff = hour_of(now - rollup_keep)
    folded = written = deleted = batches = 0
    while True:
        with store.write() as session, session.begin():
            batch = _fold_batch(session, raw_cutoff, timedelta(hours=batch_hours))
        if batch is None:
            break
        batches += 1
        folded += batch.runs
        written += batch.rollups
        deleted += batch.deleted
        log.debug(
            "folded %d runs from %s to %s into %d rollups",
            batch.runs,
            batch.start.isoformat(),
            batch.end.isoformat(),
            batch.rollups,
        )
    with store.write() as session, session.begin():
        rollups_deleted = _delete_rollups(session, rollup_cutoff)
    stats = PruneStats(
        runs_folded=folded,
        hours_written=written,
        raw_deleted=deleted,
        rollups_deleted=rollups_deleted,
        batches=batches,
        elapsed_s=time.perf_counter() - began,
        raw_cutoff=raw_cutoff,
        rollup_cutoff=rollup_cutoff,
    )
    log.info(
        "pruned: %d runs folded into %d hourly rollups, %d rollups deleted (%.2f s)",
        folded,
        written,
        rollups_deleted,
        stats.elapsed_s,
    )
    return stats


@dataclass(frozen=True, slots=True)
class _Batch:
    start: datetime
    end: datetime
    runs: int
    rollups: int
    deleted: int


def _fold_batch(session: Session, cutoff: datetime, span: timedelta) -> _Batch | None:
    """Fold the oldest ``span`` of hours that still have raw rows before ``cutoff``.

    Starting from the oldest remaining row (not from a fixed calendar) skips
    empty stretches in one query and makes progress certain: the batch
    always contains that row, and deletes it. None when nothing is left.
    """
    oldest = session.scalar(
        select(func.min(CheckRun.started_ms)).where(CheckRun.started_ms < ms_from(cutoff))
    )
    if oldest is None:
        return None
    start = hour_of(runcodes.from_ms(oldest))
    end = min(start + span, cutoff)
    rows = session.execute(
        select(
            CheckRun.check_id,
            CheckRun.probe_id,
            Probe.name,
            CheckRun.started_ms,
            CheckRun.duration_us,
            CheckRun.outcome,
            CheckRun.failure_class,
        )
        .join(Probe, Probe.id == CheckRun.probe_id)
        .where(CheckRun.started_ms >= ms_from(start), CheckRun.started_ms < ms_from(end))
    ).all()
    rollups = fold(
        _raw_run(check_id, probe, started_ms, duration_us, outcome, failure_class)
        for check_id, _, probe, started_ms, duration_us, outcome, failure_class in rows
    )
    _write_rollups(session, rollups, start, end)
    # By key, not by time range: exactly the rows folded go, even on a
    # database where another writer could add to the range meanwhile.
    deleted = _delete_runs(session, [(row[0], row[1], row[3]) for row in rows])
    return _Batch(start=start, end=end, runs=len(rows), rollups=len(rollups), deleted=deleted)


def _write_rollups(
    session: Session, rollups: Sequence[RollupRow], start: datetime, end: datetime
) -> None:
    """Insert each rollup, or merge it into the row already stored for its hour."""
    if not rollups:
        return
    stored = {
        (row.check_id, row.probe, row.hour): row
        for row in session.scalars(
            select(RollupHourly).where(
                RollupHourly.check_id.in_({r.check_id for r in rollups}),
                RollupHourly.probe.in_({r.probe for r in rollups}),
                RollupHourly.hour >= start,
                RollupHourly.hour < end,
            )
        )
    }
    for rollup in rollups:
        row = stored.get(rollup.key)
        if row is None:
            session.add(RollupHourly(**_columns(rollup)))
            continue
        merged = merge(_from_row(row), rollup)
        for name, value in _columns(merged).items():
            setattr(row, name, value)
    session.flush()


def _raw_run(
    check_id: int,
    probe: str,
    started_ms: int,
    duration_us: int,
    outcome: int,
    failure_class: int | None,
) -> RawRun:
    ok, skipped = runcodes.outcome_flags(outcome)
    return RawRun(
        check_id=check_id,
        probe=probe,
        started_at=runcodes.from_ms(started_ms),
        duration_ms=duration_us / 1000,
        ok=ok,
        skipped=skipped,
        failure_class=runcodes.failure_name(failure_class),
    )


def _delete_runs(session: Session, keys: Sequence[tuple[int, int, int]]) -> int:
    """Delete the runs of these (check id, probe id, started_ms) keys, a series at a time."""
    by_series: dict[tuple[int, int], list[int]] = defaultdict(list)
    for check_id, probe_id, started_ms in keys:
        by_series[(check_id, probe_id)].append(started_ms)
    deleted = 0
    for (check_id, probe_id), times in by_series.items():
        for at in range(0, len(times), _DELETE_CHUNK):
            result = session.execute(
                delete(CheckRun)
                .where(
                    CheckRun.check_id == check_id,
                    CheckRun.probe_id == probe_id,
                    CheckRun.started_ms.in_(times[at : at + _DELETE_CHUNK]),
                )
                .execution_options(synchronize_session=False)
            )
            deleted += cast("CursorResult[Any]", result).rowcount
    return deleted


def _delete_rollups(session: Session, cutoff: datetime) -> int:
    result = session.execute(
        delete(RollupHourly)
        .where(RollupHourly.hour < cutoff)
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", result).rowcount


def _columns(rollup: RollupRow) -> dict[str, Any]:
    return {
        "check_id": rollup.check_id,
        "probe": rollup.probe,
        "hour": rollup.hour,
        "runs": rollup.runs,
        "failures": rollup.failures,
        "skipped": rollup.skipped,
        "p50_ms": rollup.p50_ms,
        "p95_ms": rollup.p95_ms,
        "failure_classes": dict(rollup.failure_classes),
    }


def _from_row(row: RollupHourly) -> RollupRow:
    return RollupRow(
        check_id=row.check_id,
        probe=row.probe,
        hour=row.hour,
        runs=row.runs,
        failures=row.failures,
        skipped=row.skipped,
        p50_ms=row.p50_ms,
        p95_ms=row.p95_ms,
        failure_classes=dict(row.failure_classes),
    )
