"""Windows: the shapes the correlator reasons over, and the pure functions that build them.

The store supplies rows (check runs, imported observations, incidents,
component transitions, maintenances, heartbeats); everything here turns rows
into time windows without reading the clock or the database, so every case
is a plain unit test and the charts draw exactly what ``why`` reasons over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

LocalKind = Literal["check", "observed"]
UpstreamKind = Literal["incident", "component", "maintenance"]

# Component statuses that mean "not fully working" (Statuspage vocabulary,
# which the other parsers map onto).
DEGRADED_STATUSES = frozenset(
    {"degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
)
_STATUS_RANK = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """A configured check as the correlator needs it: what it probes and what it relies on."""

    name: str
    kind: str
    role: str  # vendor | control
    target: str
    source: str | None = None
    components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    """One recorded run of a check on one probe."""

    check: str
    probe: str
    started_at: datetime
    ok: bool
    failure_class: str | None = None
    http_status: int | None = None
    skipped: bool = False
    detail: str = ""

    @property
    def failed(self) -> bool:
        return not self.ok and not self.skipped


@dataclass(frozen=True, slots=True)
class StreakHead:
    """A failure streak already running when the rows handed over begin.

    The store summarises the streak's earlier runs instead of loading them:
    a check failing for three days is 8,640 rows nobody needs one by one.
    """

    start: datetime
    runs: int
    failures: int
    failure_classes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Series:
    """The runs of one check on one probe over a span, with what lies just outside it.

    ``runs`` are sorted by time. ``head`` is set when the first run is a
    failure that continues a streak begun earlier; ``recovered_at`` is the
    first run after the span that did not fail (a pass or a skip) when its last
    run was a failure.
    """

    check: CheckInfo
    probe: str
    runs: tuple[Run, ...]
    head: StreakHead | None = None
    recovered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """A failure the user's own tools saw, imported from their logs."""

    at: datetime
    failure_class: str
    source: str | None = None
    target: str | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class LocalWindow:
    """Consecutive failures of one check (or one imported target) as one window.

    ``end`` is the first run after the failures that did not fail (``None``
    while still failing); for imported failures, which never report a
    success, it is the last failure seen, as is ``last_failure`` for both.
    ``failure_classes`` are most frequent first.
    """

    kind: LocalKind
    name: str
    start: datetime
    end: datetime | None
    failure_classes: tuple[str, ...]
    runs: int
    failures: int
    role: str = "vendor"
    check_kind: str | None = None
    target: str = ""
    probe: str | None = None
    source: str | None = None
    components: tuple[str, ...] = ()
    http_statuses: tuple[int, ...] = ()
    detail: str = ""
    last_failure: datetime | None = None
    began: datetime | None = None  # imported: when this run of sparse failures began
    # A check's window ended by a skipped run, not a pass: the check stopped
    # running (its credentials file gone, say), which says nothing of recovery.
    stopped: bool = False
    # Set when the evidence holds more than one probe: texts then say where.
    several_probes: bool = False

    @property
    def label(self) -> str:
        """The check's name, and its probe when several are in view ("api on laptop")."""
        return f"{self.name} on {self.probe}" if self.several_probes and self.probe else self.name

    def overlaps(self, lo: datetime, hi: datetime) -> bool:
        """Whether any part of the window lies in ``[lo, hi]``."""
        return self.start <= hi and (self.end is None or self.end >= lo)

    def meets(self, other: LocalWindow) -> bool:
        """Whether the two failure windows overlap in time (an open one runs on)."""
        return (other.end is None or self.start <= other.end) and (
            self.end is None or other.start <= self.end
        )

    @property
    def failing_until(self) -> datetime | None:
        """When it was last seen failing: the last failure, not the run that ended it,
        which may come hours later (a laptop asleep); None while it fails and no
        failure time is known."""
        return self.last_failure or self.end


@dataclass(frozen=True, slots=True)
class ComponentHit:
    """One component not operational from ``start`` to ``end`` (None: still not) in one window.

    Incident updates say, update by update, which components are degraded
    and which are back: a component set operational at 15:20 explains
    nothing at 16:45 although the incident stays open for the others.
    """

    component: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class UpstreamWindow:
    """What a status page declared: an incident, a component degradation or a maintenance.

    ``start``/``end`` are the best statement of the impact: the declared
    times widened by a span an update's text states ("between 15:31 and 16:19
    UTC"), which may begin before the late declaration; the declared times
    are kept in ``declared_start``/``declared_end`` either way.
    ``component_level`` says the components came from updates naming what was
    degraded, not from an incident's list that may name the whole page;
    ``hits`` then says when each was hit (empty: each for the whole window).
    ``stated`` is the span an update's text states, exactly as stated.
    ``about`` is what the updates said, read for what the trouble broke.
    """

    source: str
    kind: UpstreamKind
    title: str
    start: datetime
    end: datetime | None
    impact: str | None = None
    components: tuple[str, ...] = ()
    url: str | None = None
    status: str | None = None
    declared_start: datetime | None = None
    declared_end: datetime | None = None
    stated_in_update: bool = False
    component_level: bool = False
    hits: tuple[ComponentHit, ...] = ()
    stated: tuple[datetime, datetime] | None = None
    about: str = ""

    def overlaps(self, lo: datetime, hi: datetime) -> bool:
        """Whether any part of the window lies in ``[lo, hi]``."""
        return self.start <= hi and (self.end is None or self.end >= lo)

    def spans(self, components: Iterable[str]) -> list[tuple[datetime, datetime | None]]:
        """When each of ``components`` was hit by this window (the whole window if no
        update said when)."""
        wanted = {c.casefold() for c in components}
        if not self.hits:
            return [(self.start, self.end)]
        return [(h.start, h.end) for h in self.hits if h.component.casefold() in wanted]


@dataclass(frozen=True, slots=True)
class Coverage:
    """Whether the monitor was watching around the time asked about.

    ``alive`` are the service's heartbeat spans meeting the window; ``runs``
    counts check runs recorded in it (``monitor check`` from cron writes runs
    without a service, so either counts as watching).
    """

    watching: bool
    alive: tuple[tuple[datetime, datetime], ...] = ()
    runs: int = 0
    first_run: datetime | None = None
    last_run: datetime | None = None


# A heartbeat span covers a moment this close to either end of it.
HEARTBEAT_SLACK = timedelta(minutes=1)
# A check run this close to a moment saw it.
COVER_SLACK = timedelta(minutes=10)
# Runs at most this far apart watched the moments between them (cron).
CRON_SLACK = timedelta(hours=1)


def coverage_of(
    alive: Iterable[tuple[datetime, datetime]], runs: Iterable[Run], at: datetime | None = None
) -> Coverage:
    """Whether the monitor was watching: at ``at`` when given, else at all.

    Watching at a moment means a service heartbeat span covers it, or a check
    run was recorded within ``COVER_SLACK`` of it, or it lies between two runs
    at most ``CRON_SLACK`` apart (``monitor check`` from cron writes runs
    without a service). Runs earlier in the window do not count:
    a service that stopped at 14:41 was not watching at 15:10.
    """
    alive = tuple(alive)
    times = sorted(run.started_at for run in runs if not run.skipped)
    if at is None:
        watching = bool(alive or times)
    else:
        before = [t for t in times if t <= at]
        after = [t for t in times if t >= at]
        watching = (
            any(start - HEARTBEAT_SLACK <= at <= end + HEARTBEAT_SLACK for start, end in alive)
            or any(abs(t - at) <= COVER_SLACK for t in times)
            # A check from cron every half hour watched the moment between two runs.
            or bool(before and after and after[0] - before[-1] <= CRON_SLACK)
        )
    return Coverage(
        watching=watching,
        alive=alive,
        runs=len(times),
        first_run=times[0] if times else None,
        last_run=times[-1] if times else None,
    )


@dataclass(slots=True)
class _Streak:
    """A failure window while it is being read, run by run."""

    start: datetime
    runs: int = 0
    failures: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    detail: str = ""
    last: datetime | None = None

    def add(self, run: Run) -> None:
        self.runs += 1
        self.failures += 1
        self.last = run.started_at
        self.classes[run.failure_class or "unknown"] += 1
        if run.http_status is not None:
            self.statuses[run.http_status] += 1
        self.detail = run.detail

    def window(self, series: Series, end: datetime | None, *, stopped: bool = False) -> LocalWindow:
        check = series.check
        return LocalWindow(
            kind="check",
            name=check.name,
            start=self.start,
            end=end,
            failure_classes=_by_frequency(self.classes),
            runs=self.runs,
            failures=self.failures,
            role=check.role,
            check_kind=check.kind,
            target=check.target,
            probe=series.probe,
            source=check.source,
            components=check.components,
            http_statuses=tuple(sorted(self.statuses)),
            detail=self.detail,
            last_failure=self.last or self.start,
            stopped=stopped,
        )


def by_name(windows: Iterable[LocalWindow]) -> list[list[LocalWindow]]:
    """Windows grouped per check (or imported target), in order of first appearance.

    A flapping check makes a window per spell; people read one line per check.
    """
    groups: dict[tuple[str, str], list[LocalWindow]] = {}
    for window in windows:
        groups.setdefault((window.kind, window.label), []).append(window)
    return list(groups.values())


def check_windows(series: Series) -> list[LocalWindow]:
    """Merge consecutive failing runs of one series into windows.

    The first run after failures that did not fail ends the window and is
    its ``end``: a pass, or a skipped run (the check stopped applying, so
    it can no longer say the failure goes on: a check that failed once and
    has been skipped since is not "still failing"). A skipped run never
    starts a window.
    """
    windows: list[LocalWindow] = []
    streak: _Streak | None = None
    if series.head is not None:
        head = series.head
        streak = _Streak(head.start, head.runs, head.failures, Counter(head.failure_classes))
    for run in series.runs:
        if run.failed:
            if streak is None:
                streak = _Streak(run.started_at)
            streak.add(run)
        elif streak is not None:
            windows.append(streak.window(series, run.started_at, stopped=run.skipped))
            streak = None
    if streak is not None:
        windows.append(streak.window(series, series.recovered_at))
    return windows


# Imported failures of one target and kind this close to each other are one run of
# trouble even when a window each: a cron job failing every two hours since the
# morning has been failing since the morning.
SPARSE_GAP = timedelta(hours=6)


def observed_windows(
    observations: Iterable[Observation],
    gap: timedelta,
    family: Callable[[str], str] | None = None,
) -> list[LocalWindow]:
    """Group imported failures per (source, target) into windows.

    Observations closer than ``gap`` to the previous one of the same target
    join its window; a longer quiet spell starts a new one. ``family`` keeps
    kinds of failure apart (one stray 401 among a hundred 503s is a window
    of its own, not a 401 tinting the 503s).
    """
    by_target: dict[tuple[str | None, str | None, str], list[Observation]] = {}
    for item in sorted(observations, key=lambda o: o.at):
        kind = family(item.failure_class) if family is not None else ""
        by_target.setdefault((item.source, item.target, kind), []).append(item)
    windows: list[LocalWindow] = []
    for (source, target, _), items in by_target.items():
        group: list[Observation] = []
        began = items[0].at if items else None
        for item in items:
            if group and item.at - group[-1].at > gap:
                windows.append(_observed_window(source, target, group, began))
                if item.at - group[-1].at > SPARSE_GAP:
                    began = item.at
                group = []
            group.append(item)
        if group:
            windows.append(_observed_window(source, target, group, began))
    windows.sort(key=lambda w: (w.start, w.name))
    return windows


def _observed_window(
    source: str | None, target: str | None, group: Sequence[Observation], began: datetime | None
) -> LocalWindow:
    classes = Counter(o.failure_class for o in group)
    return LocalWindow(
        kind="observed",
        name=target or source or "observed",
        start=group[0].at,
        end=group[-1].at,
        failure_classes=_by_frequency(classes),
        runs=len(group),
        failures=len(group),
        target=target or "",
        source=source,
        detail=group[-1].error,
        last_failure=group[-1].at,
        began=began if began is not None and began < group[0].at else None,
    )


def _by_frequency(counts: Counter[str]) -> tuple[str, ...]:
    return tuple(name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True, slots=True)
class ComponentTransition:
    """A component's status from ``at`` on (the store writes transitions only)."""

    source: str
    component: str
    status: str
    at: datetime


def component_windows(transitions: Iterable[ComponentTransition]) -> list[UpstreamWindow]:
    """Turn status transitions into windows during which a component was not operational.

    ``transitions`` per component must be complete from before the span of
    interest (the store hands over the last transition before it). A
    degradation still running at the last transition is open (``end`` None).
    """
    by_component: dict[tuple[str, str], list[ComponentTransition]] = {}
    for item in sorted(transitions, key=lambda t: t.at):
        by_component.setdefault((item.source, item.component), []).append(item)
    windows: list[UpstreamWindow] = []
    for (source, component), items in by_component.items():
        start: datetime | None = None
        worst = "operational"
        for item in items:
            if item.status not in _STATUS_RANK:
                # "unknown" (an unreadable page) says nothing: neither trouble nor recovery.
                continue
            degraded = item.status in DEGRADED_STATUSES
            if degraded and start is None:
                start, worst = item.at, item.status
            elif degraded:
                worst = max(worst, item.status, key=lambda s: _STATUS_RANK.get(s, 0))
            elif start is not None:
                windows.append(_component_window(source, component, start, item.at, worst))
                start, worst = None, "operational"
        if start is not None:
            windows.append(_component_window(source, component, start, None, worst))
    windows.sort(key=lambda w: (w.start, w.source, w.title))
    return windows


def _component_window(
    source: str, component: str, start: datetime, end: datetime | None, worst: str
) -> UpstreamWindow:
    maintenance = worst == "under_maintenance"
    return UpstreamWindow(
        source=source,
        kind="maintenance" if maintenance else "component",
        title=f"{component}: {worst.replace('_', ' ')}",
        start=start,
        end=end,
        impact=worst,
        components=(component,),
        status=worst,
        declared_start=start,
        declared_end=end,
        component_level=True,
    )


@dataclass(frozen=True, slots=True)
class UpdateStatus:
    """What one incident update said of one component: from ``old`` to ``new``."""

    at: datetime
    component: str
    old: str | None
    new: str | None


# How close to the incident's start a component's first degraded update must be
# to count as hit from the start (and so from a stated span's earlier start).
_SAME_UPDATE = timedelta(minutes=10)
# A hit ends with the incident when the resolving update closed it.
_RESOLVING_UPDATE = timedelta(minutes=2)


def incident_hits(
    statuses: Iterable[UpdateStatus],
    window: tuple[datetime, datetime | None],
    declared: tuple[datetime, datetime | None],
) -> tuple[ComponentHit, ...]:
    """When each component an incident's updates name was hit, update by update.

    A degraded status opens a component's hit and ``operational`` closes it,
    so a component the vendor set back at 15:20 stops counting then although
    the incident stays open. A hit still open when the incident ends ends
    with it; one named from the first update on begins with the incident.
    ``window`` is the incident's impact window (a stated span may widen the
    ``declared`` one): hits that begin or end with the declaration take its
    widened edges.
    """
    start, end = window
    declared_start, declared_end = declared
    opened: dict[str, datetime] = {}
    hits: list[ComponentHit] = []
    named: set[str] = set()
    for item in sorted(statuses, key=lambda s: s.at):
        degraded = item.new in DEGRADED_STATUSES
        if degraded and item.component not in opened:
            opened[item.component] = item.at
        elif item.new == "operational":
            began = opened.pop(item.component, None)
            if began is None and item.old in DEGRADED_STATUSES and item.component not in named:
                began = declared_start  # its first news is the recovery: hit from the start
            if began is not None:
                hits.append(ComponentHit(item.component, began, item.at))
        if degraded or item.new == "operational":
            named.add(item.component)
    hits += [ComponentHit(c, began, declared_end) for c, began in opened.items()]
    return tuple(
        sorted(
            (_widen(h, start, end, declared_start, declared_end) for h in hits),
            key=lambda h: (h.start, h.component),
        )
    )


def _widen(
    hit: ComponentHit,
    start: datetime,
    end: datetime | None,
    declared_start: datetime,
    declared_end: datetime | None,
) -> ComponentHit:
    begins = min(hit.start, start) if hit.start <= declared_start + _SAME_UPDATE else hit.start
    if hit.end is None or end is None:
        ends = hit.end
    elif declared_end is not None and hit.end >= declared_end - _RESOLVING_UPDATE:
        ends = max(hit.end, end)
    else:
        ends = hit.end
    return ComponentHit(hit.component, begins, ends)
