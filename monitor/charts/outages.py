"""Failure windows ("outages") per check, from failed runs and from folded hours. Pure.

One principle serves the uptime cells and the outages alike, in every range:
**a run speaks for its check from its start until the next run, if that run
came within the check's gap (three intervals, at least two minutes), and
otherwise for one interval.** Time no run speaks for was not monitored: it
is neither up nor down.

So an outage is a streak of failed runs with no passing run between them;
it starts at the first failure and ends where the last one stops speaking:
at the next (passing) run, or one interval after the last failure when the
monitor fell silent (the service was stopped, the laptop asleep), so a
monitoring gap is never downtime. Its length is ``end - start``, computed
from the runs alone: never from the range drawn, so the same runs give the
same outage in a two-hour chart and a 30-day one (a range that cuts the
outage shows the part inside it). A streak that began before the range
starts at the range.

Hours already folded into rollups keep counts, not runs: consecutive folded
hours with failures make one window spanning those hours, marked
``estimated``, whose ``down`` time is each hour's failed share of the time its
runs spoke for (``estimated_cover``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
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


def spoken_until(at: datetime, next_at: datetime | None, interval: timedelta) -> datetime:
    """Until when a run at ``at`` speaks for its check (the module's principle).

    Until ``next_at``, the next run of the same check and probe, when it
    came within the gap; otherwise (no next run yet, or a silence) for one
    ``interval``. Never depends on the range drawn.
    """
    if next_at is not None and next_at - at <= gap_for(interval):
        return next_at
    return at + interval


def estimated_cover(timed: int, interval: timedelta) -> timedelta:
    """The time ``timed`` runs of one hour spoke for when only their count is left.

    Each speaks for one interval, and together never for more than the hour:
    one manual run in a folded hour is one interval of data, not an hour.
    """
    return min(timed * interval, HOUR)


@dataclass(slots=True)
class _Open:
    start: datetime
    classes: Counter[str] = field(default_factory=Counter)


def raw_outages(
    failed: Iterable[FailedRun],
    lo: datetime,
    hi: datetime,
    interval: Callable[[int], timedelta],
) -> list[Outage]:
    """Failure windows from failed runs sorted by check id, probe and time (as the store gives).

    ``interval`` gives each check id's interval, from which its gap follows.
    """
    windows: list[Outage] = []
    for (check_id, probe), runs in groupby(failed, key=lambda r: (r.check_id, r.probe)):
        every = interval(check_id)
        limit = gap_for(every)
        current: _Open | None = None
        last: FailedRun | None = None
        for run in runs:
            last = run
            if current is None:
                continued = (
                    run.prev_ok is False
                    and run.prev_at is not None
                    and run.prev_at < lo
                    and run.at - run.prev_at <= limit
                )
                current = _Open(lo if continued else run.at)
            current.classes[run.failure_class] += 1
            if _continues(run, hi, limit):
                continue
            end = spoken_until(run.at, run.next_at, every)
            windows.append(_close(check_id, probe, current, end, lo, hi))
            current = None
        if current is not None and last is not None:  # its next failure was not in the list
            end = spoken_until(last.at, last.next_at, every)
            windows.append(_close(check_id, probe, current, end, lo, hi))
    return windows


def _continues(run: FailedRun, hi: datetime, limit: timedelta) -> bool:
    """Whether the next failed run in the list carries on the window ``run`` belongs to.

    Only a failed next run within the gap, inside the range (one past ``hi``
    is not in the list: the window closes there, at the edge).
    """
    return (
        run.next_at is not None
        and run.next_ok is False
        and run.next_at - run.at <= limit
        and run.next_at < hi
    )


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
    hours: Iterable[RollupRow],
    folded: frozenset[tuple[int, str, datetime]],
    interval: Callable[[int], timedelta],
) -> list[Outage]:
    """Windows from folded hours with failures; consecutive hours join one window."""
    windows: list[Outage] = []
    picked = sorted(
        (row for row in hours if row.failures and row.key in folded), key=lambda r: r.key
    )
    for (check_id, probe), rows in groupby(picked, key=lambda r: (r.check_id, r.probe)):
        every = interval(check_id)
        stretch: list[RollupRow] = []
        for row in rows:
            if stretch and row.hour != stretch[-1].hour + HOUR:
                windows.append(_stretch(check_id, probe, stretch, every))
                stretch = []
            stretch.append(row)
        if stretch:
            windows.append(_stretch(check_id, probe, stretch, every))
    return windows


def _stretch(check_id: int, probe: str, rows: list[RollupRow], every: timedelta) -> Outage:
    classes: Counter[str] = Counter()
    for row in rows:
        classes.update(row.failure_classes)
    # Each hour's failed share of the time its runs spoke for.
    shares = (estimated_cover(r.timed, every) * (r.failures / r.timed) for r in rows if r.timed)
    down = sum(shares, start=timedelta(0))
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
