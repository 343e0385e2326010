"""Uptime per bucket and per check, and latency over time, from hourly counts. Pure.

What counts: a run that was skipped measured nothing and counts neither way.
Uptime is passing runs over runs that were not skipped; runs exist only
while the monitor runs, so time it was not running is neither up nor down
but "no data", and a check's *monitored hours* are the hours with at least
one run that was not skipped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from monitor.charts.outages import Outage
from monitor.rollups import RollupRow, add_up

Step = Literal["hour", "day"]
State = Literal["up", "partial", "down", "nodata"]
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Up to two days the uptime strip has a cell per hour, beyond it one per day.
HOURLY_UPTIME_UP_TO = timedelta(days=2)
# The latency chart keeps hourly points for up to two weeks.
HOURLY_LATENCY_UP_TO = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Counts:
    """Runs of one check (all probes) over some hours."""

    runs: int = 0  # not skipped
    failures: int = 0
    monitored_hours: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.runs + other.runs,
            self.failures + other.failures,
            self.monitored_hours + other.monitored_hours,
        )

    @property
    def uptime(self) -> float | None:
        """Passing share of the runs, None without runs (not monitored)."""
        return (self.runs - self.failures) / self.runs if self.runs else None

    @property
    def state(self) -> State:
        if not self.runs:
            return "nodata"
        if not self.failures:
            return "up"
        return "down" if self.failures * 2 >= self.runs else "partial"


@dataclass(frozen=True, slots=True)
class Cell:
    """One bucket of the uptime strip: ``hours`` of it lie in the range, ``counts`` were run."""

    start: datetime
    end: datetime
    hours: int
    counts: Counts

    @property
    def coverage(self) -> float:
        return min(self.counts.monitored_hours / self.hours, 1.0) if self.hours else 0.0


@dataclass(frozen=True, slots=True)
class Summary:
    """One row of the uptime table."""

    check: str
    role: str
    counts: Counts
    longest: Outage | None


@dataclass(frozen=True, slots=True)
class LatencyPoint:
    at: datetime  # the bucket's start
    p50_ms: float
    p95_ms: float


def percent(uptime: float) -> str:
    """Two decimals, rounded down: 99.999 % reads 99.99 %, never 100.00 % with a failure."""
    return f"{math.floor(uptime * 10000) / 100:.2f} %"


def uptime_step(lo: datetime, hi: datetime) -> Step:
    return "hour" if hi - lo <= HOURLY_UPTIME_UP_TO else "day"


def latency_step(lo: datetime, hi: datetime) -> Step:
    return "hour" if hi - lo <= HOURLY_LATENCY_UP_TO else "day"


@lru_cache(maxsize=65536)
def floor_to(at: datetime, step: Step) -> datetime:
    """The start of ``at``'s hour or UTC day (cached: a year of checks asks 100,000 times)."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    return hour.replace(hour=0) if step == "day" else hour


def bucket_starts(lo: datetime, hi: datetime, step: Step) -> list[datetime]:
    size = DAY if step == "day" else HOUR
    at, starts = floor_to(lo, step), []
    while at < hi:
        starts.append(at)
        at += size
    return starts


def hourly(rows: Iterable[RollupRow]) -> dict[datetime, RollupRow]:
    """One check's rows per hour, probes combined (counts add, percentiles blend by runs)."""
    by_hour: dict[datetime, RollupRow] = {}
    for row in rows:
        seen = by_hour.get(row.hour)
        by_hour[row.hour] = row if seen is None else add_up(seen, row)
    return by_hour


def counts_of(row: RollupRow) -> Counts:
    return Counts(row.timed, row.failures, 1 if row.timed else 0)


def _totals(hours: dict[datetime, RollupRow], step: Step) -> dict[datetime, Counts]:
    """Counts per bucket, added up with plain integers (this runs per hour of a year)."""
    sums: dict[datetime, list[int]] = defaultdict(lambda: [0, 0, 0])
    for hour, row in hours.items():
        total = sums[floor_to(hour, step)]
        timed = row.runs - row.skipped
        total[0] += timed
        total[1] += row.failures
        total[2] += 1 if timed else 0
    return {at: Counts(*values) for at, values in sums.items()}


def cells(hours: dict[datetime, RollupRow], lo: datetime, hi: datetime, step: Step) -> list[Cell]:
    """The uptime strip of one check: every bucket of the range, "no data" where nothing ran."""
    totals = _totals(hours, step)
    size = DAY if step == "day" else HOUR
    result = []
    for start in bucket_starts(lo, hi, step):
        end = min(start + size, hi)
        first = max(start, lo)
        span = math.ceil((end - first) / HOUR) if end > first else 0
        result.append(Cell(start, end, span, totals.get(start, Counts())))
    return result


def summary(
    check: str, role: str, hours: dict[datetime, RollupRow], outages: Sequence[Outage]
) -> Summary:
    total = Counts()
    for counts in _totals(hours, "day").values():
        total += counts
    longest = max(outages, key=lambda o: (o.down, o.start), default=None)
    return Summary(check, role, total, longest)


def latency(hours: dict[datetime, RollupRow], step: Step) -> list[LatencyPoint]:
    """p50/p95 per bucket: hourly as stored, per day the hours blended by their runs."""
    if step == "hour":
        return [
            LatencyPoint(at, row.p50_ms, row.p95_ms)
            for at, row in sorted(hours.items())
            if row.p50_ms is not None and row.p95_ms is not None
        ]
    sums: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for hour, row in hours.items():
        timed = row.runs - row.skipped
        if row.p50_ms is None or row.p95_ms is None or timed <= 0:
            continue
        total = sums[floor_to(hour, step)]
        total[0] += row.p50_ms * timed
        total[1] += row.p95_ms * timed
        total[2] += timed
    return [LatencyPoint(at, p50 / n, p95 / n) for at, (p50, p95, n) in sorted(sums.items())]


def inferred_interval(hours: dict[datetime, RollupRow]) -> timedelta | None:
    """A check's interval as its runs show it: an hour over the median runs per monitored hour."""
    per_hour = sorted(row.runs for row in hours.values() if row.runs)
    if not per_hour:
        return None
    return HOUR / per_hour[len(per_hour) // 2]


def unwatched(
    lo: datetime,
    hi: datetime,
    alive: Iterable[tuple[datetime, datetime]],
    run_hours: Iterable[datetime],
) -> list[tuple[datetime, datetime]]:
    """Spans of ``[lo, hi)`` with neither a service heartbeat nor any run: no data at all."""
    covered = sorted([*alive, *((h, h + HOUR) for h in run_hours)])
    gaps, cursor = [], lo
    for start, end in covered:
        if start > cursor:
            gaps.append((cursor, min(start, hi)))
        cursor = max(cursor, end)
        if cursor >= hi:
            break
    if cursor < hi:
        gaps.append((cursor, hi))
    return [(a, b) for a, b in gaps if b > a]
