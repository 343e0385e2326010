"""Evidence: everything known around one moment, in the shape the rules read.

Built purely from what the store read (``Readings``: series of runs,
imported observations, upstream windows, heartbeat spans, the pages), so a
scenario test constructs it from literals; whether the monitor was watching
is worked out here (``coverage_of``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.correlate.classes import LOCAL_KINDS, LOCAL_SETUP, NETWORK, NOT_EVIDENCE
from monitor.correlate.matching import Tolerance
from monitor.correlate.pages import Page
from monitor.correlate.relevance import Match, matches, need
from monitor.correlate.windows import (
    CheckInfo,
    Coverage,
    LocalWindow,
    Observation,
    Series,
    UpstreamWindow,
    check_windows,
    coverage_of,
    observed_windows,
)


def family(failure_class: str) -> str:
    """The kind of failure imported lines are grouped by: network-level, or what can explain it."""
    return "network" if failure_class in NETWORK else need(failure_class)


@dataclass(frozen=True, slots=True)
class Activity:
    """What one check did in the window asked about: how many runs passed and failed."""

    check: CheckInfo
    runs: int
    passed: int
    failed: int
    passed_statuses: frozenset[int]


@dataclass(frozen=True, slots=True)
class Evidence:
    """The local and upstream windows around ``at``, and how well it was watched.

    ``local`` holds the windows meeting ``[lo, hi]`` (a window may reach far
    outside it: a streak begun days earlier keeps its true start).
    """

    at: datetime
    lo: datetime
    hi: datetime
    local: tuple[LocalWindow, ...]
    activity: tuple[Activity, ...]
    upstream: tuple[UpstreamWindow, ...]
    coverage: Coverage
    tolerance: Tolerance
    pages: tuple[Page, ...] = ()
    # Each local window's matches, worked out once: every rule and aside asks.
    _matched: dict[LocalWindow, list[Match]] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False
    )

    def unread(self) -> list[Page]:
        """Pages the failing calls depend on (all, when nothing failed) that could not be
        read around ``at``: what they declared then is unknown."""
        sources = {w.source for w in self.local if w.source} or {p.source for p in self.pages}
        return [p for p in self.pages if p.source in sources and not p.known]

    def matches(self, window: LocalWindow) -> list[Match]:
        """The upstream windows that explain ``window``, strongest first (``relevance``)."""
        found = self._matched.get(window)
        if found is None:
            pages = {p.source: p for p in self.pages}
            found = matches(window, self.upstream, self.tolerance, pages)
            self._matched[window] = found
        return found

    def explained(self, window: LocalWindow) -> bool:
        return bool(self.matches(window))

    def vendor(self) -> list[LocalWindow]:
        """Failures of calls to the vendor (checks with role vendor, and imported ones)."""
        return [
            w
            for w in self.local
            if w.role == "vendor" and w.check_kind not in LOCAL_KINDS and not _only(w, NOT_EVIDENCE)
        ]

    def control(self) -> list[LocalWindow]:
        return [w for w in self.local if w.role == "control" and not _only(w, NOT_EVIDENCE)]

    def control_passed(self) -> bool:
        """A control check ran in the window and none of its runs failed."""
        controls = [a for a in self.activity if a.check.role == "control" and a.runs]
        return bool(controls) and not self.control() and any(a.passed for a in controls)

    def setup(self) -> list[LocalWindow]:
        """Failures that describe this machine: credentials file, callback port, clock.

        A login callback that never arrived while the vendor's sign-in was down
        is the vendor's doing, not this machine's set-up.
        """
        return [
            w
            for w in self.local
            if (w.check_kind in LOCAL_KINDS or w.kind == "observed")
            and set(w.failure_classes) & LOCAL_SETUP
            and not self.explained(w)
        ]

    def unusable(self) -> list[LocalWindow]:
        """Checks that could not run at all (misconfigured, monitor's own error)."""
        return [w for w in self.local if _only(w, NOT_EVIDENCE)]

    def reachable(self) -> list[str]:
        """Vendor checks whose passing runs got 401: the API up, refusing no credentials."""
        return [
            a.check.name
            for a in self.activity
            if a.check.role == "vendor" and a.passed and 401 in a.passed_statuses
        ]


def _only(window: LocalWindow, classes: frozenset[str]) -> bool:
    return bool(window.failure_classes) and set(window.failure_classes) <= classes


@dataclass(frozen=True, slots=True)
class Readings:
    """What the store read for a span: the rows, as windows' raw material, and nothing judged.

    ``alive`` are the service's heartbeat spans meeting the span; ``pages``
    the status pages as read for it (empty for a timeline).
    """

    series: tuple[Series, ...] = ()
    observations: tuple[Observation, ...] = ()
    upstream: tuple[UpstreamWindow, ...] = ()
    alive: tuple[tuple[datetime, datetime], ...] = ()
    pages: tuple[Page, ...] = ()


def evidence_from(
    readings: Readings,
    at: datetime,
    window: timedelta,
    *,
    tolerance: Tolerance,
    observed_gap: timedelta,
) -> Evidence:
    """Everything ``why`` weighs about ``at``, from what the store read around it."""
    runs = [run for item in readings.series for run in item.runs]
    return gather(
        at,
        window,
        series=readings.series,
        observations=readings.observations,
        upstream=readings.upstream,
        coverage=coverage_of(readings.alive, runs, at=at),
        tolerance=tolerance,
        observed_gap=observed_gap,
        pages=readings.pages,
    )


def timeline_events(
    readings: Readings, lo: datetime, hi: datetime, observed_gap: timedelta
) -> list[LocalWindow | UpstreamWindow]:
    """Local failure windows and upstream windows meeting ``[lo, hi]``, by start time."""
    local = [w for s in readings.series for w in check_windows(s)]
    imported = observed_windows(readings.observations, observed_gap, family)
    local += [w for w in imported if w.overlaps(lo, hi)]
    events: list[LocalWindow | UpstreamWindow] = [*local, *readings.upstream]
    # Upstream first on a tie: the declaration frames what follows it.
    events.sort(key=lambda e: (e.start, isinstance(e, LocalWindow), getattr(e, "name", "")))
    return events


def gather(
    at: datetime,
    window: timedelta,
    *,
    series: Iterable[Series],
    observations: Iterable[Observation],
    upstream: Iterable[UpstreamWindow],
    coverage: Coverage,
    tolerance: Tolerance,
    observed_gap: timedelta,
    pages: Iterable[Page] = (),
) -> Evidence:
    """Turn the store's rows around ``at`` into windows and per-check activity."""
    lo, hi = at - window, at + window
    series = list(series)
    local = [w for s in series for w in check_windows(s) if w.overlaps(lo, hi)]
    imported = observed_windows(observations, observed_gap, family)
    local += [w for w in imported if w.overlaps(lo, hi)]
    local.sort(key=lambda w: (w.start, w.name))
    return Evidence(
        at=at,
        lo=lo,
        hi=hi,
        local=tuple(local),
        activity=tuple(_activity(series, lo, hi)),
        upstream=tuple(upstream),
        coverage=coverage,
        tolerance=tolerance,
        pages=tuple(pages),
    )


def _activity(series: Sequence[Series], lo: datetime, hi: datetime) -> list[Activity]:
    merged: dict[str, tuple[CheckInfo, int, int, int, set[int]]] = {}
    for item in series:
        check, runs, passed, failed, statuses = merged.get(
            item.check.name, (item.check, 0, 0, 0, set())
        )
        for run in item.runs:
            if not lo <= run.started_at <= hi or run.skipped:
                continue
            runs += 1
            if run.ok:
                passed += 1
                if run.http_status is not None:
                    statuses.add(run.http_status)
            else:
                failed += 1
        merged[item.check.name] = (check, runs, passed, failed, statuses)
    return [Activity(c, r, p, f, frozenset(s)) for c, r, p, f, s in merged.values()]
