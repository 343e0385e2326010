"""Atlassian Statuspage v2 JSON: incidents, scheduled maintenances, component health.

A Statuspage site answers at ``<page>/api/v2/incidents.json`` (the last 50
incidents), ``/scheduled-maintenances.json`` and ``/summary.json`` (current
component statuses plus what is open now). Each parser takes one payload's
bytes and returns a Snapshot; the poller merges them.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit, urlunsplit

from monitor.errors import ParseError
from monitor.sources.jsonpayload import Reader, load_json
from monitor.sources.records import (
    AffectedComponent,
    ComponentState,
    IncidentRecord,
    MaintenanceRecord,
    Snapshot,
    UpdateRecord,
    merge_component_states,
)

INCIDENTS_PATH = "/api/v2/incidents.json"
MAINTENANCES_PATH = "/api/v2/scheduled-maintenances.json"
SUMMARY_PATH = "/api/v2/summary.json"


def page_root(url: str) -> str:
    """Reduce a configured URL to the page root (users paste any of the API URLs)."""
    parts = urlsplit(url)
    path = parts.path
    marker = path.find("/api/v2")
    path = (path[:marker] if marker != -1 else path).rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def parse_incidents(payload: bytes) -> Snapshot:
    """Parse ``incidents.json``; entries with maintenance impact become maintenances."""
    doc = Reader(load_json(payload), "$")
    entries = doc.key("incidents").items()
    incidents: list[IncidentRecord] = []
    maintenances: list[MaintenanceRecord] = []
    for entry in entries:
        if _is_maintenance(entry):
            maintenances.append(_maintenance(entry))
        else:
            incidents.append(_incident(entry))
    return Snapshot(
        incidents=tuple(incidents), maintenances=tuple(maintenances), page_name=_page_name(doc)
    )


def parse_incident(payload: bytes) -> IncidentRecord:
    """Parse one incident: ``/api/v2/incidents/<id>.json`` or a bare incident object."""
    doc = Reader(load_json(payload), "$")
    if isinstance(doc.value, dict) and "incident" in doc.value:
        doc = doc.key("incident")
    return _incident(doc)


def parse_maintenances(payload: bytes) -> Snapshot:
    """Parse ``scheduled-maintenances.json``."""
    doc = Reader(load_json(payload), "$")
    entries = doc.key("scheduled_maintenances").items()
    return Snapshot(maintenances=tuple(_maintenance(e) for e in entries), page_name=_page_name(doc))


def parse_summary(payload: bytes) -> Snapshot:
    """Parse ``summary.json``: component health plus whatever is open right now.

    Group rows are skipped: their status is derived from their members, and
    counting them would report one outage twice.
    """
    doc = Reader(load_json(payload), "$")
    states = []
    for row in doc.key("components").items():
        if row.opt("group").value is True:
            continue
        states.append(ComponentState(row.key("name").text(), row.key("status").text()))
    snapshot = parse_open_items(doc)
    status = doc.opt("status")
    page_status = status.opt("description").value if status.value else None
    return Snapshot(
        incidents=snapshot.incidents,
        maintenances=snapshot.maintenances,
        components=merge_component_states(states),
        page_name=_page_name(doc),
        page_status=page_status if isinstance(page_status, str) else None,
    )


def parse_open_items(doc: Reader) -> Snapshot:
    """The unresolved incidents and scheduled maintenances a summary carries."""
    incidents = [_incident(e) for e in doc.opt("incidents").items(allow_null=True)]
    maintenances = [
        _maintenance(e) for e in doc.opt("scheduled_maintenances").items(allow_null=True)
    ]
    return Snapshot(incidents=tuple(incidents), maintenances=tuple(maintenances))


def _page_name(doc: Reader) -> str | None:
    page = doc.opt("page")
    if not isinstance(page.value, dict):
        return None
    name = page.value.get("name")
    return name if isinstance(name, str) else None


def _is_maintenance(entry: Reader) -> bool:
    if not isinstance(entry.value, dict):
        raise entry.fail("an object")
    return entry.value.get("impact") == "maintenance" or "scheduled_for" in entry.value


def _incident(entry: Reader) -> IncidentRecord:
    created_at = entry.key("created_at").time()
    return IncidentRecord(
        external_id=entry.key("id").text(),
        title=entry.key("name").text(),
        status=entry.key("status").text(),
        impact=entry.opt("impact").text_or_none(),
        created_at=created_at,
        started_at=entry.opt("started_at").time_or_none() or created_at,
        resolved_at=entry.opt("resolved_at").time_or_none(),
        url=entry.opt("shortlink").text_or_none(),
        components=_component_names(entry),
        updates=_updates(entry),
    )


def _maintenance(entry: Reader) -> MaintenanceRecord:
    return MaintenanceRecord(
        external_id=entry.key("id").text(),
        title=entry.key("name").text(),
        status=entry.key("status").text(),
        impact=entry.opt("impact").text_or_none() or "maintenance",
        scheduled_for=entry.opt("scheduled_for").time_or_none(),
        scheduled_until=entry.opt("scheduled_until").time_or_none(),
        started_at=entry.opt("started_at").time_or_none(),
        completed_at=entry.opt("resolved_at").time_or_none(),
        url=entry.opt("shortlink").text_or_none(),
        components=_component_names(entry),
        updates=_updates(entry),
    )


def _component_names(entry: Reader) -> tuple[str, ...]:
    names = [c.key("name").text() for c in entry.opt("components").items(allow_null=True)]
    return tuple(dict.fromkeys(names))


def _updates(entry: Reader) -> tuple[UpdateRecord, ...]:
    updates = []
    for row in entry.opt("incident_updates").items(allow_null=True):
        created = row.opt("created_at").time_or_none()
        created = created or row.opt("display_at").time_or_none()
        if created is None:
            raise ParseError(f"{row.path}: missing both 'created_at' and 'display_at'")
        status = row.key("status").text()
        body = row.opt("body").text_or_none() or ""
        update_id = row.opt("id").text_or_none() or _derived_id(status, created.isoformat(), body)
        affected = tuple(
            AffectedComponent(
                name=a.key("name").text(),
                old_status=a.opt("old_status").text_or_none(),
                new_status=a.opt("new_status").text_or_none(),
            )
            for a in row.opt("affected_components").items(allow_null=True)
        )
        updates.append(UpdateRecord(update_id, status, body, created, affected))
    return tuple(updates)


def _derived_id(*parts: str) -> str:
    """A stable id for an update the payload gives none for (trimmed mirrors do this)."""
    return "sha1:" + hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()[:16]
