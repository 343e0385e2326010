"""The year's story, planned before any row is written, and the moments worth asking about.

Epoch seconds throughout, drawn from one ``random.Random`` per seed. What a
benchmark points at (the monitoring gaps, the first Claude incident, the
local episodes: a stale API key, a VPN drop...) is placed first, an hour
clear of everything else; the other incidents, restarts and maintenances
fall anywhere else. Some incidents hurt the checks depending on the page:
their failures start minutes before the vendor posts and may end before
"resolved".
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.generate import world
from benchmarks.generate.world import SOURCES, CheckDef, SourceDef

MINUTE, HOUR, DAY = 60, 3600, 86_400
VERSION = 4  # bump when the output changes: a cached file of another version is regenerated
KINDS = ("upstream_incident", "stale_token", "vpn", "quiet", "gap")
# kind: per year, shortest and longest (s), the check it hits ("net": every network one), class
EPISODES = {
    "stale_token": (6, 20 * MINUTE, 36 * HOUR, "api-authenticated", "auth_rejected"),
    "vpn": (24, 5 * MINUTE, 90 * MINUTE, "net", None),
    "credentials": (4, HOUR, 8 * HOUR, "claude-credentials", "credentials_expired"),
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
FAILING = {"none": 0.1, "minor": 0.25, "major": 0.6, "critical": 0.9, None: 0.4}
SPORADIC_RATE = 4e-4  # single failures per run of a network check on a healthy day


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str  # gap | restart | an EPISODES kind | maintenance
    checks: tuple[str, ...] = ()  # an episode's; a maintenance's components
    clean: bool = True  # monitoring stopped cleanly (the heartbeat has stopped_at)
    source: SourceDef | None = None
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
    calm: tuple[tuple[int, int], ...]  # the exclusive stretches, margins included

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
        low = start + HOUR
        for _ in range(400):
            at = rng.randrange(low, max(low, end - length - HOUR) + 1)
            if all(at + length <= a or at >= b for a, b in taken):
                break
        if exclusive:
            taken.append((at - HOUR, at + length + HOUR))
        return at

    def n(per_year: float, required: bool = False) -> int:
        return max(round(per_year * days / 365), required)

    down = [Span(at, at + s, "gap", clean=i % 2 == 0) for i in range(n(5, True))
            for s in [rng.randrange(2 * HOUR, max(2 * HOUR, min(12 * HOUR, days * DAY // 8)) + 1)]
            for at in [place(s)]]  # fmt: skip
    total = max(len(SOURCES), n(2000))
    sizes = [2] * total  # investigating ... resolved, and three more updates on average
    for i in rng.choices(range(total), k=3 * total):
        sizes[i] += 1
    incidents = [_incident(rng, place, SOURCES[0], sizes.pop(), chosen, clear=True)]
    names, episodes, net = {c.name for c in chosen}, [], [c.name for c in chosen if world.network_class(c)]  # fmt: skip
    for kind, (per_year, shortest, longest, which, _) in EPISODES.items():
        hit = tuple(net if which == "net" else {which} & names)
        for _ in range(n(per_year, kind in NOTES) if hit else 0):
            length = rng.randrange(shortest, max(shortest, min(longest, days * DAY // 12)) + 1)
            episodes.append(Span(at := place(length), at + length, kind, hit))
    for _ in range(n(20)):  # restarts: a minute or two
        down.append(Span(at := place(length := rng.randrange(30, 121), False), at + length, "restart"))  # fmt: skip
    counts = [round(total * s.share) for s in SOURCES]
    for source, k in zip(SOURCES, [counts[0] - 1, counts[1], total - sum(counts[:2])], strict=True):
        incidents += [_incident(rng, place, source, sizes.pop(), chosen) for _ in range(k)]
    maintenances = [
        Span(at, at + length, "maintenance", tuple(rng.sample(s.components, 2)), source=s,
             external_id=_id(rng), announced=max(start, at - rng.randrange(1, 6) * DAY))
        for s in SOURCES if s.kind == "statuspage" for _ in range(n(24))
        for length in [rng.randrange(HOUR, 4 * HOUR)] for at in [place(length, False)]
    ]  # fmt: skip
    by_start = sorted
    return Plan(start, end, interval, seed, tuple(chosen), tuple(by_start(down, key=_start)),
                tuple(sorted(episodes, key=_start)), tuple(sorted(incidents, key=_created)),
                tuple(sorted(maintenances, key=_start)), tuple(taken))  # fmt: skip


def _start(span: Span) -> int:
    return span.start


def _created(incident: Incident) -> int:
    return incident.created


def _id(rng: random.Random) -> str:
    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=12))


def _incident(
    rng: random.Random, place: Any, source: SourceDef, n: int, chosen: list[CheckDef],
    clear: bool = False,
) -> Incident:  # fmt: skip
    length = int(min(16 * HOUR, max(15 * MINUTE, rng.lognormvariate(math.log(70 * MINUTE), 0.8))))
    created = place(length, clear)
    impact = None
    if source.kind == "statuspage":
        impact = "major" if clear else rng.choices(list(IMPACTS), list(IMPACTS.values()))[0]
    parts: tuple[str, ...] = world.API
    if not clear and source.kind == "feed" and rng.random() < 0.5:
        parts = ()  # feed entries name components only sometimes
    elif not clear:
        picked = set(rng.choices(source.components, [3, 3, 3, 1, 1, 1, 1, 1, 1, 1][: len(source.components)], k=rng.randint(1, 3)))  # fmt: skip
        parts = tuple(c for c in source.components if c in picked)
    times = sorted(rng.sample(range(created + 60, created + length), n - 2))
    times = [created, *times, max(created + length, times[-1] + 60 if times else 0)]
    middle = ["identified" if i < (n - 2) / 2 else "monitoring" for i in range(n - 2)]
    statuses = ["investigating", *(s if rng.random() > 0.2 else "update" for s in middle), "resolved"]  # fmt: skip
    named = impact not in (None, "none") and source.kind == "statuspage" and rng.random() < 0.6
    updates = tuple((t, s, _id(rng), named and s in ("investigating", "resolved"))
                    for t, s in zip(times, statuses, strict=True))  # fmt: skip
    title = "Elevated error rates on the Claude API" if clear else rng.choice(source.titles)
    found = Incident(source, _id(rng), title, impact, created, times[-1], parts, updates)
    hurts = tuple(c.name for c in chosen if c.source == source.name
                  and (not c.components or set(c.components) & set(parts)))  # fmt: skip
    if not hurts or not (clear or rng.random() < HURT[source.name]):
        return found
    lead, early = rng.randrange(3 * MINUTE, 20 * MINUTE), int(length * rng.uniform(0.0, 0.3))
    window = (created - lead, max(created + 5 * MINUTE, found.resolved - early))
    return replace(found, hurts=hurts, window=window, failing=FAILING[impact])


def overrides(plan: Plan) -> list[dict[int, str]]:
    """Per check: tick -> what happened instead of a plain pass (a failure class, "slow" or
    "skipped"). Later writes win: sporadic failures, upstream incidents, local episodes,
    network outages last (nothing passes with the VPN down)."""
    rng, index = (
        random.Random(f"{plan.seed}:overrides"),
        {c.name: i for i, c in enumerate(plan.checks)},
    )
    found: list[dict[int, str]] = [{} for _ in plan.checks]

    def pick(weights: dict[str, int]) -> str:
        return rng.choices(list(weights), list(weights.values()))[0]

    for c, check in enumerate(plan.checks):
        weights = world.sporadic_classes(check)
        for k in (rng.randrange(plan.ticks) for _ in range(round(plan.ticks * SPORADIC_RATE) if weights else 0)):  # fmt: skip
            if not any(a <= plan.start + k * plan.interval < b for a, b in plan.calm):
                found[c][k] = pick(weights)
    for i in plan.incidents:
        for c in (index[name] for name in i.hurts):
            for k in plan.slots(*i.window):
                bad = rng.random() < i.failing
                found[c][k] = pick(world.upstream_classes(plan.checks[c])) if bad else "slow"
    for e in sorted(plan.episodes, key=lambda e: e.kind == "vpn"):
        for c in (index[name] for name in e.checks):
            hit = EPISODES[e.kind][4] or world.network_class(plan.checks[c]) or ""
            found[c].update(dict.fromkeys(plan.slots(e.start, e.end), hit))
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
    """Up to four moments of each kind, spread over the range; a failing one is where nothing
    else failed within half an hour and monitoring was up, so the cause planted is the one
    to find."""
    chosen: dict[str, list[Moment]] = {kind: [] for kind in KINDS}
    index, reach = {c.name: i for i, c in enumerate(plan.checks)}, HOUR // 2 // plan.interval

    def bad(c: int, k: int) -> bool:
        return found[c].get(k, "slow") not in ("slow", "skipped")

    def calm(k: int, hit: set[int], quiet: int) -> bool:
        near = range(k - quiet, k + quiet + 1)
        return not any(j in f for c, f in enumerate(found) if c not in hit for j in near)

    def failing(kind: str, a: int, b: int, names: tuple[str, ...], note: str) -> None:
        hit = {index[n] for n in names}
        ticks = [k for k in plan.slots(a, b) if any(bad(c, k) for c in hit)]
        if any(a - HOUR < s.end and s.start < b + HOUR for s in plan.down):
            return
        for k in sorted(ticks, key=lambda k: abs(k - ticks[len(ticks) // 2])):
            if calm(k, hit, reach):
                failed = tuple(n for n in names if bad(index[n], k))
                at = plan.start + k * plan.interval + plan.interval // 2  # just after tick k
                what = found[index[failed[0]]][k]
                chosen[kind].append(Moment(kind, iso(at), iso(a), iso(b), failed, what, note))
                return

    for i in (i for i in plan.incidents if i.hurts):
        note = f"{i.source.name} incident {i.external_id} {i.title!r} ({i.impact})"
        failing("upstream_incident", max(i.window[0], i.created), min(i.window[1], i.resolved), i.hurts, note)  # fmt: skip
    for e in (e for e in plan.episodes if e.kind in NOTES):
        failing(e.kind, e.start, e.end, e.checks, NOTES[e.kind])
    for s in (s for s in plan.down if s.kind == "gap"):
        note = "monitoring down: no check runs, no polls" + ("" if s.clean else " (it crashed)")
        chosen["gap"].append(Moment("gap", iso((s.start + s.end) // 2), iso(s.start), iso(s.end), note=note))  # fmt: skip
    busy = [(i.created, i.resolved) for i in plan.incidents] + [i.window for i in plan.incidents]
    busy += [(s.start, s.end) for s in (*plan.down, *plan.episodes, *plan.maintenances)]
    rng, quarter = random.Random(f"{plan.seed}:quiet"), max(1, (plan.ticks - 4 * reach) // 4)
    for q in range(4):  # an hour either side with every check passing, nothing open, watched
        for k in (2 * reach + rng.randrange(q * quarter, (q + 1) * quarter) for _ in range(2000)):
            at = plan.start + k * plan.interval
            if all(at + HOUR <= a or at - HOUR >= b for a, b in busy) and calm(k, set(), 2 * reach):
                chosen["quiet"].append(Moment("quiet", iso(at), iso(at - HOUR), iso(at + HOUR), note="all quiet"))  # fmt: skip
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
        found = self.interesting[kind]
        return found[len(found) // 2]

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
