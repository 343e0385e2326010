"""Failure windows ("outages") per check, from failed runs and from folded hours. Pure.

A window opens at a failed run and closes at the next passing run, as
:func:`monitor.correlate.windows.check_windows` has it (a skipped run
neither opens nor closes one), with one addition: a window never spans time
the monitor was not watching. When the run after a failure came later than
the check's ``gap`` (three intervals: the service was stopped, the laptop
asleep), the window closes at the last failure seen, so a monitoring gap is
never counted as downtime.

Hours already folded into rollups keep counts, not runs: consecutive folded
hours with failures make one window spanning those hours, marked
``estimated``, whose ``down`` time is each hour's failed share of the hour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from monitor.failures import Failure
from monitor.rollups import RollupRow
from monitor.store.history import HOUR, FailedRun

DEFAULT_INTERVAL = timedelta(minutes=1)  # a check's default interval (checks/settings.py)
MIN_GAP = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Outage:
    """One failure window of one check, clipped to the dashboard's range."""

    check_id: int
    probe: str
    start: datetime
    end: datetime
    failure_class: str  # the most frequent one
    failures: int
    down: timedelta  # end - start, or for an estimated window the failed share of its hours
    estimated: bool = False


def gap_for(interval: timedelta | None) -> timedelta:
    """How long without a run means "not watching" for a check run every ``interval``."""
    return max(3 * (interval or DEFAULT_INTERVAL), MIN_GAP)


@dataclass(slots=True)
class _Open:
    start: datetime
    classes: Counter[str] = field(default_factory=Counter)


def raw_outages(
    failed: Iterable[FailedRun],
    lo: datetime,
    hi: datetime,
    gap: Callable[[int], timedelta],
) -> list[Outage]:
    """Failure windows from failed runs sorted by check id, probe and time (as the store gives)."""
    windows: list[Outage] = []
    for (check_id, probe), runs in groupby(failed, key=lambda r: (r.check_id, r.probe)):
        limit = gap(check_id)
        current: _Open | None = None
        for run in runs:
            if current is None:
                continued = (
                    run.prev_ok is False
                    and run.prev_at is not None
                    and run.prev_at < lo
                    and run.at - run.prev_at <= limit
                )
                current = _Open(lo if continued else run.at)
            current.classes[run.failure_class] += 1
            end = _end_of(run, hi, limit)
            if end is not None:
                windows.append(_close(check_id, probe, current, end, lo, hi))
                current = None
        if current is not None:  # a later failure had no next run recorded: still failing
            windows.append(_close(check_id, probe, current, hi, lo, hi))
    return windows


def _end_of(run: FailedRun, hi: datetime, limit: timedelta) -> datetime | None:
    """Where the window ``run`` belongs to ends, or None when the next failure continues it."""
    if run.next_at is None:
        # Nothing after it yet: still failing, unless the monitor has not run since.
        return hi if hi - run.at <= limit else run.at
    if run.next_at - run.at > limit:
        return run.at  # the monitor was not watching: the gap is not downtime
    if run.next_ok:
        return run.next_at
    if run.next_at >= hi:
        return hi
    return None


def _close(
    check_id: int, probe: str, window: _Open, end: datetime, lo: datetime, hi: datetime
) -> Outage:
    start, end = max(window.start, lo), min(end, hi)
    end = max(end, start)
    return Outage(
        check_id=check_id,
        probe=probe,
        start=start,
        end=end,
        failure_class=_dominant(window.classes),
        failures=window.classes.total(),
        down=end - start,
    )


def folded_outages(
    hours: Iterable[RollupRow], folded: frozenset[tuple[int, str, datetime]]
) -> list[Outage]:
    """Windows from folded hours with failures; consecutive hours join one window."""
    windows: list[Outage] = []
    picked = sorted(
        (row for row in hours if row.failures and row.key in folded), key=lambda r: r.key
    )
    for (check_id, probe), rows in groupby(picked, key=lambda r: (r.check_id, r.probe)):
        stretch: list[RollupRow] = []
        for row in rows:
            if stretch and row.hour != stretch[-1].hour + HOUR:
                windows.append(_stretch(check_id, probe, stretch))
                stretch = []
            stretch.append(row)
        if stretch:
            windows.append(_stretch(check_id, probe, stretch))
    return windows


def _stretch(check_id: int, probe: str, rows: list[RollupRow]) -> Outage:
    classes: Counter[str] = Counter()
    for row in rows:
        classes.update(row.failure_classes)
    down = sum((HOUR * (row.failures / row.timed) for row in rows if row.timed), start=timedelta(0))
    return Outage(
        check_id=check_id,
        probe=probe,
        start=rows[0].hour,
        end=rows[-1].hour + HOUR,
        failure_class=_dominant(classes),
        failures=sum(row.failures for row in rows),
        down=timedelta(seconds=round(down.total_seconds())),
        estimated=True,
    )


def _dominant(classes: Counter[str]) -> str:
    if not classes:
        return Failure.UNCLASSIFIED
    return min(classes.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def gaps_by_check(
    names: Mapping[int, str], intervals: Mapping[str, timedelta]
) -> Callable[[int], timedelta]:
    """The gap of each check id, from its configured interval (the default one if unknown)."""
    return lambda check_id: gap_for(intervals.get(names.get(check_id, "")))
