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
* **An outage is judged only by a page known then.** An outage can be called
  declared or undeclared only by a page whose declarations at its start are
  known: read at or after that start (a page lists its past incidents, so a
  later read covers earlier times), or read at most ``READ_STALE`` before it
  with no failed poll since (``why``'s rule for a moment). The store gives a
  page's last read by the range's end, the first failed poll after it and the
  first read after the range, so the known time is one span from the range's
  start: to the range's end when a poll read it at or after the end, else to
  its last read (plus ``READ_STALE`` unless a poll failed sooner). A page read
  only after an outage ended still judges it; one read early in the range and
  failing after does not judge later outages. An outage the page was not read
  for is **unknown** (``SourceReport.unknown``): counted apart, neither
  declared nor undeclared, and out of the declared share. Declared uptime is
  a share of the watched time the page was known alone. A page known at no
  moment of the range has no declared figure at all (``SourceReport.read`` is
  False); ``NOT_READ`` and ``NOT_READ_THEN`` word it for the page and
  ``monitor report`` alike.
* **Coverage is honest.** Only watched time (a service heartbeat, or the
  failures themselves) counts; an incident entirely in unwatched time is
  "not watched" and left out of every ratio, and both uptimes are shares of
  the watched time alone.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.correlate.classes import AUTH, LOCAL_KINDS, NOT_EVIDENCE, SERVER_SIDE
from monitor.correlate.evidence import Readings, family
from monitor.correlate.matching import Tolerance
from monitor.correlate.pages import READ_STALE, Page
from monitor.correlate.relevance import matches
from monitor.correlate.windows import (
    COVER_SLACK,
    CRON_SLACK,
    LocalWindow,
    UpstreamWindow,
    check_windows,
    observed_windows,
)

Span = tuple[datetime, datetime]

NOT_READ = "not read in this range: what it declared is unknown"
NOT_READ_THEN = "not read then: what it declared is unknown"
UNREAD_AFTER = "what it declared then is unknown"


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
    """A vendor outage the checks saw that the page never declared (or, listed as
    ``SourceReport.unknown``, one seen while the page was not read)."""

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
    # Outages the checks saw that a declared incident explains (overlapping
    # failures are one outage, however many checks or incidents).
    declared_outages: int = 0
    # When what the page declared is known, within the range (one span from its
    # start, or none): only outages starting then are called declared or undeclared.
    known: tuple[Span, ...] = ()
    # Outages seen while the page was not read: neither declared nor undeclared.
    unknown: tuple[UndeclaredOutage, ...] = ()
    # The watched minutes the page was known: declared uptime's whole.
    known_watched_minutes: float = 0.0

    @property
    def read(self) -> bool:
        """What the page declared is known for some of the range: else no declared figure."""
        return bool(self.known)

    def unread_from(self, until: datetime) -> datetime | None:
        """When the page's known time ends before ``until`` (the range's end): from then
        what it declared is unknown. None: known to the end, or never."""
        end = self.known[-1][1] if self.known else None
        return end if end is not None and end < until else None

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
        """Outages the checks saw while the page was read: those a declared incident
        explains, and the undeclared (the ``unknown`` are apart)."""
        return self.declared_outages + len(self.undeclared)

    @property
    def declared_share(self) -> float | None:
        """Of the outages the checks saw, the share the page declared (None: none seen,
        or the page not read)."""
        seen = self.seen_outages
        return None if not seen or not self.read else self.declared_outages / seen

    @property
    def uptime_declared(self) -> float | None:
        if not self.read:
            return None
        return _uptime(self.declared_down_minutes, self.known_watched_minutes)

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
    watched = _watched(readings, local, (since, until))
    control = [w for w in local if w.role == "control" and not _only(w, NOT_EVIDENCE)]
    # Which probes ran a control check in the range: only on those can a vendor
    # failure be told from this side's trouble.
    controlled = {s.probe for s in readings.series if s.check.role == "control"}
    pages = {p.source: p for p in readings.pages}
    return Report(
        since=since,
        until=until,
        watched=tuple(watched),
        sources=tuple(
            _source_report(
                name,
                [w for w in local if w.source == name and _vendor(w)],
                [u for u in readings.upstream if u.source == name],
                _Controls(control, controlled),
                {
                    c.casefold()
                    for s in readings.series
                    if s.check.source == name
                    for c in s.check.components
                },
                watched,
                (since, until),
                _Match(tolerance, pages),
                known_spans(pages.get(name), (since, until)),
            )
            for name in sources
        ),
        control_ran=bool(controlled),
    )


def known_spans(page: Page | None, span: Span) -> list[Span]:
    """When, within ``span``, what ``page`` declared is known (the page as read at the
    span's end): from the start to the end when a poll read it at or after the end, else
    to its last read, or ``READ_STALE`` past it unless a poll failed sooner. A read
    covers earlier times (a page lists its past incidents); a failed poll ends it."""
    since, until = span
    if page is None or not page.polled:
        return []
    if page.read_after is not None:
        return [span]
    if page.last_read is None:
        return []
    end = page.last_read + READ_STALE
    if page.failing_since is not None:
        end = max(page.last_read, min(end, page.failing_since))
    end = min(end, until)
    return [(since, end)] if end > since else []


def _watched(readings: Readings, local: list[LocalWindow], span: Span) -> list[Span]:
    """When the monitor watched: a service's heartbeats, checks failing (to their last
    failure: the run that ended one may come after hours off), and checks run without
    a service (``why``'s coverage: a run covers minutes around it, and two runs close
    enough the time between them). Imported lines alone are no watch."""
    since, until = span
    times = readings.run_times
    around = [(t - COVER_SLACK, t + COVER_SLACK) for t in times]
    between = [(a, b) for a, b in itertools.pairwise(times) if b - a <= CRON_SLACK]
    return _union(
        (max(a, since), min(b, until))
        for a, b in [
            *readings.alive,
            *around,
            *between,
            *((w.start, w.failing_until or until) for w in local if w.kind == "check"),
        ]
    )


@dataclass(frozen=True, slots=True)
class _Controls:
    """The control checks' failures, and the probes that ran one."""

    failures: list[LocalWindow]
    probes: set[str]

    def clear(self, window: LocalWindow, watched: list[Span]) -> bool:
        """A control ran on ``window``'s probe, none failed with it there, and it was
        watched: the vendor's failure, not this side's path."""
        return (
            window.probe in self.probes
            and not any(c.probe == window.probe and c.meets(window) for c in self.failures)
            and _meets(watched, (window.start, window.failing_until or window.start))
        )

    def failed_with(self, window: LocalWindow) -> bool:
        return any(c.probe == window.probe and c.meets(window) for c in self.failures)


@dataclass(frozen=True, slots=True)
class _Match:
    """``why``'s relevance, with the pages as read (another vendor's host, the names a
    page used)."""

    tolerance: Tolerance
    pages: dict[str, Page]

    def best(self, window: LocalWindow, near: list[UpstreamWindow]) -> list[UpstreamWindow]:
        """What explains ``window``, strongest first."""
        return [m.upstream for m in matches(window, near, self.tolerance, self.pages)]


def _source_report(
    source: str,
    failures: list[LocalWindow],
    upstream: list[UpstreamWindow],
    controls: _Controls,
    used: set[str],
    watched: list[Span],
    span: Span,
    match: _Match,
    known: list[Span],
) -> SourceReport:
    near = _Near(upstream, match.tolerance)
    explained = {w: match.best(w, near.around(w)) for w in failures}
    # A failure sees the incident that explains it best, not every one open
    # then: two overlapping incidents do not make one outage two.
    seen_in: dict[int, list[LocalWindow]] = {}
    for window, found in explained.items():
        if found:
            seen_in.setdefault(id(found[0]), []).append(window)
    incidents = tuple(
        _incident_seen(u, seen_in.get(id(u), []), watched, span)
        for u in sorted(upstream, key=lambda u: u.declared_start or u.start)
        # Declared over the range: one declared before it would have its lag
        # measured against failures the range does not hold.
        if u.kind == "incident" and span[0] <= (u.declared_start or u.start) <= span[1]
    )
    # Seen and declared: failures something the page declared explains; undeclared:
    # vendor-shaped ones nothing explains, told only with a control on their probe.
    # Each outage is judged only if the page was known at its start; else unknown.
    declared_seen = _groups(w for w in failures if explained[w])
    candidates = _groups(_candidates(failures, explained, controls, watched))

    def judged(group: list[LocalWindow]) -> bool:
        start = max(min(w.start for w in group), span[0])
        return _meets(known, (start, start))

    undeclared = _outages([g for g in candidates if judged(g)], span, watched)
    unjudged = [w for g in [*declared_seen, *candidates] if not judged(g) for w in g]
    known_watched = _within(watched, known)
    # Down as measured: the checks failing, less the spells the control failed
    # too on that probe (this side's network, not the vendor) and what only says
    # the checks could not run or the credentials were refused.
    measured = [
        (w.start, w.end or span[1])
        for w in failures
        if w.kind == "check" and not _only(w, NOT_EVIDENCE | AUTH) and not controls.failed_with(w)
    ]
    return SourceReport(
        source=source,
        incidents=incidents,
        undeclared=undeclared,
        watched_minutes=_total(watched),
        declared_down_minutes=_total(_within(_declared_down(upstream, used, span), known_watched)),
        measured_down_minutes=_total(_within(measured, watched)),
        declared_outages=sum(1 for g in declared_seen if judged(g)),
        known=tuple(known),
        unknown=_outages(_groups(unjudged), span, watched),
        known_watched_minutes=_total(known_watched),
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
                (h.start, h.end or span[1])
                for h in window.hits
                if not used or h.component.casefold() in used
            ]
        elif window.components and (not used or {c.casefold() for c in window.components} & used):
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
    span: Span,
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
        watched=bool(mine) or _meets(watched, (incident.start, incident.end or span[1])),
        first_seen=min((w.start for w in mine), default=None),
        recovered=None if not mine or None in ends else max(e for e in ends if e is not None),
        seen_by=tuple(dict.fromkeys(w.name for w in mine)),
    )


def _candidates(
    failures: list[LocalWindow],
    explained: dict[LocalWindow, list[UpstreamWindow]],
    controls: _Controls,
    watched: list[Span],
) -> list[LocalWindow]:
    """Vendor-outage-shaped failures nothing declared explains, the control fine meanwhile
    (none without a control on their probe)."""
    return sorted(
        (
            w
            for w in failures
            if w.kind == "check"
            and not explained[w]
            and w.failure_classes
            and w.failure_classes[0] in SERVER_SIDE
            and controls.clear(w, watched)
        ),
        key=lambda w: w.start,
    )


def _outages(
    groups: list[list[LocalWindow]], span: Span, watched: list[Span]
) -> tuple[UndeclaredOutage, ...]:
    """Overlapping failures (several checks down at once) as one outage each, its minutes
    those watched (a gap in monitoring inside it is not counted as down)."""
    found = []
    for group in groups:
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


def _groups(windows: Iterable[LocalWindow]) -> list[list[LocalWindow]]:
    """Failure windows that overlap in time, together: several checks down at once,
    or several probes, are one outage."""
    groups: list[list[LocalWindow]] = []
    for window in sorted(windows, key=lambda w: w.start):
        if groups and any(window.meets(other) for other in groups[-1]):
            groups[-1].append(window)
        else:
            groups.append([window])
    return groups


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
