"""The dashboard as data: what every chart and the page show, from the store's history. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.charts.outages import Outage, folded_outages, gap_for, raw_outages
from monitor.charts.uptime import (
    Cell,
    LatencyPoint,
    Step,
    Summary,
    cells,
    floor_to,
    hourly,
    inferred_interval,
    latency,
    latency_step,
    summary,
    unwatched,
    uptime_step,
)
from monitor.correlate.windows import Observation, UpstreamWindow
from monitor.rollups import RollupRow
from monitor.store.history import History


@dataclass(frozen=True, slots=True)
class Panel:
    """One check: its uptime strip, table row, latency and failure windows."""

    name: str
    role: str
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

    @property
    def empty(self) -> bool:
        return not (self.panels or self.upstream or self.observations)

    @property
    def incidents(self) -> list[UpstreamWindow]:
        """Incidents and maintenances of the range, newest first (components: lanes only)."""
        chosen = [w for w in self.upstream if w.kind in ("incident", "maintenance")]
        return sorted(chosen, key=lambda w: (w.start, w.source, w.title), reverse=True)


def range_start(since: datetime, until: datetime) -> datetime:
    """The dashboard starts at the bucket boundary at or before ``since``: whole hours or days."""
    return floor_to(since, uptime_step(since, until))


def build(
    history: History, generated_at: datetime, intervals: Mapping[str, timedelta] | None = None
) -> Dashboard:
    """Turn ``history`` into panels; ``intervals`` (check name -> interval) set each check's gap."""
    lo, hi = history.lo, history.hi
    step, lat_step = uptime_step(lo, hi), latency_step(lo, hi)
    rows: dict[int, list[RollupRow]] = defaultdict(list)
    for row in history.hours:
        rows[row.check_id].append(row)
    per_check = {check_id: hourly(items) for check_id, items in rows.items()}
    known = dict(intervals or {})
    names = {check_id: info.name for check_id, info in history.checks.items()}

    def gap(check_id: int) -> timedelta:
        name = names.get(check_id, "")
        return gap_for(known.get(name) or inferred_interval(per_check.get(check_id, {})))

    windows: dict[int, list[Outage]] = defaultdict(list)
    for outage in [
        *raw_outages(history.failed, lo, hi, gap),
        *folded_outages(history.hours, history.folded),
    ]:
        windows[outage.check_id].append(outage)
    panels = []
    for check_id, hours in per_check.items():
        info = history.checks.get(check_id)
        if info is None:
            continue
        found = sorted(windows.get(check_id, []), key=lambda o: (o.start, o.probe))
        panels.append(
            Panel(
                name=info.name,
                role=info.role,
                source=info.source,
                cells=tuple(cells(hours, lo, hi, step)),
                summary=summary(info.name, info.role, hours, found),
                latency=tuple(latency(hours, lat_step)),
                outages=tuple(found),
            )
        )
    panels.sort(key=lambda p: (p.role != "vendor", p.name))
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


def _sources(history: History) -> tuple[str, ...]:
    """A lane per source stored, plus any source named only by a window."""
    names = list(history.sources)
    names += sorted({w.source for w in history.upstream} - set(names))
    return tuple(names)
