"""Declared versus seen: how well each status page told the truth, with the evidence.

Pure: built from what the store read for a span (``Readings``: failure
windows' raw material, imported failures, upstream windows, heartbeats), so
every figure is a unit test from literals. The rules are ``why``'s:

* An incident was **seen** when a failure of a check depending on its source
  (or an imported failure for it) is one the incident explains by
  ``relevance`` (component, time, class). Its **lag** is the minutes from the
  first such failure to the page's declaration: positive when the checks saw
  it first, negative when the page was first. **Resolved after** is the
  minutes from the checks' recovery to the page's resolution.
* An **undeclared outage** is a failure window of a vendor check depending
  on the source, of the kind a vendor outage has (5xx, stalls, resets), that
  nothing the page declared explains, while no control target failed with it:
  ``why``'s "probably them, not declared".
* **Uptime**, as declared: the time the page said a component the checks
  use was not working (component transitions, and incidents' component hits,
  a span an update states included); as measured: the time those checks
  failed, less spells when the control target failed too (this side's
  network) and rejected credentials (a key, not an outage).
* **Coverage is honest.** Only watched time (a service heartbeat, or the
  failures themselves) counts; an incident entirely in unwatched time is
  "not watched" and left out of every ratio, and both uptimes are shares of
  the watched time alone.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.correlate.classes import AUTH, LOCAL_KINDS, NOT_EVIDENCE, SERVER_SIDE
from monitor.correlate.evidence import Readings, family
from monitor.correlate.matching import Tolerance
from monitor.correlate.relevance import matches
from monitor.correlate.windows import (
    LocalWindow,
    UpstreamWindow,
    check_windows,
    observed_windows,
)

Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class IncidentSeen:
    """One declared incident, and what the checks saw of it."""

    title: str
    impact: str | None
    url: str | None
    declared: datetime
    resolved: datetime | None
    watched: bool  # the monitor watched some of it: only then can it be seen or missed
    first_seen: datetime | None  # the first failure it explains
    recovered: datetime | None  # when the failures it explains ended (None: still failing)
    seen_by: tuple[str, ...]  # checks (and imported targets) whose failures it explains

    @property
    def seen(self) -> bool:
        return self.first_seen is not None

    @property
    def lag_minutes(self) -> float | None:
        """Declared minus first seen: positive when the checks saw it first."""
        if self.first_seen is None:
            return None
        return _minutes(self.declared - self.first_seen)

    @property
    def resolved_after_minutes(self) -> float | None:
        """Resolved minus recovered: positive when the page resolved it later."""
        if self.resolved is None or self.recovered is None or self.first_seen is None:
            return None
        return _minutes(self.resolved - self.recovered)


@dataclass(frozen=True, slots=True)
class UndeclaredOutage:
    """A vendor outage the checks saw that the page never declared."""

    checks: tuple[str, ...]
    start: datetime
    end: datetime | None  # None: still failing at the end of the range
    failure_classes: tuple[str, ...]
    minutes: float


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One status page over the range: declared against seen."""

    source: str
    incidents: tuple[IncidentSeen, ...]
    undeclared: tuple[UndeclaredOutage, ...]
    watched_minutes: float
    declared_down_minutes: float | None  # components the checks use, within watched time
    measured_down_minutes: float | None  # the checks' failures, within watched time

    @property
    def by_impact(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for incident in self.incidents:
            key = incident.impact or "none"
            counts[key] = counts.get(key, 0) + 1
        return counts

    @property
    def median_lag_minutes(self) -> float | None:
        lags = [i.lag_minutes for i in self.incidents if i.lag_minutes is not None]
        return statistics.median(lags) if lags else None

    @property
    def seen_outages(self) -> int:
        """Outages the checks saw: the declared incidents they saw, and the undeclared ones."""
        return sum(1 for i in self.incidents if i.seen) + len(self.undeclared)

    @property
    def declared_share(self) -> float | None:
        """Of the outages the checks saw, the share the page declared."""
        seen = self.seen_outages
        return None if not seen else sum(1 for i in self.incidents if i.seen) / seen

    @property
    def uptime_declared(self) -> float | None:
        return _uptime(self.declared_down_minutes, self.watched_minutes)

    @property
    def uptime_measured(self) -> float | None:
        return _uptime(self.measured_down_minutes, self.watched_minutes)


@dataclass(frozen=True, slots=True)
class Report:
    """Declared versus seen, per source, over ``[since, until]``."""

    since: datetime
    until: datetime
    watched: tuple[Span, ...]  # the watched spans within the range
    sources: tuple[SourceReport, ...]
    # A control check ran in the range: without one, a vendor outage cannot be
    # told from this side's trouble, and none is called undeclared.
    control_ran: bool = False

    @property
    def watched_minutes(self) -> float:
        return sum(_minutes(b - a) for a, b in self.watched)

    @property
    def range_minutes(self) -> float:
        return _minutes(self.until - self.since)


def build_report(
    readings: Readings,
    since: datetime,
    until: datetime,
    *,
    sources: Sequence[str],
    tolerance: Tolerance,
    observed_gap: timedelta,
) -> Report:
    """Every figure of the report, from what the store read for the range."""
    local = [w for s in readings.series for w in check_windows(s)]
    local += observed_windows(readings.observations, observed_gap, family)
    local = [w for w in local if w.overlaps(since, until)]
    # A failure is watched from its first failure to its last, not to the run that
    # ended it: that may come hours later, after the monitor was off meanwhile.
    watched = _union(
        [
            *((max(a, since), min(b, until)) for a, b in readings.alive),
            *((max(w.start, since), min(w.failing_until or until, until)) for w in local),
        ]
    )
    control = [w for w in local if w.role == "control" and not _only(w, NOT_EVIDENCE)]
    control_ran = any(s.check.role == "control" for s in readings.series)
    return Report(
        since=since,
        until=until,
        watched=tuple(watched),
        sources=tuple(
            _source_report(
                name,
                [w for w in local if w.source == name and _vendor(w)],
                [u for u in readings.upstream if u.source == name],
                control if control_ran else None,
                {c for s in readings.series if s.check.source == name for c in s.check.components},
                watched,
                (since, until),
                tolerance,
            )
            for name in sources
        ),
        control_ran=control_ran,
    )


def _source_report(
    source: str,
    failures: list[LocalWindow],
    upstream: list[UpstreamWindow],
    control: list[LocalWindow] | None,
    used: set[str],
    watched: list[Span],
    span: Span,
    tolerance: Tolerance,
) -> SourceReport:
    near = _Near(upstream, tolerance)
    explained: dict[LocalWindow, list[UpstreamWindow]] = {
        w: [m.upstream for m in matches(w, near.around(w), tolerance)] for w in failures
    }
    seen_in: dict[int, list[LocalWindow]] = {}
    for window, found in explained.items():
        for declared in found:
            seen_in.setdefault(id(declared), []).append(window)
    incidents = tuple(
        _incident_seen(u, seen_in.get(id(u), []), watched)
        for u in sorted(upstream, key=lambda u: u.declared_start or u.start)
        if u.kind == "incident" and (u.declared_start or u.start) <= span[1]
    )
    undeclared = () if control is None else _undeclared(failures, explained, control, span, watched)
    # Down as measured: the checks failing, less the spells the control failed
    # too (this side's network, not the vendor) and what only says the checks
    # could not run or the credentials were refused.
    measured = [
        (w.start, w.end or span[1])
        for w in failures
        if w.kind == "check"
        and not _only(w, NOT_EVIDENCE | AUTH)
        and not any(c.meets(w) for c in control or ())
    ]
    return SourceReport(
        source=source,
        incidents=incidents,
        undeclared=undeclared,
        watched_minutes=_total(watched),
        declared_down_minutes=_total(_within(_declared_down(upstream, used, span), watched)),
        measured_down_minutes=_total(_within(measured, watched)),
    )


def _declared_down(upstream: list[UpstreamWindow], used: set[str], span: Span) -> list[Span]:
    """When the page said a component the checks use was not working: its component
    transitions, and its incidents' component hits (a span an update states included).

    A window naming no component says nothing of these components; with no
    components configured, every component of the page counts.
    """
    down: list[Span] = []
    for window in upstream:
        if window.kind == "maintenance":
            continue
        if window.hits:
            down += [
                (h.start, h.end or span[1]) for h in window.hits if not used or h.component in used
            ]
        elif window.components and (not used or set(window.components) & used):
            down.append((window.start, window.end or span[1]))
    return down


class _Near:
    """The upstream windows that could explain a failure: those near it in time.

    Over a quarter's hundreds of windows, asking ``relevance`` about each one
    for each failure is most of the work; a window further than the tolerance
    (and an hour's margin) from the failure can never explain it.
    """

    MARGIN = timedelta(hours=1)

    def __init__(self, upstream: list[UpstreamWindow], tolerance: Tolerance) -> None:
        self.windows = sorted(upstream, key=lambda u: u.start)
        self.starts = [u.start for u in self.windows]
        self.reach = tolerance.lead + tolerance.lag + self.MARGIN

    def around(self, window: LocalWindow) -> list[UpstreamWindow]:
        last = window.failing_until or window.end or window.start
        upto = bisect.bisect_right(self.starts, max(last, window.start) + self.reach)
        since = window.start - self.reach
        return [u for u in self.windows[:upto] if u.end is None or u.end >= since]


def _incident_seen(
    incident: UpstreamWindow,
    mine: list[LocalWindow],
    watched: list[Span],
) -> IncidentSeen:
    declared = incident.declared_start or incident.start
    resolved = incident.declared_end if incident.declared_start else incident.end
    ends = [w.failing_until if w.kind == "observed" else w.end for w in mine]
    return IncidentSeen(
        title=incident.title,
        impact=incident.impact,
        url=incident.url,
        declared=declared,
        resolved=resolved,
        watched=bool(mine) or _meets(watched, (incident.start, incident.end or declared)),
        first_seen=min((w.start for w in mine), default=None),
        recovered=None if not mine or None in ends else max(e for e in ends if e is not None),
        seen_by=tuple(dict.fromkeys(w.name for w in mine)),
    )


def _undeclared(
    failures: list[LocalWindow],
    explained: dict[LocalWindow, list[UpstreamWindow]],
    control: list[LocalWindow],
    span: Span,
    watched: list[Span],
) -> tuple[UndeclaredOutage, ...]:
    """Vendor-outage-shaped failures nothing declared explains, the control fine meanwhile;
    overlapping ones (several checks down at once) are one outage, as long as it was
    watched (a gap in monitoring inside it is not counted as down)."""
    candidates = sorted(
        (
            w
            for w in failures
            if w.kind == "check"
            and not explained[w]
            and w.failure_classes
            and w.failure_classes[0] in SERVER_SIDE
            and not any(c.meets(w) for c in control)
        ),
        key=lambda w: w.start,
    )
    outages: list[list[LocalWindow]] = []
    for window in candidates:
        if outages and any(window.meets(other) for other in outages[-1]):
            outages[-1].append(window)
        else:
            outages.append([window])
    found = []
    for group in outages:
        start = min(w.start for w in group)
        end = None if any(w.end is None for w in group) else max(w.end for w in group if w.end)
        classes = tuple(dict.fromkeys(c for w in group for c in w.failure_classes))
        found.append(
            UndeclaredOutage(
                checks=tuple(dict.fromkeys(w.name for w in group)),
                start=start,
                end=end,
                failure_classes=classes,
                minutes=_total(_within([(start, end or span[1])], watched)),
            )
        )
    return tuple(found)


def _vendor(window: LocalWindow) -> bool:
    """A call to the vendor: a vendor check of a kind that calls it, or an imported failure."""
    if window.kind == "observed":
        return True
    return window.role == "vendor" and window.check_kind not in LOCAL_KINDS


def _only(window: LocalWindow, classes: frozenset[str]) -> bool:
    return bool(window.failure_classes) and set(window.failure_classes) <= classes


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _within(spans: Iterable[Span], watched: list[Span]) -> list[Span]:
    """The parts of ``spans`` inside the watched time, overlaps merged."""
    return _union(
        (max(a, c), min(b, d)) for a, b in _union(spans) for c, d in watched if a < d and c < b
    )


def _meets(watched: list[Span], span: tuple[datetime, datetime]) -> bool:
    return any(a <= span[1] and span[0] <= b for a, b in watched)


def _total(spans: Iterable[Span]) -> float:
    return sum(_minutes(b - a) for a, b in spans)


def _uptime(down: float | None, watched: float) -> float | None:
    if down is None or watched <= 0:
        return None
    return max(0.0, 1 - down / watched)


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)
