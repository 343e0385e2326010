"""Heartbeats: when a service for a probe was alive, so "no data" is told from "all quiet"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from monitor.store import Store
from monitor.store.models import Heartbeat


def start_heartbeat(store: Store, *, probe: str, now: datetime, pid: int, host: str) -> int:
    """Record a service starting; its id is what later beats update."""
    with store.write() as session, session.begin():
        heartbeat_id: int = session.execute(
            insert(Heartbeat).returning(Heartbeat.id),
            [{"probe": probe, "started_at": now, "last_seen": now, "pid": pid, "host": host}],
        ).scalar_one()
    return heartbeat_id


def beat(store: Store, heartbeat_id: int, now: datetime) -> None:
    """The service is still alive at ``now``."""
    with store.write() as session, session.begin():
        session.execute(update(Heartbeat).where(Heartbeat.id == heartbeat_id).values(last_seen=now))


def stop_heartbeat(store: Store, heartbeat_id: int, now: datetime) -> None:
    """The service stopped cleanly at ``now`` (a killed one simply stops beating)."""
    with store.write() as session, session.begin():
        session.execute(
            update(Heartbeat)
            .where(Heartbeat.id == heartbeat_id)
            .values(last_seen=now, stopped_at=now)
        )


def last_heartbeat(session: Session, probe: str) -> Heartbeat | None:
    """The latest service run of ``probe``, or None if it never ran."""
    return session.scalars(
        select(Heartbeat)
        .where(Heartbeat.probe == probe)
        .order_by(Heartbeat.started_at.desc())
        .limit(1)
    ).first()
