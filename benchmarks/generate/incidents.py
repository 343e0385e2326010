"""Upstream history: incidents with their updates, component transitions and maintenances.

Incidents are spread at random over the range; some (as in life, not all)
hurt the checks that depend on the page: their failure window starts a few
minutes before the vendor posts and usually ends before the vendor says
"resolved". The first Claude incident is a major API one placed on a free
stretch of the calendar, so every database has one clear "upstream" case.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass, replace

from benchmarks.generate.catalog import CLAUDE_API, SOURCES, CheckDef, SourceDef
from benchmarks.generate.scenario import MINUTE, YEAR_DAYS, Calendar
from benchmarks.generate.timefmt import HOUR

INCIDENTS_PER_YEAR = 2000
UPDATES_PER_INCIDENT = 5  # 10,000 updates a year
MAINTENANCES_PER_YEAR = 24  # per statuspage source
IMPACTS = ("none", "minor", "major", "critical")
IMPACT_WEIGHTS = (10, 55, 28, 7)
COMPONENT_STATUS = {"minor": "degraded_performance", "major": "partial_outage"}
FAILING_SHARE = {"none": 0.1, "minor": 0.25, "major": 0.6, "critical": 0.9, None: 0.4}
LOCAL_IMPACT = {"claude": 0.35, "github": 0.3, "cloudflare": 0.15}
BODIES = {
    "investigating": "We are currently investigating this issue.",
    "identified": "The issue has been identified and a fix is being implemented.",
    "update": "We are continuing to work on a fix for this issue.",
    "monitoring": "A fix has been implemented and we are monitoring the results.",
    "resolved": "This incident has been resolved.",
}
_ID = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    at: int
    status: str
    body: str
    external_id: str
    affected: tuple[tuple[str, str, str], ...]  # (component, old status, new status)


@dataclass(frozen=True, slots=True)
class IncidentPlan:
    source: SourceDef
    external_id: str
    title: str
    impact: str | None
    created: int
    resolved: int
    components: tuple[str, ...]
    updates: tuple[UpdatePlan, ...]
    hurts: tuple[str, ...] = ()  # checks that fail during ``window``
    window: tuple[int, int] = (0, 0)
    failing_share: float = 0.0

    @property
    def url(self) -> str:
        base = self.source.url.removesuffix("/history.atom")
        return f"{base}/incidents/{self.external_id}"


@dataclass(frozen=True, slots=True)
class MaintenancePlan:
    source: SourceDef
    external_id: str
    title: str
    start: int
    end: int
    announced: int
    components: tuple[str, ...]


def new_id(rng: random.Random) -> str:
    return "".join(rng.choices(_ID, k=12))


def component_status(impact: str | None) -> str | None:
    if impact in (None, "none"):
        return None
    return COMPONENT_STATUS.get(impact, "major_outage")


def plan_incidents(calendar: Calendar, days: int, chosen: list[CheckDef]) -> list[IncidentPlan]:
    """Every source's incidents, oldest first; updates total exactly five per incident."""
    rng = calendar.rng
    total = max(len(SOURCES), round(INCIDENTS_PER_YEAR * days / YEAR_DAYS))
    counts = [round(total * s.share) for s in SOURCES[:-1]]
    counts.append(total - sum(counts))
    per_incident = _updates_per_incident(rng, total)
    plans: list[IncidentPlan] = []
    for source, n in zip(SOURCES, counts, strict=True):
        for i in range(n):
            clear = source.name == "claude" and i == 0
            plans.append(_incident(calendar, source, per_incident.pop(), chosen, clear))
    return sorted(plans, key=lambda p: p.created)


def _updates_per_incident(rng: random.Random, total: int) -> list[int]:
    counts = [2] * total  # investigating ... resolved
    for i in rng.choices(range(total), k=(UPDATES_PER_INCIDENT - 2) * total):
        counts[i] += 1
    return counts


def _incident(
    calendar: Calendar, source: SourceDef, n_updates: int, chosen: list[CheckDef], clear: bool
) -> IncidentPlan:
    rng = calendar.rng
    length = int(min(16 * HOUR, max(15 * MINUTE, rng.lognormvariate(math.log(70 * MINUTE), 0.8))))
    created = calendar.place(length, exclusive=clear)
    impact: str | None = None
    if source.kind == "statuspage":
        impact = "major" if clear else rng.choices(IMPACTS, IMPACT_WEIGHTS)[0]
    components = _components(rng, source, clear)
    updates = _updates(rng, source, created, created + length, n_updates, components, impact)
    plan = IncidentPlan(
        source,
        new_id(rng),
        "Elevated error rates on the Claude API" if clear else rng.choice(source.titles),
        impact,
        created,
        updates[-1].at,
        components,
        updates,
    )
    hurts = tuple(
        c.name
        for c in chosen
        if c.source == source.name and (not c.components or set(c.components) & set(components))
    )
    if not hurts or not (clear or rng.random() < LOCAL_IMPACT[source.name]):
        return plan
    lead = rng.randrange(3 * MINUTE, 20 * MINUTE)
    early_end = int(length * rng.uniform(0.0, 0.3))
    window = (created - lead, max(created + 5 * MINUTE, plan.resolved - early_end))
    share = FAILING_SHARE[impact]
    return replace(plan, hurts=hurts, window=window, failing_share=share)


def _components(rng: random.Random, source: SourceDef, clear: bool) -> tuple[str, ...]:
    if clear:
        return (CLAUDE_API,)
    if source.kind == "feed" and rng.random() < 0.5:
        return ()  # feed entries name components only sometimes
    weights = [3 if i < 3 else 1 for i in range(len(source.components))]
    picked = {rng.choices(source.components, weights=weights)[0] for _ in range(rng.randint(1, 3))}
    return tuple(c for c in source.components if c in picked)


def _updates(
    rng: random.Random,
    source: SourceDef,
    start: int,
    end: int,
    n: int,
    components: tuple[str, ...],
    impact: str | None,
) -> tuple[UpdatePlan, ...]:
    """investigating, then identified/update/monitoring, then resolved; strictly later each."""
    times = sorted(rng.sample(range(start + 60, end), n - 2)) if n > 2 else []
    times = [start, *times, max(end, (times or [start])[-1] + 60)]
    middle = ["identified" if i < (n - 2) / 2 else "monitoring" for i in range(n - 2)]
    middle = [s if rng.random() > 0.2 else "update" for s in middle]
    statuses = ["investigating", *middle, "resolved"]
    bad = component_status(impact)
    named = source.kind == "statuspage" and bad is not None and rng.random() < 0.6
    updates = []
    for i, (at, status) in enumerate(zip(times, statuses, strict=True)):
        affected: tuple[tuple[str, str, str], ...] = ()
        if named and bad is not None and i in (0, n - 1):
            old, new = ("operational", bad) if i == 0 else (bad, "operational")
            affected = tuple((c, old, new) for c in components)
        updates.append(UpdatePlan(at, status, BODIES[status], new_id(rng), affected))
    return tuple(updates)


def plan_maintenances(calendar: Calendar, days: int) -> list[MaintenancePlan]:
    """Scheduled windows on the statuspage sources, announced a few days ahead."""
    rng, plans = calendar.rng, []
    for source in (s for s in SOURCES if s.kind == "statuspage"):
        for _ in range(round(MAINTENANCES_PER_YEAR * days / YEAR_DAYS)):
            length = rng.randrange(HOUR, 4 * HOUR)
            start = calendar.place(length, exclusive=False)
            announced = max(calendar.start, start - rng.randrange(1, 6) * 86_400)
            components = tuple(rng.sample(source.components, k=min(2, len(source.components))))
            title = f"Scheduled maintenance: {components[0]}"
            plans.append(
                MaintenancePlan(
                    source, new_id(rng), title, start, start + length, announced, components
                )
            )
    return sorted(plans, key=lambda m: m.start)
