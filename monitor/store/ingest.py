"""Write what a poll learned, exactly once.

Applying the same Snapshot twice changes nothing the second time: rows are
found by the vendor's ids, fields are compared before they are written, new
updates are appended, and a component status row is added only when the
status differs from the last one recorded. Nothing is ever deleted here:
a vendor dropping an old incident from its 50-item window is not news.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

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


def apply_snapshot(
    session: Session,
    source: Source,
    snapshot: Snapshot,
    observed_at: datetime,
    component_allow: Sequence[str] | None = None,
) -> ApplyStats:
    """Upsert ``snapshot`` for ``source``; ``observed_at`` dates new component states."""
    if snapshot.page_name and source.page_name != snapshot.page_name:
        source.page_name = snapshot.page_name
    new, updated, new_updates = _apply_incidents(session, source, snapshot.incidents, observed_at)
    return ApplyStats(
        new_incidents=new,
        updated_incidents=updated,
        new_updates=new_updates,
        component_changes=_apply_components(
            session, source, snapshot.components, observed_at, component_allow
        ),
        maintenance_changes=_apply_maintenances(
            session, source, snapshot.maintenances, observed_at
        ),
    )


def _apply_incidents(
    session: Session, source: Source, records: Sequence[IncidentRecord], observed_at: datetime
) -> tuple[int, int, int]:
    records = _freshest(records)
    if not records:
        return 0, 0, 0
    existing = {
        row.external_id: row
        for row in session.scalars(
            select(Incident)
            .where(Incident.source_id == source.id)
            .where(Incident.external_id.in_([r.external_id for r in records]))
            .options(
                selectinload(Incident.updates).selectinload(IncidentUpdate.affected),
                selectinload(Incident.components),
            )
        )
    }
    new = updated = new_updates = 0
    for record in records:
        row = existing.get(record.external_id)
        if row is None:
            row = Incident(
                source_id=source.id,
                external_id=record.external_id,
                first_seen_at=observed_at,
                last_changed_at=observed_at,
                **_fields(record, _INCIDENT_FIELDS),
            )
            session.add(row)
            new += 1
            _add_components(row, record.components)
            new_updates += _add_updates(row, record.updates)
            continue
        changed = _assign_changed(row, record, _INCIDENT_FIELDS)
        changed |= _add_components(row, record.components)
        added = _add_updates(row, record.updates)
        new_updates += added
        if changed or added:
            row.last_changed_at = observed_at
            updated += 1
    return new, updated, new_updates


def _add_updates(incident: Incident, updates: Iterable[UpdateRecord]) -> int:
    known = {u.external_id for u in incident.updates}
    added = 0
    for update in updates:
        if update.external_id in known:
            continue
        known.add(update.external_id)
        affected = {a.name: a for a in update.affected}  # one row per component name
        incident.updates.append(
            IncidentUpdate(
                external_id=update.external_id,
                status=update.status,
                body=update.body,
                created_at=update.created_at,
                affected=[
                    UpdateComponent(
                        component=a.name, old_status=a.old_status, new_status=a.new_status
                    )
                    for a in affected.values()
                ],
            )
        )
        added += 1
    return added


def _add_components(incident: Incident, names: Iterable[str]) -> bool:
    known = {c.component for c in incident.components}
    missing = [name for name in dict.fromkeys(names) if name not in known]
    incident.components.extend(IncidentComponent(component=name) for name in missing)
    return bool(missing)


def _apply_maintenances(
    session: Session, source: Source, records: Sequence[MaintenanceRecord], observed_at: datetime
) -> int:
    records = _freshest(records)
    if not records:
        return 0
    existing = {
        row.external_id: row
        for row in session.scalars(
            select(Maintenance)
            .where(Maintenance.source_id == source.id)
            .where(Maintenance.external_id.in_([r.external_id for r in records]))
        )
    }
    changes = 0
    for record in records:
        row = existing.get(record.external_id)
        components = list(dict.fromkeys(record.components))
        if row is None:
            session.add(
                Maintenance(
                    source_id=source.id,
                    external_id=record.external_id,
                    components=components,
                    first_seen_at=observed_at,
                    last_changed_at=observed_at,
                    **_fields(record, _MAINTENANCE_FIELDS),
                )
            )
            changes += 1
            continue
        changed = _assign_changed(row, record, _MAINTENANCE_FIELDS)
        merged = list(dict.fromkeys([*row.components, *components]))
        if merged != row.components:
            row.components = merged
            changed = True
        if changed:
            row.last_changed_at = observed_at
            changes += 1
    return changes


def _apply_components(
    session: Session,
    source: Source,
    states: Sequence[ComponentState] | None,
    observed_at: datetime,
    allow: Sequence[str] | None,
) -> int:
    if states is None:
        return 0
    if allow is not None:
        wanted = set(allow)
        states = [s for s in states if s.name in wanted]
    latest = current_component_statuses(session, source.id)
    changes = 0
    for state in states:
        if latest.get(state.name) == state.status:
            continue
        session.add(
            ComponentStatus(
                source_id=source.id,
                component=state.name,
                status=state.status,
                observed_at=observed_at,
            )
        )
        changes += 1
    return changes


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


def _freshest(records: Sequence[Any]) -> list[Any]:
    """One record per id: summary.json and incidents.json list open incidents twice.

    Keep the copy with the most updates (then the latest update), so a
    slightly stale CDN copy of one endpoint cannot flip an incident back.
    """
    best: dict[str, Any] = {}
    for record in records:
        current = best.get(record.external_id)
        if current is None or _freshness(record) > _freshness(current):
            best[record.external_id] = record
    return list(best.values())


def _freshness(record: Any) -> tuple[int, str]:
    times = [u.created_at.isoformat() for u in record.updates]
    return len(record.updates), max(times, default="")


def _fields(record: object, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


def _assign_changed(row: object, record: object, names: Sequence[str]) -> bool:
    changed = False
    for name in names:
        value = getattr(record, name)
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
