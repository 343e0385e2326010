"""status.io public status API v1 (``GET https://api.status.io/1.0/status/<page id>``).

One response carries component health, the incidents open right now and the
active/upcoming maintenance windows. status.io speaks in numeric codes; this
module maps them onto the shared vocabulary in records.py so a status.io page
reads like any other source. Pure: bytes in, Snapshot out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from monitor.errors import ParseError
from monitor.sources.jsonpayload import Reader, load_json, shown
from monitor.sources.records import (
    DEGRADED_PERFORMANCE,
    MAJOR_OUTAGE,
    OPERATIONAL,
    PARTIAL_OUTAGE,
    UNDER_MAINTENANCE,
    UNKNOWN,
    AffectedComponent,
    ComponentState,
    IncidentRecord,
    MaintenanceRecord,
    Snapshot,
    UpdateRecord,
    merge_component_states,
    worst_status,
)
from monitor.times import isoformat_z

# status.io status codes (components, containers, message "status").
_COMPONENT_STATUS = {
    100: OPERATIONAL,
    200: UNDER_MAINTENANCE,
    300: DEGRADED_PERFORMANCE,
    400: PARTIAL_OUTAGE,
    500: MAJOR_OUTAGE,
    600: MAJOR_OUTAGE,  # Security Event: treat as the worst we can name.
}
# status.io incident message "state" codes.
_INCIDENT_STATE = {100: "investigating", 200: "identified", 300: "monitoring"}
_DEFAULT_STATE = "investigating"
# Worst message status code -> incident impact. Codes rise with severity,
# so the numerically largest known code is the worst one.
_IMPACT = {200: "maintenance", 300: "minor", 400: "major", 500: "critical", 600: "critical"}


@dataclass(frozen=True, slots=True)
class _Message:
    """One posted message, parsed once so incidents and maintenance share the work."""

    at: datetime
    state: int | None
    status: int | None
    details: str


def parse(payload: bytes) -> Snapshot:
    """Turn a status.io v1 status response into a Snapshot; raise ParseError if it is not one."""
    result = Reader(load_json(payload), "$").key("result")
    components = [state for item in result.key("status").items() for state in _component(item)]
    overall = result.opt("status_overall")
    page_status = None if overall.value is None else overall.opt("status").text_or_none()
    incidents = [_incident(item) for item in result.opt("incidents").items(allow_null=True)]
    return Snapshot(
        incidents=tuple(incidents),
        maintenances=_maintenances(result.opt("maintenance")),
        components=merge_component_states(components),
        page_status=page_status,
        # The status API shows only what is active: a missing incident ended.
        lists_all_open=True,
    )


def _component(item: Reader) -> list[ComponentState]:
    """The component, then one state per container (region) named "<component> / <container>".

    The component's own health is the worst of its own code and its containers'.
    """
    name = _name(item.key("name"))
    containers = [
        (_name(c.key("name")), _health(_code(c.opt("status_code"))))
        for c in item.opt("containers").items(allow_null=True)
    ]
    own = _health(_code(item.opt("status_code")))
    overall = worst_status([own, *(status for _, status in containers)])
    return [
        ComponentState(name, overall),
        *(ComponentState(f"{name} / {container}", status) for container, status in containers),
    ]


def _incident(item: Reader) -> IncidentRecord:
    """An open incident; the status API drops incidents once resolved, hence resolved_at None."""
    opened = item.key("datetime_open").time()
    messages = _messages(item)
    names = _component_names(item)
    newest_state = messages[0].state if messages else None
    known = [m.status for m in messages if m.status is not None and m.status in _IMPACT]
    return IncidentRecord(
        external_id=_name(item.key("_id")),
        title=_name(item.key("name")),
        status=_state(newest_state),
        impact=_IMPACT[max(known)] if known else "none",
        created_at=opened,
        started_at=opened,
        resolved_at=None,
        url=None,
        components=names,
        updates=tuple(_update(m, names, _state(m.state)) for m in messages),
    )


def _maintenances(section: Reader) -> tuple[MaintenanceRecord, ...]:
    """Active windows are in progress, upcoming ones merely scheduled; no section means none."""
    if section.value is None:
        return ()
    found = [_maintenance(i, "in_progress") for i in section.opt("active").items(allow_null=True)]
    found += [_maintenance(i, "scheduled") for i in section.opt("upcoming").items(allow_null=True)]
    return tuple(found)


def _maintenance(item: Reader, status: str) -> MaintenanceRecord:
    """One window; status.io does not document maintenance message states, so its
    updates carry the window's own status rather than a guessed word."""
    planned_start = item.opt("datetime_planned_start").time_or_none()
    started = None
    if status == "in_progress":
        started = item.opt("datetime_open").time_or_none() or planned_start
    # Some pages say "id"; item.value is known to be an object once opt() has succeeded.
    key = "_id" if "_id" in item.value or "id" not in item.value else "id"
    names = _component_names(item)
    return MaintenanceRecord(
        external_id=_name(item.key(key)),
        title=_name(item.key("name")),
        status=status,
        impact="maintenance",
        scheduled_for=planned_start,
        scheduled_until=item.opt("datetime_planned_end").time_or_none(),
        started_at=started,
        completed_at=None,
        url=None,
        components=names,
        updates=tuple(_update(m, names, status) for m in _messages(item)),
    )


def _messages(item: Reader) -> list[_Message]:
    """Messages newest first (stable for equal times), whatever order the page sent."""
    parsed = [
        _Message(
            at=msg.key("datetime").time(),
            state=_code(msg.opt("state")),
            status=_code(msg.opt("status")),
            details=msg.opt("details").text_or_none() or "",
        )
        for msg in item.opt("messages").items(allow_null=True)
    ]
    return sorted(parsed, key=lambda m: m.at, reverse=True)


def _update(message: _Message, names: tuple[str, ...], status: str) -> UpdateRecord:
    """Messages have no id of their own; hash what identifies one so re-polls dedupe."""
    key = f"{isoformat_z(message.at)}|{message.state}|{message.status}"
    new_status = None if message.status is None else _health(message.status)
    return UpdateRecord(
        external_id=hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:12],
        status=status,
        body=message.details,
        created_at=message.at,
        affected=tuple(AffectedComponent(name, None, new_status) for name in names),
    )


def _component_names(item: Reader) -> tuple[str, ...]:
    """Names of components_affected, first mention order, without repeats."""
    affected = item.opt("components_affected").items(allow_null=True)
    return tuple(dict.fromkeys(_name(c.key("name")) for c in affected))


def _health(code: int | None) -> str:
    return _COMPONENT_STATUS.get(code, UNKNOWN) if code is not None else UNKNOWN


def _state(code: int | None) -> str:
    return _INCIDENT_STATE.get(code, _DEFAULT_STATE) if code is not None else _DEFAULT_STATE


# --- what Reader does not offer ---------------------------------------------


def _name(field: Reader) -> str:
    """A name or id: a string with something in it, since a blank one identifies nothing."""
    text = field.text()
    if not text.strip():
        raise ParseError(f"{field.path}: expected a non-empty string, got {shown(text)}")
    return text


def _code(field: Reader) -> int | None:
    """A status code, or None: an odd code degrades to UNKNOWN instead of failing the poll."""
    value = field.value
    return value if isinstance(value, int) and not isinstance(value, bool) else None
