"""Which probes write into this database, whether each has a service running, what each ran.

A probe is known by its heartbeats (a ``monitor run`` ever started) or by
what it wrote over a span: check runs and polls, which ``monitor check`` and
``monitor poll`` write with no service at all. The span keeps the read
bounded: check runs and polls are read through their time indexes, never
scanned over all time, so a probe that ran no service and wrote nothing
in the span is not listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.store import runcodes
from monitor.store.checkruns import decode, latest_runs, ms_from, stored_runs
from monitor.store.heartbeats import Lease, LeaseState, latest_leases
from monitor.store.models import Check, CheckRun, Poll, Probe, Source
from monitor.store.runcodes import StoredRun

ProbeState = LeaseState | Literal["no service"]


@dataclass(frozen=True, slots=True)
class Activity:
    """One check a probe ran, or one source it polled, over the span."""

    name: str
    count: int
    last_at: datetime


@dataclass(frozen=True, slots=True)
class ProbeInfo:
    """A probe: its newest service run (None: it never ran one), and what it ran in the span."""

    probe: str
    lease: Lease | None
    checks: tuple[Activity, ...]
    sources: tuple[Activity, ...]

    def state(self, now: datetime) -> ProbeState:
        return "no service" if self.lease is None else self.lease.state(now)

    @property
    def check_names(self) -> frozenset[str]:
        return frozenset(a.name for a in self.checks)

    @property
    def last_active(self) -> datetime | None:
        """Its newest heartbeat, check run or poll."""
        times = [a.last_at for a in (*self.checks, *self.sources)]
        if self.lease is not None:
            times.append(self.lease.last_seen)
        return max(times, default=None)


def known_probes(session: Session, since: datetime, until: datetime) -> list[ProbeInfo]:
    """Every probe with a heartbeat, or a check run or poll in ``[since, until]``, by name."""
    leases = latest_leases(session)
    rows = session.execute(
        select(Probe.name, Check.name, func.count(), func.max(CheckRun.started_ms))
        .select_from(CheckRun)
        .join(Check, Check.id == CheckRun.check_id)
        .join(Probe, Probe.id == CheckRun.probe_id)
        .where(CheckRun.started_ms >= ms_from(since), CheckRun.started_ms <= runcodes.to_ms(until))
        .group_by(Probe.name, Check.name)
    )
    checks = _activity(
        (probe, name, count, runcodes.from_ms(last)) for probe, name, count, last in rows
    )
    sources = _activity(_polls(session, since, until))
    return [
        ProbeInfo(
            probe=name,
            lease=leases.get(name),
            checks=tuple(checks.get(name, ())),
            sources=tuple(sources.get(name, ())),
        )
        for name in sorted({*leases, *checks, *sources})
    ]


def _polls(session: Session, since: datetime, until: datetime) -> list[Any]:
    """(probe, source, polls, last) over the span, a source at a time.

    The poll log is never pruned and is indexed by (source, started_at):
    asked one source at a time, each is an index range, where a join lets
    the planner scan the whole log.
    """
    found: list[Any] = []
    for source_id, name in session.execute(select(Source.id, Source.name)):
        found += [
            (probe, name, count, last_at)
            for probe, count, last_at in session.execute(
                select(Poll.probe, func.count(), func.max(Poll.started_at))
                .where(
                    Poll.source_id == source_id,
                    Poll.started_at >= since,
                    Poll.started_at <= until,
                )
                .group_by(Poll.probe)
            )
        ]
    return found


def _activity(rows: Iterable[Any]) -> dict[str, list[Activity]]:
    """(probe, name, count, last) rows as each probe's activities, by name."""
    found: dict[str, list[Activity]] = defaultdict(list)
    for probe, name, count, last_at in rows:
        found[probe].append(Activity(name, int(count), last_at))
    return {probe: sorted(items, key=lambda a: a.name) for probe, items in found.items()}


def latest_runs_by_probe(
    session: Session, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], StoredRun | None]:
    """The newest run of each (check, probe) pair (None when that probe never ran that check).

    Each pair is one seek at the end of its (check, probe, time) key range;
    a pair that never ran is an empty range.
    """
    latest: dict[tuple[str, str], StoredRun | None] = {}
    for check, probe in pairs:
        row = session.execute(
            stored_runs()
            .where(Check.name == check, Probe.name == probe)
            .order_by(CheckRun.started_ms.desc())
            .limit(1)
        ).first()
        latest[(check, probe)] = None if row is None else decode(row)
    return latest


def latest_check_runs(
    session: Session, names: list[str], probes: list[ProbeInfo]
) -> list[tuple[str, str | None, StoredRun | None]]:
    """Each check's last run: (name, probe to name or None, run).

    With one probe (or none) the probe goes unnamed, as it always was. With
    several, each probe that ran the check in the span has its own last run;
    a check none ran in the span shows its last run anywhere, the probe named.
    """
    if len(probes) <= 1:
        return [(name, None, run) for name, run in latest_runs(session, names).items()]
    pairs = [(name, p.probe) for name in names for p in probes if name in p.check_names]
    by_pair = latest_runs_by_probe(session, pairs)
    ran_in_span = {name for name, _ in pairs}
    idle = latest_runs(session, [name for name in names if name not in ran_in_span])
    found: list[tuple[str, str | None, StoredRun | None]] = []
    for name in names:
        ran = [(probe, run) for (check, probe), run in by_pair.items() if check == name]
        found += [(name, probe, run) for probe, run in ran]
        if not ran:
            run = idle[name]
            found.append((name, run.probe if run else None, run))
    return found
