"""Heartbeats: when a service for a probe was alive, and who holds a probe now (its lease).

A service beats every ``HEARTBEAT_EVERY``; its row's ``last_seen`` moves
with each beat. The row is its lease on the probe name: a row not stopped
whose ``last_seen`` is within ``LEASE`` of now belongs to a service still
running. ``LEASE`` is three beats, so one or two beats lost to a busy
database or a slow disk never hand the probe to another machine, and a
machine that vanished (killed, unplugged, asleep) frees its probe after at
most 90 s. The lease is computed from ``last_seen``, so no column holds it
and no migration was needed; probes' clocks must agree to well within it
(the ``clock`` check measures that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from monitor.store import Store
from monitor.store.locks import serialize_on
from monitor.store.models import Heartbeat

HEARTBEAT_EVERY = timedelta(seconds=30)
LEASE_BEATS = 3
LEASE = LEASE_BEATS * HEARTBEAT_EVERY

LeaseState = Literal["running", "stopped", "gone"]


@dataclass(frozen=True, slots=True)
class Lease:
    """One service run of a probe, as its heartbeat row has it."""

    probe: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    stopped_at: datetime | None

    @property
    def expires_at(self) -> datetime:
        """When the probe is free if no beat comes: ``LEASE`` after the last one."""
        return self.last_seen + LEASE

    def state(self, now: datetime) -> LeaseState:
        """``stopped`` (cleanly), ``running`` (lease current) or ``gone`` (killed or lost).

        A ``last_seen`` ahead of ``now`` (the holder's clock runs fast) counts
        as current: a lease is never taken on a clock's say-so alone.
        """
        if self.stopped_at is not None:
            return "stopped"
        return "running" if now < self.expires_at else "gone"


def _lease(row: Heartbeat) -> Lease:
    return Lease(row.probe, row.host, row.pid, row.started_at, row.last_seen, row.stopped_at)


def claim_probe(
    store: Store,
    *,
    probe: str,
    now: datetime,
    pid: int,
    host: str,
    pid_alive: Callable[[int], bool],
) -> int | Lease:
    """Start a service run of ``probe`` unless another holds it: the new row's id, or the holder.

    A holder is a row of ``probe`` that is not stopped, whose lease is
    current at ``now``, and that runs on another host, or on ``host`` in a
    process ``pid_alive`` says still exists (a crashed service on this
    machine never blocks its restart). The look and the insert are one
    write transaction serialized on the probe's name, so of two machines
    starting at once exactly one wins.
    """
    with store.write() as session, session.begin():
        serialize_on(session, f"probe:{probe}")
        rows = session.scalars(
            select(Heartbeat)
            .where(
                Heartbeat.probe == probe,
                Heartbeat.stopped_at.is_(None),
                Heartbeat.last_seen > now - LEASE,
            )
            .order_by(Heartbeat.last_seen.desc())
        )
        for row in rows:
            # Our own pid on our own host is a run of ours that died: a restarted
            # container is pid 1 again, and must not wait for its own lease.
            if row.host != host or (row.pid != pid and pid_alive(row.pid)):
                return _lease(row)
        heartbeat_id: int = session.execute(
            insert(Heartbeat).returning(Heartbeat.id),
            [{"probe": probe, "started_at": now, "last_seen": now, "pid": pid, "host": host}],
        ).scalar_one()
    return heartbeat_id


def start_heartbeat(store: Store, *, probe: str, now: datetime, pid: int, host: str) -> int:
    """Record a service starting, holder or not (``claim_probe`` is what a service calls)."""
    with store.write() as session, session.begin():
        heartbeat_id: int = session.execute(
            insert(Heartbeat).returning(Heartbeat.id),
            [{"probe": probe, "started_at": now, "last_seen": now, "pid": pid, "host": host}],
        ).scalar_one()
    return heartbeat_id


def beat(store: Store, heartbeat_id: int, now: datetime) -> Lease | None:
    """The service is still alive at ``now``; the run that took its probe over, if one did.

    A service that could not beat for longer than the lease (the machine
    slept, the database was away) may find that another machine has
    claimed the probe meanwhile: a newer run of the probe whose lease is
    current (one that has since stopped or vanished took nothing). Its own
    row is still renewed, so the record stays true; the caller decides.
    """
    with store.write() as session, session.begin():
        session.execute(update(Heartbeat).where(Heartbeat.id == heartbeat_id).values(last_seen=now))
        ours = select(Heartbeat.probe).where(Heartbeat.id == heartbeat_id).scalar_subquery()
        newer = session.scalars(
            select(Heartbeat)
            .where(
                Heartbeat.probe == ours,
                Heartbeat.id > heartbeat_id,
                Heartbeat.stopped_at.is_(None),
                Heartbeat.last_seen > now - LEASE,
            )
            .order_by(Heartbeat.id.desc())
            .limit(1)
        ).first()
    return None if newer is None else _lease(newer)


def stop_heartbeat(store: Store, heartbeat_id: int, now: datetime) -> None:
    """The service stopped cleanly at ``now`` (a killed one simply stops beating)."""
    with store.write() as session, session.begin():
        session.execute(
            update(Heartbeat)
            .where(Heartbeat.id == heartbeat_id)
            .values(last_seen=now, stopped_at=now)
        )


def latest_leases(session: Session) -> dict[str, Lease]:
    """Each probe's newest service run, by probe name.

    Heartbeats are kept forever (a cron ``--once`` adds one per run), so
    the newest per probe is picked in SQL, on the (probe, started_at) key.
    """
    newest = (
        select(Heartbeat.probe, func.max(Heartbeat.started_at).label("started_at"))
        .group_by(Heartbeat.probe)
        .subquery()
    )
    rows = session.scalars(
        select(Heartbeat)
        .join(
            newest,
            and_(Heartbeat.probe == newest.c.probe, Heartbeat.started_at == newest.c.started_at),
        )
        .order_by(Heartbeat.probe)
    )
    return {row.probe: _lease(row) for row in rows}
