"""The dashboard as data: what every chart and the page show, from the store's history. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from monitor.charts.answer import Answer
from monitor.charts.outages import (
    DEFAULT_INTERVAL,
    Outage,
    Services,
    folded_outages,
    raw_outages,
)
from monitor.charts.uptime import (
    Cell,
    HourRuns,
    LatencyPoint,
    Step,
    Summary,
    cells,
    coverage,
    floor_to,
    hourly,
    inferred_interval,
    latency,
    latency_step,
    summary,
    unwatched,
    uptime_step,
)
from monitor.correlate.classes import shown_role
from monitor.correlate.report import Report
from monitor.correlate.windows import Observation, UpstreamWindow
from monitor.rollups import RollupRow
from monitor.store.history import History

SeriesKey = tuple[int, str | None]  # check id, and probe when the range holds several


@dataclass(frozen=True, slots=True)
class Panel:
    """One check (on one probe, when several wrote): its strip, table row, latency and outages.

    ``name`` is the label shown: the check's name, or ``check @ probe``
    when the range holds runs of more than one probe.
    """

    name: str
    check: str
    probe: str | None  # None: the runs of every probe, when only one wrote
    role: str  # vendor, local or control: correlate.classes.shown_role
    source: str | None  # the status page it depends on, if configured
    cells: tuple[Cell, ...]
    summary: Summary
    latency: tuple[LatencyPoint, ...]
    outages: tuple[Outage, ...]


@dataclass(frozen=True, slots=True)
class Dashboard:
    lo: datetime
    hi: datetime
    generated_at: datetime
    step: Step  # of the uptime strip
    latency_step: Step
    panels: tuple[Panel, ...]
    upstream: tuple[UpstreamWindow, ...]
    sources: tuple[str, ...]
    observations: tuple[Observation, ...]
    alive: tuple[tuple[datetime, datetime], ...]
    unwatched: tuple[tuple[datetime, datetime], ...]
    # Declared versus seen over the same range, when the caller said what to compare
    # (``generate_for`` does, from the config); None leaves the chart and section out.
    report: Report | None = None
    # The answer right now and the status pages' reachability, for the top of the page
    # (``generate_for`` reads it with the config); None leaves it out.
    answer: Answer | None = None

    @property
    def empty(self) -> bool:
        return not (self.panels or self.upstream or self.observations)

    @property
    def incidents(self) -> list[UpstreamWindow]:
        """Incidents and maintenances of the range, newest first (components: lanes only)."""
        chosen = [w for w in self.upstream if w.kind in ("incident", "maintenance")]
        return sorted(chosen, key=lambda w: (w.start, w.source, w.title), reverse=True)


# The longest range drawn when none is asked for; a fresh database gets less (``default_since``).
DEFAULT_SPAN = timedelta(days=30)
LEAST_SPAN = timedelta(hours=1)


def default_since(first: datetime | None, until: datetime, most: timedelta) -> datetime:
    """Where a range no one chose starts: at the first thing recorded, at most ``most`` back.

    A first dashboard drawn an hour after install then shows that hour, not
    thirty days of "no data" around it. With nothing recorded before
    ``until`` the range is the ``LEAST_SPAN`` before it, to say so about.
    """
    if first is None or first >= until:
        return until - min(LEAST_SPAN, most)
    return max(first, until - most)


def range_start(since: datetime, until: datetime) -> datetime:
    """The dashboard starts at the bucket boundary at or before ``since``: whole hours or days."""
    return floor_to(since, uptime_step(since, until))


def build(
    history: History, generated_at: datetime, intervals: Mapping[str, timedelta] | None = None
) -> Dashboard:
    """Turn ``history`` into panels; ``intervals`` (check name -> interval) set each check's gap.

    When the range holds runs of more than one probe, every check gets a
    panel per probe that ran it, labelled ``check @ probe``: one check
    failing on one machine and passing on another is the answer to "me or
    them", which a merged strip would hide. A strip left unlabelled beside
    labelled ones would read as every probe, so then all are labelled.
    With one probe the panels and their names are as they always were.
    """
    lo, hi = history.lo, history.hi
    step, lat_step = uptime_step(lo, hi), latency_step(lo, hi)
    per_probe = len({row.probe for row in history.hours}) > 1
    rows: dict[SeriesKey, list[RollupRow]] = defaultdict(list)
    for row in history.hours:
        rows[(row.check_id, row.probe if per_probe else None)].append(row)
    per_series = {key: hourly(items) for key, items in rows.items()}
    interval = _intervals(history, per_series, intervals or {})

    services = Services.of(history.services)
    windows: dict[SeriesKey, list[Outage]] = defaultdict(list)
    for outage in [
        *raw_outages(history.failed, lo, hi, interval, services),
        *folded_outages(history.hours, history.folded, interval),
    ]:
        windows[(outage.check_id, outage.probe if per_probe else None)].append(outage)
    failed_at = {(run.check_id, run.probe, run.at) for run in history.failed}
    panels = []
    for (check_id, probe), hours in per_series.items():
        info = history.checks.get(check_id)
        if info is None:
            continue
        label = info.name if probe is None else f"{info.name} @ {probe}"
        role = shown_role(info.role, info.kind)
        found = sorted(windows.get((check_id, probe), []), key=lambda o: (o.start, o.probe))
        runs = rows[(check_id, probe)]
        ran_on = probe or runs[0].probe  # one probe wrote in the range, when not per probe
        covers = coverage(
            _hour_runs(runs, history, failed_at),
            interval(check_id),
            hi,
            partial(services.made_by, ran_on),
            partial(services.idle, ran_on),
        )
        monitored = sum((c.covered for c in covers.values()), start=timedelta(0))
        panels.append(
            Panel(
                name=label,
                check=info.name,
                probe=probe,
                role=role,
                source=info.source,
                cells=tuple(cells(hours, lo, hi, step, covers)),
                summary=summary(label, role, hours, found, monitored),
                latency=tuple(latency(hours, lat_step)),
                outages=tuple(found),
            )
        )
    panels.sort(key=lambda p: (p.role != "vendor", p.check, p.probe or ""))
    return Dashboard(
        lo=lo,
        hi=hi,
        generated_at=generated_at,
        step=step,
        latency_step=lat_step,
        panels=tuple(panels),
        upstream=history.upstream,
        sources=_sources(history),
        observations=history.observations,
        alive=history.alive,
        unwatched=tuple(unwatched(lo, hi, history.alive, {r.hour for r in history.hours})),
    )


def _intervals(
    history: History,
    per_series: Mapping[SeriesKey, dict[datetime, RollupRow]],
    intervals: Mapping[str, timedelta],
) -> Callable[[int], timedelta]:
    """Each check's interval: as configured, else the sparsest series' inferred one.

    Inferred per series, not over the probes combined: two probes running
    a check every minute make two runs a minute, which is not its interval.
    Only a check no longer configured is inferred, from the runs in range.
    """
    inferred: dict[int, timedelta] = {}
    for (check_id, _), hours in per_series.items():
        found = inferred_interval(hours)
        if found is not None:
            inferred[check_id] = max(found, inferred.get(check_id, found))

    def interval(check_id: int) -> timedelta:
        info = history.checks.get(check_id)
        configured = intervals.get(info.name) if info else None
        return configured or inferred.get(check_id) or DEFAULT_INTERVAL

    return interval


def _hour_runs(
    rows: Sequence[RollupRow], history: History, failed_at: Set[tuple[int, str, datetime]]
) -> list[HourRuns]:
    """One series' hours as ``coverage`` reads them: counts, and the first and last run if raw."""
    result = []
    for row in rows:
        first, last = history.edges.get(row.key, (None, None))
        last_ok = last is None or (row.check_id, row.probe, last) not in failed_at
        result.append(HourRuns(row.hour, row.timed, first, last, last_ok))
    return result


def _sources(history: History) -> tuple[str, ...]:
    """A lane per source stored, plus any source named only by a window."""
    names = list(history.sources)
    names += sorted({w.source for w in history.upstream} - set(names))
    return tuple(names)
