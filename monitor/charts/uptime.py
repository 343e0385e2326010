"""Uptime per bucket and per check, and latency over time, from hourly counts. Pure.

What counts: a run that was skipped measured nothing and counts neither way.
Uptime is passing runs over runs that were not skipped; runs exist only
while the monitor runs, so time it was not running is neither up nor down
but "no data".

How much of a bucket was monitored follows the principle in
``monitor.charts.outages``: a run speaks for its check until the next run,
if that came within the gap, else for one interval, and never past the end
of the service run that made it. A run at 00:55 of a check run every five
minutes speaks for 00:55-01:00, a twelfth of its hour; one manual run
speaks for a minute, not for the hour; a service that ran 43 seconds
monitored 43 seconds. ``coverage`` evaluates that from what the store keeps
per hour: how many runs were timed, and when the first and the last of
them started.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from monitor.charts.outages import Outage, estimated_cover, spoken_until
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

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.runs + other.runs, self.failures + other.failures)

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
class HourRuns:
    """What ``coverage`` needs of one hour of one series (a check, on one probe).

    ``first`` and ``last`` are the starts of its first and last timed run;
    None for an hour folded into a rollup, which keeps only the count.
    ``last_ok``: whether that last run passed (what it speaks for after the hour).
    """

    hour: datetime
    timed: int
    first: datetime | None = None
    last: datetime | None = None
    last_ok: bool = True


@dataclass(frozen=True, slots=True)
class Cover:
    """How much of an hour runs spoke for; ``carried``: the state an earlier run spoke for it
    with, when it holds no run of its own (a check run every six hours covers the hours between).
    """

    covered: timedelta
    carried: State | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """One bucket of the uptime strip: ``counts`` were run in it, runs spoke for ``covered``."""

    start: datetime
    end: datetime
    counts: Counts
    covered: timedelta = timedelta(0)
    carried: State | None = None

    @property
    def coverage(self) -> float:
        """The monitored share of the bucket, 0 to 1."""
        span = self.end - self.start
        return min(self.covered / span, 1.0) if span > timedelta(0) else 0.0

    @property
    def state(self) -> State:
        """How its monitored part is drawn: by its runs, else by the run that spoke for it."""
        if self.counts.runs:
            return self.counts.state
        return self.carried if self.carried and self.covered > timedelta(0) else "nodata"


@dataclass(frozen=True, slots=True)
class Summary:
    """One row of the uptime table."""

    check: str
    role: str
    counts: Counts
    longest: Outage | None
    monitored: timedelta = timedelta(0)  # the time its runs spoke for


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


def coverage(
    hours: Iterable[HourRuns],
    interval: timedelta,
    hi: datetime,
    made_by: Callable[[datetime], datetime | None],
    idle: Callable[[datetime, datetime], timedelta] = lambda _a, _b: timedelta(0),
) -> dict[datetime, Cover]:
    """The time runs spoke for in each hour of one series, up to ``hi``.

    Per hour with runs: from the hour's start, what the previous hour's last
    run still spoke for (up to this hour's first run); between its first and
    last run, that span less the time between two service runs (``idle``),
    but at most one interval per run after the first (exact when runs came
    at most an interval apart, or when one silence holds all the hour's idle
    time); after its last run, until the next run or one interval, never
    past the end of the service run that made it (``made_by``, as
    ``spoken_until`` takes it). An hour with no run of its own is covered as
    far as an earlier run still speaks into it (``carried``). A folded hour
    has only its count: ``estimated_cover``. Never over the hour.
    """
    ordered = sorted((row for row in hours if row.timed > 0), key=lambda row: row.hour)
    result: dict[datetime, Cover] = {}
    carry: datetime | None = None  # until when the last run seen speaks
    carried: State = "up"
    after: datetime | None = None  # the first hour not yet visited
    for index, row in enumerate(ordered):
        if carry is not None and after is not None:
            _carry(result, after, min(row.hour, hi), carry, carried)
        after = row.hour + HOUR
        room = min(after, hi) - row.hour
        if row.first is None or row.last is None:
            result[row.hour] = Cover(min(estimated_cover(row.timed, interval), room))
            carry = None
            continue
        head = min(carry, row.first) - row.hour if carry is not None and carry > row.hour else ZERO
        spread = row.last - row.first - idle(row.first, row.last)
        middle = min(spread, (row.timed - 1) * interval)
        following = ordered[index + 1].first if index + 1 < len(ordered) else None
        carry = spoken_until(row.last, following, interval, made_by(row.last))
        tail = max(min(carry, row.hour + room) - row.last, ZERO)
        result[row.hour] = Cover(min(head + middle + tail, room))
        carried = "up" if row.last_ok else "down"
    if carry is not None and after is not None:
        _carry(result, after, hi, carry, carried)
    return result


ZERO = timedelta(0)


def _carry(
    result: dict[datetime, Cover], start: datetime, stop: datetime, until: datetime, state: State
) -> None:
    """Hours from ``start`` to ``stop`` with no run, as far as a run still speaks (``until``)."""
    hour = start
    while hour < stop and hour < until:
        result[hour] = Cover(min(until, hour + HOUR, stop) - hour, state)
        hour += HOUR


def _totals(hours: dict[datetime, RollupRow], step: Step) -> dict[datetime, Counts]:
    """Counts per bucket, added up with plain integers (this runs per hour of a year)."""
    sums: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for hour, row in hours.items():
        total = sums[floor_to(hour, step)]
        total[0] += row.runs - row.skipped
        total[1] += row.failures
    return {at: Counts(*values) for at, values in sums.items()}


def cells(
    hours: dict[datetime, RollupRow],
    lo: datetime,
    hi: datetime,
    step: Step,
    covers: Mapping[datetime, Cover] | None = None,
) -> list[Cell]:
    """The uptime strip of one series: every bucket of the range, "no data" where nothing ran.

    ``covers`` (from ``coverage``) says how much of each hour was monitored;
    without it an hour with runs counts as monitored whole.
    """
    totals = _totals(hours, step)
    if covers is None:
        covers = {hour: Cover(HOUR) for hour, row in hours.items() if row.timed}
    covered: dict[datetime, timedelta] = defaultdict(timedelta)
    carried: dict[datetime, State] = {}
    for hour, cover in covers.items():
        bucket = floor_to(hour, step)
        covered[bucket] += cover.covered
        if cover.carried is not None and carried.get(bucket) != "down":
            carried[bucket] = cover.carried
    size = DAY if step == "day" else HOUR
    result = []
    for start in bucket_starts(lo, hi, step):
        result.append(
            Cell(
                start,
                min(start + size, hi),
                totals.get(start, Counts()),
                covered.get(start, ZERO),
                carried.get(start),
            )
        )
    return result


def summary(
    check: str,
    role: str,
    hours: dict[datetime, RollupRow],
    outages: Sequence[Outage],
    monitored: timedelta = ZERO,
) -> Summary:
    total = Counts()
    for counts in _totals(hours, "day").values():
        total += counts
    longest = max(outages, key=lambda o: (o.down, o.start), default=None)
    return Summary(check, role, total, longest, monitored)


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
