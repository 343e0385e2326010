"""The year's story, planned before any row is written, and the moments worth asking about.

Epoch seconds throughout, drawn from one ``random.Random`` per seed. What a
benchmark points at (the monitoring gaps, the first Claude incident, a stale
API key, a VPN drop...) is placed first, an hour clear of all else; the other
incidents, restarts and maintenances fall anywhere else. Some incidents hurt
the checks depending on the page: their failures start minutes before the
vendor posts and may end before "resolved".
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.generate import world
from benchmarks.generate.world import SOURCES, CheckDef, SourceDef

MINUTE, HOUR, DAY = 60, 3600, 86_400
VERSION = 4  # bump when the output changes: a cached file of another version is regenerated
KINDS = ("upstream_incident", "stale_token", "vpn", "quiet", "gap")
EPISODES = {  # kind: per year, shortest and longest (s), the check hit ("net": all), its class
    "stale_token": (6, 20 * MINUTE, 36 * HOUR, "api-authenticated", "auth_rejected"),
    "vpn": (24, 5 * MINUTE, 90 * MINUTE, "net", None),
    "port": (6, 10 * MINUTE, 3 * HOUR, "callback-port", "port_unavailable"),
    "key_unset": (2, 6 * HOUR, 72 * HOUR, "api-authenticated", "skipped"),
}
NOTES = {
    "stale_token": "api-authenticated answered 401 while every other check passed: the API key "
    "was revoked or rotated (nothing upstream)",
    "vpn": "the network was down (VPN or Wi-Fi): every network check failed, the control too",
}
IMPACTS = {"none": 10, "minor": 55, "major": 28, "critical": 7}  # weights
HURT = {"claude": 0.35, "github": 0.3, "cloudflare": 0.15}  # share of incidents our checks feel
STAGES = ("identified", "update", "monitoring")  # between "investigating" and "resolved"
FAILING = {"none": 0.1, "minor": 0.25, "major": 0.6, "critical": 0.9, None: 0.4}
SPORADIC_RATE = 4e-4  # single failures per run of a network check on a healthy day


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str  # gap | restart | an EPISODES kind | maintenance
    names: tuple[str, ...] = ()  # an episode's checks; a maintenance's components
    clean: bool = True  # monitoring stopped cleanly (the heartbeat has stopped_at)
    source: SourceDef | None = None  # a maintenance's, with its id and announcement
    external_id: str = ""
    announced: int = 0


@dataclass(frozen=True, slots=True)
class Incident:
    source: SourceDef
    external_id: str
    title: str
    impact: str | None
    created: int
    resolved: int
    components: tuple[str, ...]
    updates: tuple[tuple[int, str, str, bool], ...]  # at, status, id, names the components
    hurts: tuple[str, ...] = ()  # checks failing (a share of their runs) during ``window``
    window: tuple[int, int] = (0, 0)
    failing: float = 0.0


@dataclass(frozen=True, slots=True)
class Plan:
    start: int
    end: int
    interval: int
    seed: int
    checks: tuple[CheckDef, ...]
    down: tuple[Span, ...]  # monitoring gaps and restarts: no rows at all
    episodes: tuple[Span, ...]
    incidents: tuple[Incident, ...]
    maintenances: tuple[Span, ...]
    calm: tuple[tuple[int, int], ...]  # the exclusive stretches with their margins

    @property
    def ticks(self) -> int:
        return (self.end - self.start) // self.interval

    def slots(self, a: int, b: int) -> range:
        """Ticks whose slot (start + k * interval) lies in ``[a, b)``."""
        first, last = -(-(a - self.start) // self.interval), -(-(b - self.start) // self.interval)
        return range(max(first, 0), min(max(last, 0), self.ticks))


def make_plan(*, days: int, count: int, interval: int, seed: int, end: int) -> Plan:
    chosen, start, rng = world.checks(count), end - days * DAY, random.Random(f"{seed}:plan")
    taken: list[tuple[int, int]] = []

    def place(length: int, exclusive: bool = True) -> int:
        """A start for ``length`` s, clear of the exclusive stretches placed so far."""
        for _ in range(400):
            at = rng.randrange(start + HOUR, max(start + HOUR, end - length - HOUR) + 1)
            if all(at + length <= a or at >= b for a, b in taken):
                break
        taken.extend([(at - HOUR, at + length + HOUR)] if exclusive else [])
        return at

    def spans(per_year: float, shortest: int, longest: int, kind: str, **more: Any) -> list[Span]:
        n = round(per_year * days / 365) or int(kind in (*NOTES, "gap"))
        lengths = [rng.randrange(shortest, max(shortest, longest) + 1) for _ in range(n)]
        exclusive = kind not in ("restart", "maintenance")
        return [Span(at, at + s, kind, **more) for s in lengths for at in [place(s, exclusive)]]

    down = spans(5, 2 * HOUR, min(12 * HOUR, days * DAY // 8), "gap")  # the laptop was off
    down = [replace(s, clean=i % 2 == 0) for i, s in enumerate(down)]  # half of them crashed
    incidents = [_incident(rng, place, SOURCES[0], chosen, clear=True)]
    episodes, net = [], tuple(c.name for c in chosen if world.network_class(c))
    for kind, (per_year, shortest, longest, which, _) in EPISODES.items():
        hit = net if which == "net" else tuple(c.name for c in chosen if c.name == which)
        longest = min(longest, days * DAY // 12)
        episodes += spans(per_year, shortest, longest, kind, names=hit) if hit else []
    down += spans(20, 30, 120, "restart")  # a minute or two
    total = max(len(SOURCES), round(2000 * days / 365))
    for source in SOURCES:
        n = round(total * source.share) - (source is SOURCES[0])
        incidents += [_incident(rng, place, source, chosen) for _ in range(n)]
    maintenances = [
        replace(m, names=tuple(rng.sample(s.components, 2)), source=s, external_id=_id(rng),
                announced=max(start, m.start - rng.randrange(1, 6) * DAY))
        for s in SOURCES if s.kind == "statuspage" for m in spans(24, HOUR, 4 * HOUR, "maintenance")
    ]  # fmt: skip
    return Plan(start, end, interval, seed, tuple(chosen), _by_start(down), _by_start(episodes),
                tuple(sorted(incidents, key=lambda i: i.created)), _by_start(maintenances),
                tuple(taken))  # fmt: skip


def _by_start(spans: list[Span]) -> tuple[Span, ...]:
    return tuple(sorted(spans, key=lambda s: s.start))


def _id(rng: random.Random) -> str:
    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=12))


def _incident(
    rng: random.Random, place: Callable[[int, bool], int], source: SourceDef,
    chosen: list[CheckDef], clear: bool = False,
) -> Incident:  # fmt: skip
    """One incident with five updates on average; ``clear``: the major Claude API one."""
    length = int(min(16 * HOUR, max(15 * MINUTE, rng.lognormvariate(math.log(70 * MINUTE), 0.8))))
    created, n = place(length, clear), 2 + sum(rng.random() < 0.5 for _ in range(6))
    impact = None
    if source.kind == "statuspage":
        impact = "major" if clear else rng.choices(list(IMPACTS), list(IMPACTS.values()))[0]
    weights = [3] * 3 + [1] * (len(source.components) - 3)
    picked = set(rng.choices(source.components, weights, k=rng.randint(1, 3)))
    parts = tuple(c for c in source.components if c in picked)
    if clear or (source.kind == "feed" and rng.random() < 0.5):
        parts = (world.API,) if clear else ()  # feed entries name components only sometimes
    times = [created, *sorted(rng.sample(range(created + 60, created + length), n - 2))]
    times.append(max(created + length, times[-1] + 60))
    middle = sorted((rng.choice(STAGES) for _ in range(n - 2)), key=STAGES.index)
    named = impact not in (None, "none") and source.kind == "statuspage" and rng.random() < 0.6
    statuses = ("investigating", *middle, "resolved")
    updates = tuple((t, s, _id(rng), named and s in statuses[::n - 1])
                    for t, s in zip(times, statuses, strict=True))  # fmt: skip
    title = "Elevated error rates on the Claude API" if clear else rng.choice(source.titles)
    found = Incident(source, _id(rng), title, impact, created, updates[-1][0], parts, updates)
    # A lookup that fails is this side's trouble whatever the vendor's page says (a vendor
    # that answers has a name), so an incident hurts the calls to it, not its DNS checks.
    hurts = tuple(c.name for c in chosen if c.source == source.name and c.kind != "dns"
                  and (not c.components or set(c.components) & set(parts)))  # fmt: skip
    if not hurts or not (clear or rng.random() < HURT[source.name]):
        return found
    lead, early = rng.randrange(3 * MINUTE, 20 * MINUTE), int(length * rng.uniform(0.0, 0.3))
    window = (created - lead, max(created + 5 * MINUTE, found.resolved - early))
    return replace(found, hurts=hurts, window=window, failing=FAILING[impact])


def overrides(plan: Plan) -> list[dict[int, str]]:
    """Per check: tick -> what happened instead of a plain pass (a failure class, "slow" or
    "skipped"). Later ones win: sporadic failures (never near a planted stretch), upstream
    incidents, local episodes, network outages last (nothing passes with the VPN down)."""
    rng, index = (
        random.Random(f"{plan.seed}:overrides"),
        {c.name: i for i, c in enumerate(plan.checks)},
    )
    found: list[dict[int, str]] = [{} for _ in plan.checks]

    def pick(weights: dict[str, int]) -> str:
        return rng.choices(list(weights), list(weights.values()))[0]

    for c, check in enumerate(plan.checks):
        weights = world.SPORADIC.get(check.kind, world.HTTP_SPORADIC)
        for k in [rng.randrange(plan.ticks) for _ in range(round(plan.ticks * SPORADIC_RATE))]:
            if weights and not any(a <= plan.start + k * plan.interval < b for a, b in plan.calm):
                found[c][k] = pick(weights)
    for i in plan.incidents:
        for c in (index[name] for name in i.hurts):
            weights = world.UPSTREAM.get(plan.checks[c].kind, world.HTTP_UPSTREAM)
            for k in plan.slots(*i.window):
                found[c][k] = pick(weights) if rng.random() < i.failing else "slow"
    for e in sorted(plan.episodes, key=lambda e: e.kind == "vpn"):
        for c in (index[name] for name in e.names):
            hit = EPISODES[e.kind][4] or world.network_class(plan.checks[c])
            found[c].update(dict.fromkeys(plan.slots(e.start, e.end) if hit else (), hit or ""))
    return found


@dataclass(frozen=True, slots=True)
class Moment:
    """A time worth asking ``why`` about, with the stretch it belongs to.

    ``at`` lies just after a failed run of each of ``checks`` (none for quiet
    and gap moments); ``raw`` says whether raw check runs exist there.
    """

    kind: str
    at: str  # ISO 8601, Z
    start: str
    end: str
    checks: tuple[str, ...] = ()
    failure_class: str | None = None
    note: str = ""
    raw: bool = True


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def moments(plan: Plan, found: list[dict[int, str]], raw_from: int) -> dict[str, list[Moment]]:
    """Up to four moments of each kind, spread over the range. A failing one has nothing
    else failing within half an hour, and monitoring up: the planted cause is the one."""
    chosen: dict[str, list[Moment]] = {kind: [] for kind in KINDS}
    index, reach = {c.name: i for i, c in enumerate(plan.checks)}, HOUR // 2 // plan.interval

    def bad(c: int, k: int) -> bool:
        return found[c].get(k, "slow") not in ("slow", "skipped")

    def calm(k: int, hit: set[int], reach: int) -> bool:
        near = range(k - reach, k + reach + 1)
        return not any(j in f for c, f in enumerate(found) if c not in hit for j in near)

    def failing(kind: str, a: int, b: int, names: tuple[str, ...], note: str) -> None:
        hit = {index[n] for n in names}
        ticks = [k for k in plan.slots(a, b) if any(bad(c, k) for c in hit)]
        if any(a - HOUR < s.end and s.start < b + HOUR for s in plan.down):
            return
        for k in sorted(ticks, key=lambda k: abs(k - ticks[len(ticks) // 2])):
            if calm(k, hit, reach):
                failed = tuple(n for n in names if bad(index[n], k))
                at = iso(plan.start + k * plan.interval + plan.interval // 2)  # just after
                what = found[index[failed[0]]][k]
                chosen[kind].append(Moment(kind, at, iso(a), iso(b), failed, what, note))
                return

    for i in (i for i in plan.incidents if i.hurts):
        note = f"{i.source.name} incident {i.external_id} {i.title!r} ({i.impact})"
        a, b = max(i.window[0], i.created), min(i.window[1], i.resolved)
        failing("upstream_incident", a, b, i.hurts, note)
    for e in (e for e in plan.episodes if e.kind in NOTES):
        failing(e.kind, e.start, e.end, e.names, NOTES[e.kind])
    for s in (s for s in plan.down if s.kind == "gap"):
        note = "monitoring down: no check runs, no polls" + ("" if s.clean else " (it crashed)")
        at = iso((s.start + s.end) // 2)
        chosen["gap"].append(Moment("gap", at, iso(s.start), iso(s.end), note=note))
    busy = [(i.created, i.resolved) for i in plan.incidents] + [i.window for i in plan.incidents]
    busy += [(s.start, s.end) for s in (*plan.down, *plan.episodes, *plan.maintenances)]
    rng, quarter = random.Random(f"{plan.seed}:quiet"), max(1, (plan.ticks - 4 * reach) // 4)
    for q in range(4):  # an hour either side with every check passing, nothing open, watched
        for k in (2 * reach + rng.randrange(q * quarter, (q + 1) * quarter) for _ in range(2000)):
            t = plan.start + k * plan.interval
            if all(t + HOUR <= a or t - HOUR >= b for a, b in busy) and calm(k, set(), 2 * reach):
                at, start, end = iso(t), iso(t - HOUR), iso(t + HOUR)
                chosen["quiet"].append(Moment("quiet", at, start, end, note="all quiet"))
                break
    for kind, ms in chosen.items():
        ms.sort(key=lambda m: m.at)
        ms[:] = [ms[round(i * (len(ms) - 1) / 3)] for i in range(4)] if len(ms) > 4 else ms
        ms[:] = [replace(m, raw=m.at >= iso(raw_from) and kind != "gap") for m in ms]
    return chosen


@dataclass(frozen=True, slots=True)
class GeneratedSummary:
    """Parameters, row counts, size and the planted moments of one generated database."""

    path: str
    days: int
    checks: int
    interval_s: int
    seed: int
    start: str
    end: str
    raw_days: int | None
    raw_from: str
    counts: dict[str, int]
    bytes: int
    elapsed_s: float
    interesting: dict[str, list[Moment]] = field(default_factory=dict)
    version: int = VERSION

    def moment(self, kind: str) -> Moment:
        """The middle one of ``kind``."""
        return self.interesting[kind][len(self.interesting[kind]) // 2]

    def matches(self, **parameters: object) -> bool:
        """Made by this generator version with these parameters (``days=365, seed=1``...)?"""
        return self.version == VERSION and all(getattr(self, k) == v for k, v in parameters.items())

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @staticmethod
    def from_json(text: str) -> GeneratedSummary:
        data: dict[str, Any] = json.loads(text)
        found = {kind: [Moment(**{**m, "checks": tuple(m["checks"])}) for m in ms]
                 for kind, ms in data.pop("interesting").items()}  # fmt: skip
        return GeneratedSummary(**data, interesting=found)


def summary_path(db: Path) -> Path:
    return db.with_name(db.name + ".json")


def load_summary(db: Path) -> GeneratedSummary | None:
    """The summary written beside ``db``, or None (none there, or it does not parse)."""
    try:
        return GeneratedSummary.from_json(summary_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None
