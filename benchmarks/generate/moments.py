"""Pick the moments benchmarks ask about: a few of each kind, spread over the range."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace

from benchmarks.generate.rows import Variant
from benchmarks.generate.scenario import NOTES, Span, slots
from benchmarks.generate.story import Plan
from benchmarks.generate.summary import KINDS, Moment
from benchmarks.generate.timefmt import HOUR, iso_z

PER_KIND = 4
QUIET_MARGIN = HOUR


def spread(found: Sequence[Moment], count: int = PER_KIND) -> list[Moment]:
    """Up to ``count`` of ``found`` (in time order), evenly spaced: early, middle, late."""
    if len(found) <= count:
        return list(found)
    return [found[round(i * (len(found) - 1) / (count - 1))] for i in range(count)]


def pick_moments(
    plan: Plan, found: list[dict[int, Variant]], raw_from: int
) -> dict[str, list[Moment]]:
    """Every kind in summary.KINDS, each with at least one moment."""
    chosen: dict[str, list[Moment]] = {kind: [] for kind in KINDS}
    for incident in plan.incidents:
        # While the vendor had it open and the checks were failing: the failures
        # start a little before the vendor posts, and may end before "resolved".
        start, end = (
            max(incident.window[0], incident.created),
            min(incident.window[1], incident.resolved),
        )
        span = Span(start, end, "upstream")
        if incident.hurts and start < end and _clear_of(span, plan.downtime):
            note = (
                f"{incident.source.name} incident {incident.external_id} "
                f"{incident.title!r} ({incident.impact or 'no impact given'})"
            )
            moment = _failing(plan, found, span, incident.hurts, "upstream_incident", note)
            if moment is not None:
                chosen["upstream_incident"].append(moment)
    for episode in plan.episodes:
        if episode.kind in chosen and _clear_of(episode, plan.downtime):
            note = NOTES[episode.kind]
            moment = _failing(plan, found, episode, episode.checks, episode.kind, note)
            if moment is not None:
                chosen[episode.kind].append(moment)
    for span in plan.downtime:
        if span.kind == "gap":
            middle = (span.start + span.end) // 2
            note = "monitoring down: no check runs, no polls" + (
                "" if span.clean else " (the service died: no stopped_at)"
            )
            chosen["gap"].append(
                Moment("gap", iso_z(middle), iso_z(span.start), iso_z(span.end), note=note)
            )
    chosen["quiet"] = _quiet(plan, found)
    for kind, moments in chosen.items():
        moments.sort(key=lambda m: m.at)
        chosen[kind] = [_with_raw(m, raw_from) for m in spread(moments)]
    return chosen


def _with_raw(moment: Moment, raw_from: int) -> Moment:
    raw = moment.at >= iso_z(raw_from) and moment.kind != "gap"
    return replace(moment, raw=raw)


def _clear_of(span: Span, others: Iterable[Span]) -> bool:
    return all(span.end <= o.start or span.start >= o.end for o in others)


def _failing(
    plan: Plan,
    found: list[dict[int, Variant]],
    span: Span,
    names: Sequence[str],
    kind: str,
    note: str,
) -> Moment | None:
    """The middle tick of ``span`` at which one of ``names`` failed, as a moment."""
    index = {c.name: i for i, c in enumerate(plan.checks)}
    hurt = [index[n] for n in names]
    ticks = [
        k
        for k in slots(plan.start, plan.interval, span)
        if any(_failed(found[c].get(k)) for c in hurt)
    ]
    if not ticks:
        return None
    k = ticks[len(ticks) // 2]
    failing = [c for c in hurt if _failed(found[c].get(k))]
    classes = [found[c][k][0][3] for c in failing]
    at = plan.slot(k) + plan.interval // 2  # just after the runs of tick k
    return Moment(
        kind,
        iso_z(at),
        iso_z(span.start),
        iso_z(span.end),
        tuple(plan.checks[c].name for c in failing),
        classes[0],
        note,
    )


def _failed(variant: Variant | None) -> bool:
    return variant is not None and not variant[0][1] and not variant[0][2]


def _quiet(plan: Plan, found: list[dict[int, Variant]]) -> list[Moment]:
    """Times with every check passing for an hour around them, no incident open, monitoring up."""
    rng = random.Random(f"{plan.seed}:quiet")
    busy = [Span(i.created, i.resolved, "incident") for i in plan.incidents]
    busy += [Span(*i.window, "upstream") for i in plan.incidents if i.hurts]
    busy += list(plan.downtime) + list(plan.episodes)
    margin = QUIET_MARGIN // plan.interval
    moments = []
    usable = plan.ticks - 2 * margin  # an hour of data either side
    quarter = max(1, usable // PER_KIND)
    for q in range(PER_KIND):
        for _ in range(2000):
            k = margin + rng.randrange(q * quarter, min(usable, (q + 1) * quarter))
            at = plan.slot(k)
            around = Span(at - QUIET_MARGIN, at + QUIET_MARGIN, "quiet")
            if not _clear_of(around, busy):
                continue
            if any(j in f for f in found for j in range(k - margin, k + margin + 1)):
                continue
            moments.append(
                Moment("quiet", iso_z(at), iso_z(around.start), iso_z(around.end), note="all quiet")
            )
            break
    return moments
