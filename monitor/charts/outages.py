"""Failure windows ("outages") per check, from failed runs and from folded hours. Pure.

One principle serves the uptime cells and the outages alike, in every range:
**a run speaks for its check from its start until the next run, if that run
came within the check's gap (three intervals, at least two minutes), and
otherwise for one interval; never past the end of the service run that made
it** (its stop, or one beat after its last heartbeat when no stop was
recorded). A run no service made (``monitor check`` by hand or from cron)
speaks until the next run within the gap, as a service's would, and
otherwise for ``LONE_RUN`` (one minute, or its interval if shorter): a
one-off run of a daily check is a minute of data, not a day. Time no run
speaks for was not monitored: it is neither up nor down.

So an outage is a streak of failed runs, each speaking up to the next, with
no passing run between them; it starts at the first failure and ends where
the last one stops speaking: at the next (passing) run, or where the monitor
fell silent (the service was stopped, the laptop asleep), so a monitoring
gap is never downtime. Its length is ``end - start``, computed from the runs
and the service runs alone: never from the range drawn, so the same runs
give the same outage in a two-hour chart and a 30-day one (a range that
cuts the outage shows the part inside it). A streak that began before the
range starts at the range.

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
from monitor.store.heartbeats import HEARTBEAT_EVERY
from monitor.store.history import HOUR, FailedRun, ServiceRun

DEFAULT_INTERVAL = timedelta(minutes=1)  # a check's default interval (checks/settings.py)
MIN_GAP = timedelta(minutes=2)
# What a run no service made speaks for when no run followed it within the gap.
LONE_RUN = timedelta(minutes=1)


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


def spoken_until(
    at: datetime, next_at: datetime | None, interval: timedelta, made_by: datetime | None
) -> datetime:
    """Until when a run at ``at`` speaks for its check (the module's principle).

    Until ``next_at``, the next run of the same check and probe, when it
    came within the gap; otherwise (no next run yet, or a silence) for one
    ``interval``; and never past ``made_by``, the end of the service run
    that made it. ``made_by`` None: no service made it, and without a next
    run within the gap it speaks for ``LONE_RUN`` at most. Never depends on
    the range drawn.
    """
    within = next_at is not None and next_at - at <= gap_for(interval)
    if made_by is None:
        return next_at if within and next_at is not None else at + min(interval, LONE_RUN)
    until = next_at if within and next_at is not None else at + interval
    return max(min(until, made_by), at)


@dataclass(frozen=True, slots=True)
class Services:
    """When each probe's service ran, to tell which one made a run and when it ended."""

    spans: dict[str, tuple[tuple[datetime, datetime], ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, runs: Iterable[ServiceRun]) -> Services:
        """A stopped run ends at its stop; one with no stop recorded (still running, or it
        died) one beat after its last heartbeat, when the next was due."""
        spans: dict[str, list[tuple[datetime, datetime]]] = {}
        for run in runs:
            end = run.stopped_at or run.last_seen + HEARTBEAT_EVERY
            spans.setdefault(run.probe, []).append((run.started_at, end))
        return cls({probe: tuple(sorted(found)) for probe, found in spans.items()})

    def made_by(self, probe: str, at: datetime) -> datetime | None:
        """The end of the service run of ``probe`` that made a run at ``at``; None: none did."""
        ends = [end for start, end in self.spans.get(probe, ()) if start <= at <= end]
        return max(ends, default=None)

    def idle(self, probe: str, start: datetime, end: datetime) -> timedelta:
        """How much of ``[start, end]`` lies between two of ``probe``'s service runs."""
        spans = self.spans.get(probe, ())
        idle, reach = timedelta(0), None
        for begin, finish in spans:
            if reach is not None and begin > reach:
                idle += max(min(begin, end) - max(reach, start), timedelta(0))
            reach = finish if reach is None else max(reach, finish)
        return idle


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
    services: Services,
) -> list[Outage]:
    """Failure windows from failed runs sorted by check id, probe and time (as the store gives).

    ``interval`` gives each check id's interval, from which its gap follows;
    ``services`` when each probe's service ran, where what a run speaks for ends.
    """
    windows: list[Outage] = []
    for (check_id, probe), runs in groupby(failed, key=lambda r: (r.check_id, r.probe)):
        every = interval(check_id)
        current: _Open | None = None
        last: FailedRun | None = None
        for run in runs:
            last = run
            end = spoken_until(run.at, run.next_at, every, services.made_by(probe, run.at))
            if current is None:
                continued = (
                    run.prev_ok is False
                    and run.prev_at is not None
                    and run.prev_at < lo
                    and _reaches(run.prev_at, run.at, every, services.made_by(probe, run.prev_at))
                )
                current = _Open(lo if continued else run.at)
            current.classes[run.failure_class] += 1
            if _continues(run, end, hi):
                continue
            windows.append(_close(check_id, probe, current, end, lo, hi))
            current = None
        if current is not None and last is not None:  # its next failure was not in the list
            end = spoken_until(last.at, last.next_at, every, services.made_by(probe, last.at))
            windows.append(_close(check_id, probe, current, end, lo, hi))
    return windows


def _reaches(at: datetime, next_at: datetime, every: timedelta, made_by: datetime | None) -> bool:
    """Whether a run at ``at`` speaks right up to the run at ``next_at``."""
    return spoken_until(at, next_at, every, made_by) == next_at


def _continues(run: FailedRun, spoken: datetime, hi: datetime) -> bool:
    """Whether the next failed run in the list carries on the window ``run`` belongs to.

    Only a failed next run that ``run`` speaks right up to (within the gap,
    with no end of the service between), inside the range (one past ``hi``
    is not in the list: the window closes there, at the edge).
    """
    return (
        run.next_at is not None
        and run.next_ok is False
        and spoken == run.next_at
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
