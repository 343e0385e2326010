"""Write what a poll learned, exactly once.

Applying the same Snapshot twice changes nothing the second time: rows are
found by the vendor's ids, fields are compared before they are written, new
updates are appended, and a component status row is added only when the
status differs from the last one recorded. Nothing is ever deleted here:
a vendor dropping an old incident from its 50-item window is not news.

New rows go in as bulk INSERTs (RETURNING the ids their children need), not
one ORM object at a time: a first poll of a 50-incident page is ~750 rows,
and the ORM's per-object bookkeeping, not SQLite, would be most of the cost.

Several probes may apply the same page at the same moment (one shared
PostgreSQL): every INSERT here is ON CONFLICT DO NOTHING on the row's
natural key, so the slower probe skips what the faster one wrote instead of
failing, reads back the ids it needs, and counts only what it added itself.
A field the other probe wrote differently is put right by the next poll.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Insert, select, update
from sqlalchemy.orm import Session

from monitor.sources.records import (
    ComponentState,
    IncidentRecord,
    MaintenanceRecord,
    Snapshot,
    UpdateRecord,
)
from monitor.store.models import (
    ComponentStatus,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Maintenance,
    Source,
    UpdateComponent,
)
from monitor.store.queries import current_component_statuses
from monitor.store.upsert import insert_on_conflict

_INCIDENT_FIELDS = ("title", "status", "impact", "created_at", "started_at", "resolved_at", "url")
_MAINTENANCE_FIELDS = (
    "title",
    "status",
    "impact",
    "scheduled_for",
    "scheduled_until",
    "started_at",
    "completed_at",
    "url",
)
_NO_SYNC = {"synchronize_session": False}
R = TypeVar("R", IncidentRecord, MaintenanceRecord)


@dataclass(frozen=True, slots=True)
class ApplyStats:
    """What one Snapshot changed; the poll log and ``monitor poll`` report it."""

    new_incidents: int = 0
    updated_incidents: int = 0
    new_updates: int = 0
    component_changes: int = 0
    maintenance_changes: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.new_incidents,
                self.updated_incidents,
                self.new_updates,
                self.component_changes,
                self.maintenance_changes,
            )
        )


def apply_snapshot(
    session: Session,
    source_id: int,
    snapshot: Snapshot,
    observed_at: datetime,
    component_allow: Sequence[str] | None = None,
) -> ApplyStats:
    """Upsert ``snapshot`` for ``source``; ``observed_at`` dates new rows and transitions."""
    _update_page(session, source_id, snapshot)
    if snapshot.lists_all_open:
        _close_unlisted(session, source_id, snapshot, observed_at)
    new, updated, new_updates = _apply_incidents(
        session, source_id, snapshot.incidents, observed_at
    )
    return ApplyStats(
        new_incidents=new,
        updated_incidents=updated,
        new_updates=new_updates,
        component_changes=_apply_components(
            session, source_id, snapshot.components, observed_at, component_allow
        ),
        maintenance_changes=_apply_maintenances(
            session, source_id, snapshot.maintenances, observed_at
        ),
    )


def _update_page(session: Session, source_id: int, snapshot: Snapshot) -> None:
    for column, value in (
        (Source.page_name, snapshot.page_name),
        (Source.page_status, snapshot.page_status),
    ):
        if value:
            session.execute(
                update(Source)
                .where(Source.id == source_id, column.is_distinct_from(value))
                .values({column: value}),
                execution_options=_NO_SYNC,
            )


CLOSED_BY_MONITOR = "monitor:no-longer-listed"


def _close_unlisted(
    session: Session, source_id: int, snapshot: Snapshot, observed_at: datetime
) -> None:
    """End what a lists-all-open payload stopped listing, and say the time is ours.

    The status API simply drops a resolved incident; the first poll without
    it is the best bound we have, and an explicit update records that the
    vendor never stated the time.
    """
    listed = [r.external_id for r in snapshot.incidents]
    closing = session.scalars(
        select(Incident.id).where(
            Incident.source_id == source_id,
            Incident.resolved_at.is_(None),
            Incident.external_id.not_in(listed),
        )
    ).all()
    if closing:
        session.execute(
            update(Incident)
            .where(Incident.id.in_(closing))
            .values(status="resolved", resolved_at=observed_at, last_changed_at=observed_at),
            execution_options=_NO_SYNC,
        )
        note = (
            "No longer listed as open by the status page; monitor marked it resolved "
            "at the first poll without it (the vendor stated no time)."
        )
        _insert_rows(
            session,
            IncidentUpdate,
            [
                {
                    "incident_id": incident_id,
                    "external_id": CLOSED_BY_MONITOR,
                    "status": "resolved",
                    "body": note,
                    "created_at": observed_at,
                }
                for incident_id in closing
            ],
        )
    session.execute(
        update(Maintenance)
        .where(
            Maintenance.source_id == source_id,
            Maintenance.completed_at.is_(None),
            Maintenance.external_id.not_in([m.external_id for m in snapshot.maintenances]),
        )
        .values(status="completed", completed_at=observed_at, last_changed_at=observed_at),
        execution_options=_NO_SYNC,
    )


def _apply_incidents(
    session: Session, source_id: int, records: Sequence[IncidentRecord], observed_at: datetime
) -> tuple[int, int, int]:
    records = _freshest(records)
    if not records:
        return 0, 0, 0
    existing = _existing(session, Incident, source_id, records, _INCIDENT_FIELDS)
    known_updates, known_components = _children(session, [row.id for row in existing.values()])

    written = {
        row.id
        for record in records
        if (row := existing.get(record.external_id)) is not None
        and not _is_stale_copy(record, known_updates[row.id])
        and _write_changes(session, Incident, row, record, _INCIDENT_FIELDS, observed_at)
    }
    fresh = [r for r in records if r.external_id not in existing]
    new_ids = _insert_new(session, Incident, source_id, fresh, _INCIDENT_FIELDS, observed_at)
    # Any not inserted, another probe inserted meanwhile, with their updates and components.
    raced = _ids_of(session, Incident, source_id, [r.external_id for r in fresh], skip=new_ids)
    if raced:
        raced_updates, raced_components = _children(session, list(raced.values()))
        known_updates.update(raced_updates)
        known_components.update(raced_components)
    ids = {row.external_id: row.id for row in existing.values()} | new_ids | raced

    components = [
        {"incident_id": ids[r.external_id], "component": name}
        for r in records
        for name in _unseen(r.components, known_components[ids[r.external_id]])
    ]
    pending: list[tuple[int, UpdateRecord]] = [
        (ids[r.external_id], u)
        for r in records
        for u in _unseen_updates(r.updates, known_updates[ids[r.external_id]])
    ]
    _insert_rows(session, IncidentComponent, components)
    added_updates = _insert_updates(session, pending)

    # Incidents that only grew (a new update or component) are changed too.
    grown = {c["incident_id"] for c in components} | {incident_id for incident_id, _ in pending}
    grown -= set(new_ids.values()) | set(raced.values()) | written
    if grown:
        session.execute(
            update(Incident).where(Incident.id.in_(grown)).values(last_changed_at=observed_at),
            execution_options=_NO_SYNC,
        )
    return len(new_ids), len(written | grown), added_updates


def _insert_updates(session: Session, pending: list[tuple[int, UpdateRecord]]) -> int:
    """Insert new updates with the components each names; return how many were added.

    An update another probe inserted meanwhile is skipped with its components,
    which that probe wrote in the same transaction.
    """
    if not pending:
        return 0
    returned = session.execute(
        _insert(session, IncidentUpdate).returning(
            IncidentUpdate.incident_id, IncidentUpdate.external_id, IncidentUpdate.id
        ),
        [
            {
                "incident_id": incident_id,
                "external_id": u.external_id,
                "status": u.status,
                "body": u.body,
                "created_at": u.created_at,
            }
            for incident_id, u in pending
        ],
    )
    update_ids = {
        (incident_id, external_id): row_id for incident_id, external_id, row_id in returned
    }
    _insert_rows(
        session,
        UpdateComponent,
        [
            {
                "update_id": update_id,
                "component": a.name,
                "old_status": a.old_status,
                "new_status": a.new_status,
            }
            for incident_id, u in pending
            if (incident_id, u.external_id) in update_ids
            # One row per component name: the last mention in an update wins.
            for a in {a.name: a for a in u.affected}.values()
            for update_id in (update_ids[incident_id, u.external_id],)
        ],
    )
    return len(update_ids)


def _apply_maintenances(
    session: Session, source_id: int, records: Sequence[MaintenanceRecord], observed_at: datetime
) -> int:
    records = _freshest(records)
    if not records:
        return 0
    fields = (*_MAINTENANCE_FIELDS, "components")
    existing = _existing(session, Maintenance, source_id, records, fields)
    changes = 0
    for record in records:
        row = existing.get(record.external_id)
        if row is None:
            continue
        merged = list(dict.fromkeys([*row.components, *record.components]))
        changes += _write_changes(
            session,
            Maintenance,
            row,
            record,
            _MAINTENANCE_FIELDS,
            observed_at,
            extra={"components": merged} if merged != row.components else {},
        )
    fresh = [r for r in records if r.external_id not in existing]
    added = _insert_new(session, Maintenance, source_id, fresh, _MAINTENANCE_FIELDS, observed_at)
    return changes + len(added)


def _apply_components(
    session: Session,
    source_id: int,
    states: Sequence[ComponentState] | None,
    observed_at: datetime,
    allow: Sequence[str] | None,
) -> int:
    if states is None:
        return 0
    if allow is not None:
        wanted = set(allow)
        states = [s for s in states if s.name in wanted]
    latest = current_component_statuses(session, source_id)
    rows = [
        {
            "source_id": source_id,
            "component": s.name,
            "status": s.status,
            "observed_at": observed_at,
        }
        for s in states
        if latest.get(s.name) != s.status
    ]
    _insert_rows(session, ComponentStatus, rows)
    return len(rows)


def _existing(
    session: Session,
    model: type[Incident] | type[Maintenance],
    source_id: int,
    records: Sequence[IncidentRecord] | Sequence[MaintenanceRecord],
    fields: Sequence[str],
) -> dict[str, Any]:
    """Rows already stored for these vendor ids, as plain rows (no ORM objects)."""
    columns = [getattr(model, name) for name in ("id", "external_id", *fields)]
    query = select(*columns).where(
        model.source_id == source_id,
        model.external_id.in_([r.external_id for r in records]),
    )
    return {row.external_id: row for row in session.execute(query)}


def _insert_new(
    session: Session,
    model: type[Incident] | type[Maintenance],
    source_id: int,
    records: Sequence[Any],
    fields: Sequence[str],
    observed_at: datetime,
) -> dict[str, int]:
    """Insert ``records`` as new rows; return their ids by vendor id."""
    if not records:
        return {}
    rows = [
        {
            "source_id": source_id,
            "external_id": r.external_id,
            "first_seen_at": observed_at,
            "last_changed_at": observed_at,
            **{name: getattr(r, name) for name in fields},
            **({"components": list(dict.fromkeys(r.components))} if model is Maintenance else {}),
        }
        for r in records
    ]
    # RETURNING the natural key (not relying on row order) lets SQLAlchemy
    # send one multi-row INSERT instead of a statement per row.
    result = session.execute(_insert(session, model).returning(model.external_id, model.id), rows)
    return {str(external_id): int(row_id) for external_id, row_id in result}


def _ids_of(
    session: Session,
    model: type[Incident] | type[Maintenance],
    source_id: int,
    external_ids: Iterable[str],
    *,
    skip: Container[str],
) -> dict[str, int]:
    """Ids by vendor id of rows not in ``skip``: those another probe inserted meanwhile."""
    wanted = [external_id for external_id in external_ids if external_id not in skip]
    if not wanted:
        return {}
    query = select(model.external_id, model.id).where(
        model.source_id == source_id, model.external_id.in_(wanted)
    )
    return {str(external_id): int(row_id) for external_id, row_id in session.execute(query)}


def _write_changes(
    session: Session,
    model: type[Incident] | type[Maintenance],
    row: Any,
    record: Any,
    fields: Sequence[str],
    observed_at: datetime,
    extra: dict[str, Any] | None = None,
) -> bool:
    """UPDATE the fields of ``row`` that ``record`` changes; False when nothing did."""
    values = {n: getattr(record, n) for n in fields if getattr(row, n) != getattr(record, n)}
    values.update(extra or {})
    if not values:
        return False
    session.execute(
        update(model).where(model.id == row.id).values(**values, last_changed_at=observed_at),
        execution_options=_NO_SYNC,
    )
    return True


def _children(
    session: Session, incident_ids: Sequence[int]
) -> tuple[defaultdict[int, set[str]], defaultdict[int, set[str]]]:
    """The update ids and component names already stored per incident."""
    return (
        _grouped(session, IncidentUpdate.incident_id, IncidentUpdate.external_id, incident_ids),
        _grouped(session, IncidentComponent.incident_id, IncidentComponent.component, incident_ids),
    )


def _grouped(
    session: Session, key: Any, value: Any, ids: Sequence[int]
) -> defaultdict[int, set[str]]:
    """``{parent id: {child key, ...}}`` for the given parents, in one query."""
    grouped: defaultdict[int, set[str]] = defaultdict(set)
    if ids:
        for parent, child in session.execute(select(key, value).where(key.in_(ids))):
            grouped[parent].add(child)
    return grouped


_NATURAL_KEYS: dict[type[Any], tuple[str, ...]] = {
    Incident: ("source_id", "external_id"),
    Maintenance: ("source_id", "external_id"),
    IncidentUpdate: ("incident_id", "external_id"),
    UpdateComponent: ("update_id", "component"),
    IncidentComponent: ("incident_id", "component"),
    ComponentStatus: ("source_id", "component", "observed_at"),
}


def _insert(session: Session, model: type[Any]) -> Insert:
    """INSERT that skips a row another probe has just written under the same natural key."""
    return insert_on_conflict(session, model, _NATURAL_KEYS[model])


def _insert_rows(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(_insert(session, model), rows)


def _is_stale_copy(record: IncidentRecord, known_updates: set[str]) -> bool:
    """An older copy of an incident we know better: it must not roll our row back.

    A CDN edge can serve a minutes-old ``incidents.json`` after a fresh one;
    a copy with fewer updates than stored and none we lack is that copy (it
    would otherwise reopen a resolved incident).
    """
    ids = {u.external_id for u in record.updates}
    return len(ids) < len(known_updates) and ids <= known_updates


def _unseen(names: Iterable[str], known: set[str]) -> list[str]:
    fresh = [n for n in dict.fromkeys(names) if n not in known]
    known.update(fresh)
    return fresh


def _unseen_updates(updates: Iterable[UpdateRecord], known: set[str]) -> list[UpdateRecord]:
    fresh = []
    for u in updates:
        if u.external_id not in known:
            known.add(u.external_id)
            fresh.append(u)
    return fresh


def _freshest(records: Sequence[R]) -> list[R]:
    """One record per id: summary.json and incidents.json list open incidents twice.

    Keep the copy with the most updates (then the latest update), so a
    slightly stale CDN copy of one endpoint cannot flip an incident back.
    """
    best: dict[str, R] = {}
    for record in records:
        current = best.get(record.external_id)
        if current is None or _freshness(record) > _freshness(current):
            best[record.external_id] = record
    return list(best.values())


def _freshness(record: IncidentRecord | MaintenanceRecord) -> tuple[int, str]:
    times = [u.created_at.isoformat() for u in record.updates]
    return len(record.updates), max(times, default="")
