"""status.io public status API v1 (``GET https://api.status.io/1.0/status/<page id>``).

One response carries component health, the incidents open right now and the
active/upcoming maintenance windows. status.io speaks in numeric codes; this
module maps them onto the shared vocabulary in records.py so a status.io page
reads like any other source. Pure: bytes in, Snapshot out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from monitor.errors import ParseError
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
from monitor.timeutil import isoformat_z, parse_iso

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

_Object = dict[str, object]


@dataclass(frozen=True, slots=True)
class _Message:
    """One posted message, parsed once so incidents and maintenance share the work."""

    at: datetime
    state: int | None
    status: int | None
    details: str


def parse(payload: bytes) -> Snapshot:
    """Turn a status.io v1 status response into a Snapshot; raise ParseError if it is not one."""
    root = _object(_load(payload), "top level")
    result = _object(root.get("result"), "result")
    components = [
        _component(item, path) for path, item in _objects(result, "status", "result", required=True)
    ]
    overall = _optional_object(result.get("status_overall"), "result.status_overall")
    incidents = [_incident(item, path) for path, item in _objects(result, "incidents", "result")]
    return Snapshot(
        incidents=tuple(incidents),
        maintenances=_maintenances(result.get("maintenance")),
        components=merge_component_states(components),
        page_status=_optional_string(overall, "status", "result.status_overall"),
    )


def _load(payload: bytes) -> object:
    """Decode JSON, telling the common failure modes apart so the poll log is useful."""
    text = payload.strip()
    if not text:
        raise ParseError("empty payload")
    if text.startswith(b"<"):
        if b"html" in text[:512].lower():
            raise ParseError("expected JSON, got an HTML page")
        raise ParseError("expected JSON, got markup starting with '<'")
    try:
        return json.loads(payload)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON (truncated?): {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ParseError(f"expected UTF-8 JSON, got undecodable bytes: {exc.reason}") from exc


def _component(item: _Object, path: str) -> ComponentState:
    """A component's health is the worst of its own code and its containers' (regions)."""
    codes = [_code(item, "status_code")]
    codes += [_code(c, "status_code") for _, c in _objects(item, "containers", path)]
    return ComponentState(_string(item, "name", path), worst_status(map(_health, codes)))


def _incident(item: _Object, path: str) -> IncidentRecord:
    """An open incident; the status API drops incidents once resolved, hence resolved_at None."""
    opened = _timestamp(item, "datetime_open", path)
    messages = _messages(item, path)
    names = _component_names(item, path)
    newest_state = messages[0].state if messages else None
    known = [m.status for m in messages if m.status is not None and m.status in _IMPACT]
    return IncidentRecord(
        external_id=_string(item, "_id", path),
        title=_string(item, "name", path),
        status=_state(newest_state),
        impact=_IMPACT[max(known)] if known else "none",
        created_at=opened,
        started_at=opened,
        resolved_at=None,
        url=None,
        components=names,
        updates=tuple(_update(m, names, _state(m.state)) for m in messages),
    )


def _maintenances(value: object) -> tuple[MaintenanceRecord, ...]:
    """Active windows are in progress, upcoming ones merely scheduled."""
    section = _optional_object(value, "result.maintenance")
    found = [
        _maintenance(item, path, "in_progress")
        for path, item in _objects(section, "active", "result.maintenance")
    ]
    found += [
        _maintenance(item, path, "scheduled")
        for path, item in _objects(section, "upcoming", "result.maintenance")
    ]
    return tuple(found)


def _maintenance(item: _Object, path: str, status: str) -> MaintenanceRecord:
    """One window; status.io does not document maintenance message states, so its
    updates carry the window's own status rather than a guessed word."""
    planned_start = _optional_timestamp(item, "datetime_planned_start", path)
    started = None
    if status == "in_progress":
        started = _optional_timestamp(item, "datetime_open", path) or planned_start
    key = "_id" if "_id" in item or "id" not in item else "id"  # some pages say "id"
    names = _component_names(item, path)
    return MaintenanceRecord(
        external_id=_string(item, key, path),
        title=_string(item, "name", path),
        status=status,
        impact="maintenance",
        scheduled_for=planned_start,
        scheduled_until=_optional_timestamp(item, "datetime_planned_end", path),
        started_at=started,
        completed_at=None,
        url=None,
        components=names,
        updates=tuple(_update(m, names, status) for m in _messages(item, path)),
    )


def _messages(item: _Object, path: str) -> list[_Message]:
    """Messages newest first (stable for equal times), whatever order the page sent."""
    parsed = [
        _Message(
            at=_timestamp(msg, "datetime", where),
            state=_code(msg, "state"),
            status=_code(msg, "status"),
            details=_optional_string(msg, "details", where) or "",
        )
        for where, msg in _objects(item, "messages", path)
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


def _component_names(item: _Object, path: str) -> tuple[str, ...]:
    """Names of components_affected, first mention order, without repeats."""
    names = [_string(c, "name", where) for where, c in _objects(item, "components_affected", path)]
    return tuple(dict.fromkeys(names))


def _health(code: int | None) -> str:
    return _COMPONENT_STATUS.get(code, UNKNOWN) if code is not None else UNKNOWN


def _state(code: int | None) -> str:
    return _INCIDENT_STATE.get(code, _DEFAULT_STATE) if code is not None else _DEFAULT_STATE


# --- shape checks: each failure names the JSON path so a reader can find it ---


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _object(value: object, path: str) -> _Object:
    if not isinstance(value, dict):
        raise ParseError(f"{path}: expected an object, got {_kind(value)}")
    return value


def _optional_object(value: object, path: str) -> _Object:
    """An object that may be absent: absent reads as empty."""
    return {} if value is None else _object(value, path)


def _objects(
    parent: _Object,
    key: str,
    path: str,
    *,
    required: bool = False,
) -> list[tuple[str, _Object]]:
    """The objects of list ``parent[key]`` with their paths; absent means empty unless required."""
    value = parent.get(key)
    where = f"{path}.{key}"
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{where}: expected a list, got {_kind(value)}")
    return [(f"{where}[{i}]", _object(item, f"{where}[{i}]")) for i, item in enumerate(value)]


def _string(item: _Object, key: str, path: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        got = "an empty string" if isinstance(value, str) else _kind(value)
        raise ParseError(f"{path}.{key}: expected a string, got {got}")
    return value


def _optional_string(item: _Object, key: str, path: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise ParseError(f"{path}.{key}: expected a string, got {_kind(value)}")
    return value


def _code(item: _Object, key: str) -> int | None:
    """A status code, or None: an odd code degrades to UNKNOWN instead of failing the poll."""
    value = item.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _timestamp(item: _Object, key: str, path: str) -> datetime:
    found = _optional_timestamp(item, key, path)
    if found is None:
        raise ParseError(f"{path}.{key}: expected an ISO 8601 timestamp, got null")
    return found


def _optional_timestamp(item: _Object, key: str, path: str) -> datetime | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError:
            pass
    raise ParseError(f"{path}.{key}: expected an ISO 8601 timestamp, got {value!r:.60}")
