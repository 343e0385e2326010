"""What the charts read: check runs per hour, failed runs, heartbeats, upstream and imports.

One read transaction (one snapshot) per dashboard, and nothing that grows
with the number of runs crosses into Python. Each hour of each check is
read from one place only, so no run is ever counted twice:

* A short range (up to two days) reads raw runs, exactly; an hour that has
  no raw rows left (folded by retention) comes from its rollup.
* A long range reads the hourly rollups up to the newest folded hour, and
  raw runs only after it (the recent ``retention.raw``, 90 days by default,
  that retention has not folded yet). Raw rows of an hour before that
  (a run recorded late, merged by the next prune) wait for that prune.
* Raw hours are grouped per check, probe and hour in SQL; their durations
  come as one string per hour, for percentiles computed as ``fold`` does.
* Each raw hour also brings the start of its first and last timed run: what
  the uptime cells need to tell how much of the hour runs spoke for.
* Failure windows need only the failed runs (rare next to passing ones) and,
  where it is not already certain, the run after each one: in an hour
  whose every run failed, the next failed run is also the next run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from monitor.correlate.windows import CheckInfo, Observation, UpstreamWindow
from monitor.failures import Failure
from monitor.rollups import RollupRow, hour_of, percentile
from monitor.store import Store
from monitor.store.database import reader_of
from monitor.store.evidence import alive_between, checks, upstream_windows
from monitor.store.heartbeats import HEARTBEAT_EVERY
from monitor.store.models import CheckRun, Heartbeat, ObservedEvent, Poll, RollupHourly, Source

HOUR = timedelta(hours=1)
# Ranges up to this long read raw runs; longer ones read rollups where they exist.
RAW_UP_TO = timedelta(days=2)
# Ids per lookup statement, well under SQLite's bound-parameter limit.
_CHUNK = 500

Key = tuple[int, str, datetime]  # check id, probe, hour


@dataclass(frozen=True, slots=True)
class FailedRun:
    """A run that failed, with the run after it (and, for a series' first, the run before).

    ``next_at``/``next_ok`` describe the next run of the same check and probe
    that was not skipped, whenever it came (None: none yet). ``prev_at``/
    ``prev_ok`` are set only on the first failed run of each series in the
    range, so a failure streak begun before the range can be told apart.
    """

    check_id: int
    probe: str
    at: datetime
    failure_class: str
    next_at: datetime | None
    next_ok: bool | None
    prev_at: datetime | None = None
    prev_ok: bool | None = None


@dataclass(frozen=True, slots=True)
class ServiceRun:
    """One run of the service on a probe: started, last seen alive, stopped (None: no stop
    was recorded: still running, or it died)."""

    probe: str
    started_at: datetime
    last_seen: datetime
    stopped_at: datetime | None


@dataclass(frozen=True, slots=True)
class History:
    """Everything a dashboard shows for ``[lo, hi)``, read in one snapshot."""

    lo: datetime
    hi: datetime
    checks: dict[int, CheckInfo]
    hours: tuple[RollupRow, ...]  # per check, probe and hour; rollups and raw rows combined
    folded: frozenset[Key]  # the hours read from rollups
    edges: dict[Key, tuple[datetime, datetime]]  # raw hours: first and last timed run's start
    failed: tuple[FailedRun, ...]  # from raw rows, by check id, probe and time
    alive: tuple[tuple[datetime, datetime], ...]  # service heartbeat spans
    # Each probe's service runs meeting the range, and reaching back to the run before
    # each failure streak's first failure: what a run may speak for ends with them.
    services: tuple[ServiceRun, ...]
    upstream: tuple[UpstreamWindow, ...]
    sources: tuple[str, ...]
    observations: tuple[Observation, ...]

    @property
    def empty(self) -> bool:
        return not (self.hours or self.upstream or self.observations)


def read_history(store: Store, lo: datetime, hi: datetime) -> History:
    """Read ``[hour_of(lo), hi)`` for the charts in one read transaction."""
    lo = hour_of(lo)
    with store.read() as session, session.begin():
        rollups = _rollup_hours(session, lo, hi)
        raw_from = lo if hi - lo <= RAW_UP_TO else max(lo, _folded_until(session, hi))
        failed_rows = _failed_rows(session, raw_from, hi)
        classes: dict[Key, Counter[str]] = defaultdict(Counter)
        for row in failed_rows:
            classes[(row[1], row[2], hour_of(row[3]))][row[4]] += 1
        raw, edges = _raw_hours(session, raw_from, hi, classes)
        hours = {r.key: r for r in rollups}
        hours.update((r.key, r) for r in raw)  # where both exist, the exact one
        raw_keys = {r.key for r in raw}
        every_run_failed = {r.key for r in raw if r.failures and r.failures == r.timed}
        failed = tuple(_failed_runs(session, failed_rows, every_run_failed))
        reader = reader_of(session)  # the same transaction: one snapshot
        return History(
            lo=lo,
            hi=hi,
            checks=checks(reader),
            hours=tuple(hours[key] for key in sorted(hours)),
            folded=frozenset(key for key in hours if key not in raw_keys),
            edges=edges,
            failed=failed,
            alive=alive_between(reader, lo, hi),
            services=_services(session, min([lo, *_streak_heads(failed)]), hi),
            upstream=tuple(upstream_windows(reader, lo, hi)),
            sources=tuple(session.scalars(select(Source.name).order_by(Source.name))),
            observations=tuple(_observations(session, lo, hi)),
        )


def first_recorded(store: Store, until: datetime) -> datetime | None:
    """When the monitor first recorded anything before ``until``; None when it never did.

    Anything: a check run or folded hour, a service heartbeat, a poll of a
    status page, an imported failure. Not an incident's own time: a status
    page's history reaches back years before the monitor first read it.
    Each is one index lookup (the polls one per source), however large the
    database.
    """
    columns: list[Any] = [
        CheckRun.started_at,
        RollupHourly.hour,
        Heartbeat.started_at,
        ObservedEvent.at,
    ]
    with store.read() as session, session.begin():
        found = [session.scalar(select(func.min(c)).where(c < until)) for c in columns]
        for source_id in session.scalars(select(Source.id)):
            earliest = select(func.min(Poll.started_at)).where(
                Poll.source_id == source_id, Poll.started_at < until
            )
            found.append(session.scalar(earliest))
    times = [at for at in found if at is not None]
    return min(times) if times else None


def _streak_heads(failed: Iterable[FailedRun]) -> list[datetime]:
    """When the run before each series' first failure ran (a streak may have begun there)."""
    return [run.prev_at for run in failed if run.prev_at is not None]


def _services(session: Session, lo: datetime, hi: datetime) -> tuple[ServiceRun, ...]:
    """Every probe's service runs meeting ``[lo, hi]``, by probe and start."""
    rows = session.execute(
        select(Heartbeat.probe, Heartbeat.started_at, Heartbeat.last_seen, Heartbeat.stopped_at)
        # A run up to one beat after the last is still that service's (``charts.outages``).
        .where(Heartbeat.started_at <= hi, Heartbeat.last_seen >= lo - HEARTBEAT_EVERY)
        .order_by(Heartbeat.probe, Heartbeat.started_at)
    )
    return tuple(ServiceRun(*row) for row in rows)


def _folded_until(session: Session, hi: datetime) -> datetime:
    """The hour after the newest rollup before ``hi``: raw runs are read from there on."""
    newest = session.scalar(select(func.max(RollupHourly.hour)).where(RollupHourly.hour < hi))
    return datetime.min.replace(tzinfo=UTC) if newest is None else newest + HOUR


def _rollup_hours(session: Session, lo: datetime, hi: datetime) -> list[RollupRow]:
    # Columns, not ORM objects: a year of a dozen checks is 105,000 rows.
    rows = session.execute(
        select(
            RollupHourly.check_id,
            RollupHourly.probe,
            RollupHourly.hour,
            RollupHourly.runs,
            RollupHourly.failures,
            RollupHourly.skipped,
            RollupHourly.p50_ms,
            RollupHourly.p95_ms,
            RollupHourly.failure_classes,
        ).where(RollupHourly.hour >= lo, RollupHourly.hour < hi)
    )
    return [
        RollupRow(check_id, probe, hour, runs, failures, skipped, p50, p95, dict(classes or {}))
        for check_id, probe, hour, runs, failures, skipped, p50, p95, classes in rows
    ]


def _hour_key(session: Session) -> ColumnElement[Any]:
    """The start of a run's hour, grouped on in SQL: text on SQLite, a timestamp elsewhere."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (see store/types.py).
        return func.substr(type_coerce(CheckRun.started_at, String), 1, 13)
    return func.date_trunc("hour", CheckRun.started_at)


def _durations(session: Session) -> ColumnElement[Any]:
    """A run's duration as text, for joining an hour's durations into one string."""
    if session.get_bind().dialect.name == "sqlite":
        return func.printf("%.3f", CheckRun.duration_ms)  # cheaper than CAST, same precision
    return cast(CheckRun.duration_ms, String)


def _parse_hour(value: str | datetime, seen: dict[str, datetime]) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    parsed = seen.get(value)
    if parsed is None:
        parsed = seen[value] = datetime.fromisoformat(f"{value}:00+00:00")
    return parsed


def _raw_hours(
    session: Session, lo: datetime, hi: datetime, classes: dict[Key, Counter[str]]
) -> tuple[list[RollupRow], dict[Key, tuple[datetime, datetime]]]:
    """Raw runs per check, probe and hour, counted in SQL; percentiles as ``fold`` computes them.

    Also the start of each hour's first and last timed run (none when every run was skipped).
    """
    bucket = _hour_key(session).label("hour")
    failed = and_(CheckRun.ok.is_(False), CheckRun.skipped.is_(False))
    timed = case((CheckRun.skipped.is_(False), _durations(session)))
    timed_at = case((CheckRun.skipped.is_(False), CheckRun.started_at))
    rows = session.execute(
        select(
            CheckRun.check_id,
            CheckRun.probe,
            bucket,
            func.count(),
            func.sum(case((failed, 1), else_=0)),
            func.sum(case((CheckRun.skipped.is_(True), 1), else_=0)),
            func.aggregate_strings(timed, ","),
            func.min(timed_at),
            func.max(timed_at),
        )
        .where(CheckRun.started_at >= lo, CheckRun.started_at < hi)
        .group_by(CheckRun.check_id, CheckRun.probe, bucket)
    )
    result: list[RollupRow] = []
    edges: dict[Key, tuple[datetime, datetime]] = {}
    seen: dict[str, datetime] = {}
    for check_id, probe, key, runs, failures, skipped, durations, first, last in rows:
        values = sorted(map(float, durations.split(","))) if durations else []
        hour = _parse_hour(key, seen)
        counted = classes.get((check_id, probe, hour))
        result.append(
            RollupRow(
                check_id=check_id,
                probe=probe,
                hour=hour,
                runs=int(runs),
                failures=int(failures or 0),
                skipped=int(skipped or 0),
                p50_ms=_rounded(percentile(values, 0.5)),
                p95_ms=_rounded(percentile(values, 0.95)),
                failure_classes=dict(sorted(counted.items())) if counted else {},
            )
        )
        if first is not None and last is not None:
            edges[(check_id, probe, hour)] = (first, last)
    return result, edges


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)  # as retention stores them


def _failed_rows(session: Session, lo: datetime, hi: datetime) -> list[Any]:
    """(id, check id, probe, started_at, class) of the failed runs, by check, probe and time.

    Sorted here: an ORDER BY on the check's key could make SQLite walk that index over all time.
    """
    rows = session.execute(
        select(
            CheckRun.id,
            CheckRun.check_id,
            CheckRun.probe,
            CheckRun.started_at,
            func.coalesce(CheckRun.failure_class, str(Failure.UNCLASSIFIED)),
        ).where(
            CheckRun.started_at >= lo,
            CheckRun.started_at < hi,
            CheckRun.ok.is_(False),
            CheckRun.skipped.is_(False),
        )
    ).all()
    return sorted(rows, key=lambda row: (row[1], row[2], row[3]))


def _failed_runs(
    session: Session, rows: Sequence[Any], every_run_failed: set[Key]
) -> list[FailedRun]:
    """Attach to each failed run the run after it, looking up only what is not certain."""
    known: dict[int, tuple[datetime, bool]] = {}
    firsts: list[int] = []
    for index, row in enumerate(rows):
        series = (row[1], row[2])
        if index == 0 or (rows[index - 1][1], rows[index - 1][2]) != series:
            firsts.append(row[0])
        following = rows[index + 1] if index + 1 < len(rows) else None
        if following is None or (following[1], following[2]) != series:
            continue
        here, there = hour_of(row[3]), hour_of(following[3])
        if there - here <= HOUR and {(*series, here), (*series, there)} <= every_run_failed:
            known[row[0]] = (following[3], False)
    after = _neighbours(session, [row[0] for row in rows if row[0] not in known], later=True)
    before = _neighbours(session, firsts, later=False)
    result = []
    for row in rows:
        next_at, next_ok = known.get(row[0]) or after.get(row[0]) or (None, None)
        prev_at, prev_ok = before.get(row[0], (None, None))
        result.append(FailedRun(row[1], row[2], row[3], row[4], next_at, next_ok, prev_at, prev_ok))
    return result


def _neighbours(
    session: Session, ids: Iterable[int], *, later: bool
) -> dict[int, tuple[datetime, bool]]:
    """For each run id, the nearest run of its check and probe after (or before) it, not skipped."""
    other = aliased(CheckRun)
    nearest = select(other).where(
        other.check_id == CheckRun.check_id,
        other.probe == CheckRun.probe,
        other.skipped.is_(False),
        other.started_at > CheckRun.started_at if later else other.started_at < CheckRun.started_at,
    )
    order = other.started_at if later else other.started_at.desc()
    at = nearest.with_only_columns(other.started_at).order_by(order).limit(1).scalar_subquery()
    ok = nearest.with_only_columns(other.ok).order_by(order).limit(1).scalar_subquery()
    found: dict[int, tuple[datetime, bool]] = {}
    pending = list(ids)
    for start in range(0, len(pending), _CHUNK):
        chunk = pending[start : start + _CHUNK]
        for run_id, when, passed in session.execute(
            select(CheckRun.id, at, ok).where(CheckRun.id.in_(chunk))
        ):
            if when is not None:
                found[run_id] = (when, bool(passed))
    return found


def _observations(session: Session, lo: datetime, hi: datetime) -> list[Observation]:
    """Imported failures in ``[lo, hi)``, in the dashboard's own session.

    Not ``store.observed.list_observations``: that opens a session of its own
    (another snapshot, so a run or import landing between the two reads could
    show in one chart and not another), and its range includes ``hi``, where
    every other read here stops before it. The page shows no error text, so
    neither is it read.
    """
    rows = session.execute(
        select(
            ObservedEvent.at,
            ObservedEvent.failure_class,
            ObservedEvent.source,
            ObservedEvent.target,
        )
        .where(ObservedEvent.at >= lo, ObservedEvent.at < hi)
        .order_by(ObservedEvent.at)
    )
    return [
        Observation(at=r.at, failure_class=r.failure_class, source=r.source, target=r.target)
        for r in rows
    ]
