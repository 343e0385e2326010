"""Turn the planned story into per-check row overrides and the moments benchmarks query.

The writer emits a passing run for every check and tick unless an override
says otherwise; overrides are sparse (a few percent of the rows), so the
common path stays a dictionary miss.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from benchmarks.generate.catalog import CheckDef, checks
from benchmarks.generate.failures import (
    NETWORK_CLASS,
    SPORADIC_CLASSES,
    UPSTREAM_CLASSES,
    failed_variant,
    pick,
)
from benchmarks.generate.incidents import (
    IncidentPlan,
    MaintenancePlan,
    plan_incidents,
    plan_maintenances,
)
from benchmarks.generate.rows import Variant, ok_variant
from benchmarks.generate.scenario import Calendar, Span, downtimes, episodes, slots
from benchmarks.generate.timefmt import DAY

SPORADIC_RATE = 1.5e-4  # single failures per network-check run on a healthy day
POOL = 32  # variants per (check, failure class): rows repeat texts, not latencies
SLOW = 1.8  # latency factor of the passing runs inside an upstream incident's window
EPISODE_CLASS = {
    "stale_token": "auth_rejected",
    "credentials": "credentials_expired",
    "port": "port_unavailable",
}


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything decided before writing: the range, the checks and what happens when."""

    start: int
    end: int
    interval: int
    ticks: int
    checks: tuple[CheckDef, ...]
    downtime: tuple[Span, ...]
    episodes: tuple[Span, ...]
    incidents: tuple[IncidentPlan, ...]
    maintenances: tuple[MaintenancePlan, ...]
    seed: int

    def down(self) -> bytearray:
        """1 for each tick whose slot starts while monitoring was down (no row at all)."""
        flags = bytearray(self.ticks)
        for span in self.downtime:
            for k in slots(self.start, self.interval, span):
                if k < self.ticks:
                    flags[k] = 1
        return flags

    def slot(self, tick: int) -> int:
        return self.start + tick * self.interval


def make_plan(*, days: int, count: int, interval: int, seed: int, end: int) -> Plan:
    chosen = checks(count)
    start = end - days * DAY
    calendar = Calendar(start, end, random.Random(f"{seed}:calendar"))
    down = downtimes(calendar, days)
    incidents = plan_incidents(calendar, days, chosen)  # the clear one first: placed exclusively
    local = episodes(calendar, days, chosen)
    maintenances = plan_maintenances(calendar, days)
    return Plan(
        start,
        end,
        interval,
        days * DAY // interval,
        tuple(chosen),
        tuple(down),
        tuple(local),
        tuple(incidents),
        tuple(maintenances),
        seed,
    )


class Variants:
    """Small pools of failed and slow rows per check, so a year of failures costs little."""

    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.plan, self.rng = plan, rng
        self.pools: dict[tuple[int, str], list[Variant]] = {}

    def get(self, c: int, what: str) -> Variant:
        pool = self.pools.get((c, what))
        if pool is None:
            shape = self.plan.checks[c].shape
            if what == "slow":
                pool = [ok_variant(shape, self.rng, SLOW) for _ in range(POOL)]
            elif what == "skipped":
                detail = "skipped: ANTHROPIC_API_KEY is not set"
                pool = [((0.02, 1, 1, None, None, None, None, None, detail, "{}"), 0)]
            else:
                pool = [failed_variant(shape, what, self.rng) for _ in range(POOL)]
            self.pools[(c, what)] = pool
        return self.rng.choice(pool)


def overrides(plan: Plan) -> list[dict[int, Variant]]:
    """Per check: tick -> the row to write instead of a passing one.

    Later writes win: sporadic failures, then upstream incidents, then local
    episodes, the network outages last (nothing passes with the VPN down).
    """
    rng = random.Random(f"{plan.seed}:overrides")
    variants = Variants(plan, rng)
    index = {c.name: i for i, c in enumerate(plan.checks)}
    found: list[dict[int, Variant]] = [{} for _ in plan.checks]
    for c, check in enumerate(plan.checks):
        classes = SPORADIC_CLASSES[check.shape.kind]
        if not classes:
            continue
        rate = SPORADIC_RATE / (10 if check.shape.kind == "port" else 1)
        for _ in range(round(plan.ticks * rate)):
            found[c][rng.randrange(plan.ticks)] = variants.get(c, pick(rng, classes))
    for incident in plan.incidents:
        span = Span(*incident.window, "upstream")
        for name in incident.hurts:
            c = index[name]
            classes = UPSTREAM_CLASSES[plan.checks[c].shape.kind]
            for k in slots(plan.start, plan.interval, span):
                failing = rng.random() < incident.failing_share
                what = pick(rng, classes) if failing else "slow"
                if k < plan.ticks:
                    found[c][k] = variants.get(c, what)
    for episode in sorted(plan.episodes, key=lambda e: e.kind == "vpn"):
        for name in episode.checks:
            c = index[name]
            hit = _episode_class(episode.kind, plan.checks[c])
            if hit is None:
                continue
            for k in slots(plan.start, plan.interval, episode):
                if k < plan.ticks:
                    found[c][k] = variants.get(c, hit)
    return found


def _episode_class(kind: str, check: CheckDef) -> str | None:
    if kind == "vpn":
        return NETWORK_CLASS[check.shape.kind]
    if kind == "key_unset":
        return "skipped"
    return EPISODE_CLASS[kind]
