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
from typing import Any, NamedTuple

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session, aliased

from monitor.correlate.windows import CheckInfo, Observation, UpstreamWindow
from monitor.failures import Failure
from monitor.rollups import RollupRow, hour_of, percentile
from monitor.store import Store, runcodes
from monitor.store.checkruns import ms_from
from monitor.store.database import reader_of
from monitor.store.evidence import alive_between, checks, upstream_windows
from monitor.store.heartbeats import HEARTBEAT_EVERY
from monitor.store.models import (
    CheckRun,
    Heartbeat,
    ObservedEvent,
    Poll,
    Probe,
    RollupHourly,
    Source,
)

HOUR = timedelta(hours=1)
# Ranges up to this long read raw runs; longer ones read rollups where they exist.
RAW_UP_TO = timedelta(days=2)
HOUR_MS = 3_600_000
# Runs per lookup statement, well under SQLite's bound-parameter limit.
_CHUNK = 500

Key = tuple[int, str, datetime]  # check id, probe, hour
RunKey = tuple[int, int, int]  # a run's own key: check id, probe id, started_ms


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
            classes[(row.check_id, row.probe, hour_of(row.at))][row.failure_class] += 1
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
    columns: list[Any] = [RollupHourly.hour, Heartbeat.started_at, ObservedEvent.at]
    with store.read() as session, session.begin():
        found = [session.scalar(select(func.min(c)).where(c < until)) for c in columns]
        first_run = session.scalar(
            select(func.min(CheckRun.started_ms)).where(CheckRun.started_ms < ms_from(until))
        )
        if first_run is not None:
            found.append(runcodes.from_ms(first_run))
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


def _raw_hours(
    session: Session, lo: datetime, hi: datetime, classes: dict[Key, Counter[str]]
) -> tuple[list[RollupRow], dict[Key, tuple[datetime, datetime]]]:
    """Raw runs per check, probe and hour, counted in SQL; percentiles as ``fold`` computes them.

    A run's hour is integer arithmetic on its millisecond, the same on every
    engine. Also the start of each hour's first and last timed run (none
    when every run was skipped).
    """
    bucket = (CheckRun.started_ms - CheckRun.started_ms % HOUR_MS).label("hour")
    skipped = CheckRun.outcome == runcodes.SKIPPED
    timed = case((~skipped, cast(CheckRun.duration_us, String)))
    timed_at = case((~skipped, CheckRun.started_ms))
    rows = session.execute(
        select(
            CheckRun.check_id,
            CheckRun.probe_id,
            bucket,
            func.count(),
            func.sum(case((CheckRun.outcome == runcodes.FAILED, 1), else_=0)),
            func.sum(case((skipped, 1), else_=0)),
            func.aggregate_strings(timed, ","),
            func.min(timed_at),
            func.max(timed_at),
        )
        .where(CheckRun.started_ms >= ms_from(lo), CheckRun.started_ms < ms_from(hi))
        .group_by(CheckRun.check_id, CheckRun.probe_id, bucket)
    )
    names = _probe_names(session)
    result: list[RollupRow] = []
    edges: dict[Key, tuple[datetime, datetime]] = {}
    for check_id, probe_id, hour_ms, runs, failures, skips, durations, first, last in rows:
        # Sorted as integers, then in milliseconds: the very values ``fold`` sorts.
        values = [us / 1000 for us in sorted(map(int, durations.split(",")))] if durations else []
        probe, hour = names[probe_id], runcodes.from_ms(int(hour_ms))
        counted = classes.get((check_id, probe, hour))
        result.append(
            RollupRow(
                check_id=check_id,
                probe=probe,
                hour=hour,
                runs=int(runs),
                failures=int(failures or 0),
                skipped=int(skips or 0),
                p50_ms=_rounded(percentile(values, 0.5)),
                p95_ms=_rounded(percentile(values, 0.95)),
                failure_classes=dict(sorted(counted.items())) if counted else {},
            )
        )
        if first is not None and last is not None:
            edges[(check_id, probe, hour)] = (runcodes.from_ms(first), runcodes.from_ms(last))
    return result, edges


def _probe_names(session: Session) -> dict[int, str]:
    return {int(i): str(name) for i, name in session.execute(select(Probe.id, Probe.name))}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)  # as retention stores them


class _Failed(NamedTuple):
    """A failed run as ``_failed_rows`` reads it."""

    check_id: int
    probe_id: int
    probe: str
    started_ms: int
    failure_class: str

    @property
    def key(self) -> RunKey:
        return (self.check_id, self.probe_id, self.started_ms)

    @property
    def series(self) -> tuple[int, int]:
        return (self.check_id, self.probe_id)

    @property
    def at(self) -> datetime:
        return runcodes.from_ms(self.started_ms)


def _failed_rows(session: Session, lo: datetime, hi: datetime) -> list[_Failed]:
    """The failed runs, by check, probe (by name) and time.

    Sorted here: an ORDER BY on the check's key could make SQLite walk that index over all time.
    """
    rows = session.execute(
        select(
            CheckRun.check_id,
            CheckRun.probe_id,
            Probe.name,
            CheckRun.started_ms,
            CheckRun.failure_class,
        )
        .join(Probe, Probe.id == CheckRun.probe_id)
        .where(
            CheckRun.started_ms >= ms_from(lo),
            CheckRun.started_ms < ms_from(hi),
            CheckRun.outcome == runcodes.FAILED,
        )
    )
    found = [
        _Failed(
            check_id,
            probe_id,
            probe,
            started_ms,
            runcodes.failure_name(code) or str(Failure.UNCLASSIFIED),
        )
        for check_id, probe_id, probe, started_ms, code in rows
    ]
    return sorted(found, key=lambda row: (row.check_id, row.probe, row.started_ms))


def _failed_runs(
    session: Session, rows: Sequence[_Failed], every_run_failed: set[Key]
) -> list[FailedRun]:
    """Attach to each failed run the run after it, looking up only what is not certain."""
    known: dict[RunKey, tuple[datetime, bool]] = {}
    firsts: list[RunKey] = []
    for index, row in enumerate(rows):
        if index == 0 or rows[index - 1].series != row.series:
            firsts.append(row.key)
        following = rows[index + 1] if index + 1 < len(rows) else None
        if following is None or following.series != row.series:
            continue
        here, there = hour_of(row.at), hour_of(following.at)
        series = (row.check_id, row.probe)
        if there - here <= HOUR and {(*series, here), (*series, there)} <= every_run_failed:
            known[row.key] = (following.at, False)
    after = _neighbours(session, [row.key for row in rows if row.key not in known], later=True)
    before = _neighbours(session, firsts, later=False)
    result = []
    for row in rows:
        next_at, next_ok = known.get(row.key) or after.get(row.key) or (None, None)
        prev_at, prev_ok = before.get(row.key, (None, None))
        result.append(
            FailedRun(
                row.check_id,
                row.probe,
                row.at,
                row.failure_class,
                next_at,
                next_ok,
                prev_at,
                prev_ok,
            )
        )
    return result


def _neighbours(
    session: Session, keys: Iterable[RunKey], *, later: bool
) -> dict[RunKey, tuple[datetime, bool]]:
    """For each run, the nearest run of its check and probe after (or before) it, not skipped.

    A series (check and probe) at a time, its runs named by their times: each
    lookup is one seek along the (check, probe, time) key.
    """
    by_series: dict[tuple[int, int], list[int]] = defaultdict(list)
    for check_id, probe_id, started_ms in keys:
        by_series[(check_id, probe_id)].append(started_ms)
    run, other = aliased(CheckRun), aliased(CheckRun)
    order = other.started_ms if later else other.started_ms.desc()
    found: dict[RunKey, tuple[datetime, bool]] = {}
    for (check_id, probe_id), times in by_series.items():
        nearest = (
            select(other.started_ms)
            .where(
                other.check_id == check_id,
                other.probe_id == probe_id,
                other.outcome != runcodes.SKIPPED,
                other.started_ms > run.started_ms if later else other.started_ms < run.started_ms,
            )
            .order_by(order)
            .limit(1)
        )
        at = nearest.scalar_subquery()
        outcome = nearest.with_only_columns(other.outcome).scalar_subquery()
        for start in range(0, len(times), _CHUNK):
            chunk = times[start : start + _CHUNK]
            for started_ms, when, code in session.execute(
                select(run.started_ms, at, outcome).where(
                    run.check_id == check_id,
                    run.probe_id == probe_id,
                    run.started_ms.in_(chunk),
                )
            ):
                if when is not None:
                    passed, _ = runcodes.outcome_flags(code)
                    found[(check_id, probe_id, started_ms)] = (runcodes.from_ms(when), passed)
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
