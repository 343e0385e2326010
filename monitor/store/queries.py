"""Reads and small writes the commands need, named for what they answer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from monitor.store.models import (
    ComponentStatus,
    HttpValidator,
    Incident,
    IncidentUpdate,
    Maintenance,
    Poll,
    Source,
)
from monitor.store.upsert import insert_on_conflict


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """The part of a configured source the store keeps.

    ``settings`` is whatever else decides what a poll records (the component
    allow-list, serialised); a change to it or to the URL voids stored ETags,
    or the page would answer 304 and the new setting would wait for the
    vendor's next edit.
    """

    name: str
    kind: str
    url: str
    settings: str = ""


@dataclass(frozen=True, slots=True)
class BackoffState:
    """A source's back-off: how many back-off-worthy failures in a row, and no poll before when."""

    failures: int = 0
    until: datetime | None = None


def stored_sources(
    session: Session, specs: Iterable[SourceSpec]
) -> dict[str, tuple[int, BackoffState]]:
    """Id and back-off of each source already stored exactly as configured, in one query.

    The poll's steady state reads this once and writes nothing else about
    the source unless its back-off changes.
    """
    wanted = {s.name: s for s in specs}
    rows = session.execute(
        select(
            Source.id,
            Source.name,
            Source.kind,
            Source.url,
            Source.settings,
            Source.consecutive_failures,
            Source.backoff_until,
        ).where(Source.name.in_(wanted))
    )
    return {
        row.name: (row.id, BackoffState(row.consecutive_failures, row.backoff_until))
        for row in rows
        if _same(wanted[row.name], row)
    }


def _same(spec: SourceSpec, row: Any) -> bool:
    return (spec.kind, spec.url, spec.settings) == (row.kind, row.url, row.settings)


def sync_sources(session: Session, specs: Iterable[SourceSpec], now: datetime) -> dict[str, int]:
    """Make sure every configured source has a row (kind and URL follow the config).

    A new source's row is created with ON CONFLICT DO NOTHING, then read back:
    when another probe creates it at the same moment, both use the one row.
    """
    specs = list(specs)
    names = [s.name for s in specs]
    known = set(session.scalars(select(Source.name).where(Source.name.in_(names))))
    missing = [
        {"name": s.name, "kind": s.kind, "url": s.url, "settings": s.settings, "created_at": now}
        for s in specs
        if s.name not in known
    ]
    if missing:
        session.execute(insert_on_conflict(session, Source, ["name"]), missing)
    rows = {row.name: row for row in session.scalars(select(Source).where(Source.name.in_(names)))}
    for spec in specs:
        row = rows[spec.name]
        if not _same(spec, row):
            # A changed source starts afresh: old ETags and an old back-off
            # describe what the previous URL or settings answered.
            row.kind, row.url, row.settings = spec.kind, spec.url, spec.settings
            row.consecutive_failures, row.backoff_until = 0, None
            session.execute(delete(HttpValidator).where(HttpValidator.source_id == row.id))
    session.flush()
    return {name: row.id for name, row in rows.items()}


def record_poll(session: Session, **values: object) -> None:
    """Append one row to the poll log."""
    session.execute(insert(Poll), [values])


def record_backoff(session: Session, source_id: int, failures: int, until: datetime | None) -> None:
    """Set a source's back-off; ``(0, None)`` clears it.

    A Core UPDATE that matches only when something changes: the steady
    state (a healthy source, nothing to clear) writes no page at all.
    """
    session.execute(
        update(Source)
        .where(
            Source.id == source_id,
            or_(
                Source.consecutive_failures != failures,
                Source.backoff_until.is_distinct_from(until),
            ),
        )
        .values(consecutive_failures=failures, backoff_until=until),
        execution_options={"synchronize_session": False},
    )


def load_validators(
    session: Session, source_ids: Sequence[int]
) -> dict[tuple[int, str], tuple[str | None, str | None]]:
    """ETag and Last-Modified per (source, url), for conditional requests."""
    rows = session.scalars(select(HttpValidator).where(HttpValidator.source_id.in_(source_ids)))
    return {(r.source_id, r.url): (r.etag, r.last_modified) for r in rows}


def save_validator(
    session: Session, source_id: int, url: str, etag: str | None, last_modified: str | None
) -> None:
    """Keep the validators a response carried; written only when they changed.

    A first one is an upsert: another probe polling the same page may store
    its own at the same moment, and either is as good.
    """
    row = session.get(HttpValidator, (source_id, url))
    if row is None:
        session.execute(
            insert_on_conflict(
                session, HttpValidator, ["source_id", "url"], update=["etag", "last_modified"]
            ),
            [{"source_id": source_id, "url": url, "etag": etag, "last_modified": last_modified}],
        )
    elif (row.etag, row.last_modified) != (etag, last_modified):
        row.etag, row.last_modified = etag, last_modified


def current_component_statuses(session: Session, source_id: int) -> dict[str, str]:
    """The latest recorded status of each component of a source."""
    newest = (
        select(
            ComponentStatus.component,
            func.max(ComponentStatus.observed_at).label("observed_at"),
        )
        .where(ComponentStatus.source_id == source_id)
        .group_by(ComponentStatus.component)
        .subquery()
    )
    rows = session.execute(
        select(ComponentStatus.component, ComponentStatus.status)
        .join(
            newest,
            (ComponentStatus.component == newest.c.component)
            & (ComponentStatus.observed_at == newest.c.observed_at),
        )
        .where(ComponentStatus.source_id == source_id)
    )
    return {str(component): str(status) for component, status in rows}


def list_incidents(
    session: Session,
    *,
    sources: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[tuple[str, Incident]]:
    """Incidents newest first, as (source name, incident) with updates and components loaded.

    ``since``/``until`` select incidents whose window overlaps the range, so
    an incident that began before ``since`` but was still open counts.
    """
    start = func.coalesce(Incident.started_at, Incident.created_at)
    query = (
        select(Source.name, Incident)
        .join(Source, Source.id == Incident.source_id)
        .options(
            selectinload(Incident.updates).selectinload(IncidentUpdate.affected),
            selectinload(Incident.components),
        )
        .order_by(start.desc(), Incident.id.desc())
    )
    if sources:
        query = query.where(Source.name.in_(sources))
    if until is not None:
        query = query.where(start <= until)
    if since is not None:
        query = query.where(or_(Incident.resolved_at.is_(None), Incident.resolved_at >= since))
    if limit is not None:
        query = query.limit(limit)
    return [(name, incident) for name, incident in session.execute(query)]


def list_maintenances(
    session: Session,
    *,
    sources: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[tuple[str, Maintenance]]:
    """Maintenances newest first; ``since``/``until`` select windows overlapping the range."""
    start = func.coalesce(Maintenance.started_at, Maintenance.scheduled_for)
    query = (
        select(Source.name, Maintenance)
        .join(Source, Source.id == Maintenance.source_id)
        .order_by(start.desc(), Maintenance.id.desc())
    )
    if sources:
        query = query.where(Source.name.in_(sources))
    if since is not None:
        end = func.coalesce(Maintenance.completed_at, Maintenance.scheduled_until)
        query = query.where(or_(end.is_(None), end >= since))
    if until is not None:
        query = query.where(or_(start.is_(None), start <= until))
    if limit is not None:
        query = query.limit(limit)
    return [(name, m) for name, m in session.execute(query)]


@dataclass(frozen=True, slots=True)
class SourceOverview:
    """What ``monitor sources`` shows for one source."""

    name: str
    kind: str
    url: str
    last_poll: Poll | None
    last_success_at: datetime | None
    page_status: str | None
    components: dict[str, str]
    open_incidents: int
    consecutive_failures: int = 0
    backoff_until: datetime | None = None


def source_overview(session: Session, names: Sequence[str]) -> list[SourceOverview]:
    """Per source: its last poll, last good poll, component health and open incidents."""
    rows = session.scalars(select(Source).where(Source.name.in_(names))).all()
    by_name = {row.name: row for row in rows}
    overviews = []
    for name in names:
        source = by_name.get(name)
        if source is None:
            overviews.append(SourceOverview(name, "", "", None, None, None, {}, 0))
            continue
        last_poll = session.scalars(
            select(Poll)
            .where(Poll.source_id == source.id)
            .order_by(Poll.started_at.desc())
            .limit(1)
        ).first()
        last_success_at = session.scalar(
            select(func.max(Poll.started_at)).where(
                and_(Poll.source_id == source.id, Poll.outcome != "error")
            )
        )
        open_incidents = session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(and_(Incident.source_id == source.id, Incident.resolved_at.is_(None)))
        )
        overviews.append(
            SourceOverview(
                name=source.name,
                kind=source.kind,
                url=source.url,
                last_poll=last_poll,
                last_success_at=last_success_at,
                page_status=source.page_status,
                components=current_component_statuses(session, source.id),
                open_incidents=int(open_incidents or 0),
                consecutive_failures=source.consecutive_failures,
                backoff_until=source.backoff_until,
            )
        )
    return overviews
