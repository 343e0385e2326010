"""Evidence: everything known around one moment, in the shape the rules read.

Built purely from what the store read (``Readings``: series of runs,
imported observations, upstream windows, heartbeat spans, the pages), so a
scenario test constructs it from literals; whether the monitor was watching
is worked out here (``coverage_of``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from monitor.correlate.agreement import Peers, peers_of
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
    """What one check did on one probe in the window asked about: runs passed and failed."""

    check: CheckInfo
    probe: str
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
    # The runs themselves, for what the other probes saw (``agreement``), and
    # each probe's host where a heartbeat named it.
    series: tuple[Series, ...] = ()
    hosts: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    # The probe asking (``why`` runs as the config's probe): imported failures,
    # which carry none, were seen by this machine. None: any probe.
    home: str | None = None
    # Each local window's matches, worked out once: every rule and aside asks.
    _matched: dict[LocalWindow, list[Match]] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False
    )
    _peers: dict[LocalWindow, Peers | None] = field(
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

    def peers(self, window: LocalWindow) -> Peers | None:
        """What the other probes saw of ``window``'s check meanwhile (``agreement``)."""
        if window not in self._peers:
            self._peers[window] = peers_of(window, self.series, self.hosts, (self.lo, self.hi))
        return self._peers[window]

    def private(self, window: LocalWindow) -> bool:
        """Another machine made the same call while ``window`` failed, and it worked."""
        found = self.peers(window)
        return found is not None and found.private

    def vendor(self) -> list[LocalWindow]:
        """Failures of calls to the vendor (checks with role vendor, and imported ones)."""
        return [
            w
            for w in self.local
            if w.role == "vendor" and w.check_kind not in LOCAL_KINDS and not _only(w, NOT_EVIDENCE)
        ]

    def control(self) -> list[LocalWindow]:
        return [w for w in self.local if w.role == "control" and not _only(w, NOT_EVIDENCE)]

    def control_passed(self, probes: Collection[str | None] | None = None) -> bool:
        """A control check ran in the window and none of its runs failed.

        Given ``probes`` (the ones whose failures are weighed), only their
        controls count: another machine's control says nothing of this one's
        path. An imported failure (no probe) is this machine's, any probe's.
        """
        controls = [a for a in self.activity if a.check.role == "control" and a.runs]
        failed = self.control()
        mine = self.machines(probes)
        if mine is None:
            return bool(controls) and not failed and any(a.passed for a in controls)
        # Every machine weighed must have its own control passing: one probe's
        # good path says nothing of another's.
        return all(
            any(a.passed for a in controls if a.probe == probe)
            and not any(w.probe == probe for w in failed)
            for probe in mine
        )

    def machines(self, probes: Collection[str | None] | None) -> frozenset[str] | None:
        """The probes named, an imported failure's standing for the one asking; None: any."""
        if probes is None:
            return None
        named = {self._asking() if p is None else p for p in probes}
        if None in named:
            return None
        return frozenset(p for p in named if p is not None)

    def same_machine(self, a: LocalWindow, b: LocalWindow) -> bool:
        """Whether two failures were seen from one machine (imported: the one asking)."""
        first, second = a.probe or self._asking(), b.probe or self._asking()
        return first is None or second is None or first == second

    def _asking(self) -> str | None:
        """The probe asking, if it ran checks here; else None (a renamed machine's
        imports stand for any probe, as with one probe they always did)."""
        if self.home is not None and any(s.probe == self.home for s in self.series):
            return self.home
        return None

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
        return list(
            dict.fromkeys(
                a.check.name
                for a in self.activity
                if a.check.role == "vendor" and a.passed and 401 in a.passed_statuses
            )
        )


def _only(window: LocalWindow, classes: frozenset[str]) -> bool:
    return bool(window.failure_classes) and set(window.failure_classes) <= classes


@dataclass(frozen=True, slots=True)
class Readings:
    """What the store read for a span: the rows, as windows' raw material, and nothing judged.

    ``alive`` are the service's heartbeat spans meeting the span; ``pages``
    the status pages as read for it (empty for a timeline); ``hosts`` which
    host each probe's service ran on, where a heartbeat said.
    """

    series: tuple[Series, ...] = ()
    observations: tuple[Observation, ...] = ()
    upstream: tuple[UpstreamWindow, ...] = ()
    alive: tuple[tuple[datetime, datetime], ...] = ()
    pages: tuple[Page, ...] = ()
    hosts: tuple[tuple[str, str], ...] = ()  # (probe, host) from the heartbeats
    # When checks ran where no heartbeat reached (cron): read for reports only.
    run_times: tuple[datetime, ...] = ()


def evidence_from(
    readings: Readings,
    at: datetime,
    window: timedelta,
    *,
    tolerance: Tolerance,
    observed_gap: timedelta,
    home: str | None = None,
) -> Evidence:
    """Everything ``why`` weighs about ``at``, from what the store read around it.

    ``home`` is the probe asking (imported failures were seen by it)."""
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
        hosts=dict(readings.hosts),
        home=home,
    )


def timeline_events(
    readings: Readings, lo: datetime, hi: datetime, observed_gap: timedelta
) -> list[LocalWindow | UpstreamWindow]:
    """Local failure windows and upstream windows meeting ``[lo, hi]``, by start time."""
    local = [w for s in readings.series for w in check_windows(s)]
    imported = observed_windows(readings.observations, observed_gap, family)
    local += [w for w in imported if w.overlaps(lo, hi)]
    events: list[LocalWindow | UpstreamWindow] = [*_labelled(local), *readings.upstream]
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
    hosts: Mapping[str, str] | None = None,
    home: str | None = None,
) -> Evidence:
    """Turn the store's rows around ``at`` into windows and per-check activity."""
    lo, hi = at - window, at + window
    series = list(series)
    local = [w for s in series for w in check_windows(s) if w.overlaps(lo, hi)]
    imported = observed_windows(observations, observed_gap, family)
    local += [w for w in imported if w.overlaps(lo, hi)]
    local.sort(key=lambda w: (w.start, w.name, w.probe or ""))
    return Evidence(
        at=at,
        lo=lo,
        hi=hi,
        local=tuple(_labelled(local, {s.probe for s in series})),
        activity=tuple(_activity(series, lo, hi)),
        upstream=tuple(upstream),
        coverage=coverage,
        tolerance=tolerance,
        pages=tuple(pages),
        series=tuple(series),
        hosts=dict(hosts or {}),
        home=home,
    )


def _labelled(windows: list[LocalWindow], probes: set[str] | None = None) -> list[LocalWindow]:
    """The windows, told to name their probe when more than one probe is in view.

    One probe needs no naming (every line would carry the same word); with
    several, "api failed" must say where.
    """
    seen = set(probes or ()) | {w.probe for w in windows if w.probe is not None}
    if len(seen) < 2:
        return windows
    return [replace(w, several_probes=True) if w.probe is not None else w for w in windows]


def _activity(series: Sequence[Series], lo: datetime, hi: datetime) -> list[Activity]:
    merged: dict[tuple[str, str], tuple[CheckInfo, int, int, int, set[int]]] = {}
    for item in series:
        key = (item.check.name, item.probe)
        check, runs, passed, failed, statuses = merged.get(key, (item.check, 0, 0, 0, set()))
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
        merged[key] = (check, runs, passed, failed, statuses)
    return [
        Activity(c, probe, r, p, f, frozenset(s)) for (_, probe), (c, r, p, f, s) in merged.items()
    ]
