"""Shapes for output: JSON documents, aligned text tables and lines; every print goes here.

Whatever a command prints passes through ``echo``, ``echo_table`` or
``echo_json``, and they escape outside text (incident titles, component
names, error texts, URLs, check details) with ``monitor.escape``: a
vendor's string is shown, never obeyed by the terminal. tests/test_outside_text.py
fails if a command calls ``click.echo`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

import click

from monitor.escape import for_terminal, for_terminal_json
from monitor.times import isoformat_z

if TYPE_CHECKING:  # the models import SQLAlchemy; the CLI entry point imports this module
    from monitor.store.models import Incident, Maintenance

# A cell holds one value, a line several. Past these lengths the value is cut
# with a marker: a runaway title must not bury the answer (``--json`` has it whole).
CELL_LIMIT = 500
LINE_LIMIT = 2000


class UpdateDict(TypedDict):
    status: str
    body: str
    at: str | None
    components: list[dict[str, str | None]]


class IncidentDict(TypedDict):
    source: str
    id: str
    title: str
    impact: str | None
    status: str
    started_at: str | None
    resolved_at: str | None
    created_at: str | None
    components: list[str]
    url: str | None
    updates: list[UpdateDict]


def incident_dict(source: str, incident: Incident) -> IncidentDict:
    """The ``monitor incidents --json`` object: vendor id, times in ISO 8601 UTC."""
    return {
        "source": source,
        "id": incident.external_id,
        "title": incident.title,
        "impact": incident.impact,
        "status": incident.status,
        "started_at": isoformat_z(incident.started_at or incident.created_at),
        "resolved_at": isoformat_z(incident.resolved_at),
        "created_at": isoformat_z(incident.created_at),
        "components": [c.component for c in incident.components],
        "url": incident.url,
        "updates": [
            {
                "status": u.status,
                "body": u.body,
                "at": isoformat_z(u.created_at),
                "components": [
                    {"name": a.component, "old_status": a.old_status, "new_status": a.new_status}
                    for a in u.affected
                ],
            }
            for u in incident.updates
        ],
    }


class MaintenanceDict(TypedDict):
    source: str
    id: str
    title: str
    status: str
    scheduled_for: str | None
    scheduled_until: str | None
    started_at: str | None
    completed_at: str | None
    components: list[str]
    url: str | None


def maintenance_dict(source: str, maintenance: Maintenance) -> MaintenanceDict:
    """The ``monitor maintenances --json`` object; times in ISO 8601 UTC."""
    return {
        "source": source,
        "id": maintenance.external_id,
        "title": maintenance.title,
        "status": maintenance.status,
        "scheduled_for": isoformat_z(maintenance.scheduled_for),
        "scheduled_until": isoformat_z(maintenance.scheduled_until),
        "started_at": isoformat_z(maintenance.started_at),
        "completed_at": isoformat_z(maintenance.completed_at),
        "components": list(maintenance.components),
        "url": maintenance.url,
    }


def echo_json(value: Any) -> None:
    """Print ``value`` as JSON: exact strings, with nothing in them a terminal would obey."""
    click.echo(for_terminal_json(json.dumps(value, indent=2, ensure_ascii=False)))


def echo(*lines: str, err: bool = False) -> None:
    """Print each line, escaped on its own: a newline inside one is shown as ``\\n``.

    Only the line breaks between ``lines`` reach the terminal, so outside
    text inside a line can never start a line of its own. No lines, no output.
    """
    if not lines:
        return
    click.echo("\n".join(for_terminal(line, limit=LINE_LIMIT) for line in lines), err=err)


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``table(headers, rows)``."""
    click.echo(table(headers, rows))


def short_time(value: datetime | None) -> str:
    """``2026-04-13 15:31Z``: minute precision reads better in a table."""
    if value is None:
        return "-"
    text = isoformat_z(value) or "-"
    return text[:16].replace("T", " ") + "Z"


def ago(value: datetime | None, now: datetime) -> str:
    """``3m ago``: how stale a value is, at a glance."""
    if value is None:
        return "never"
    seconds = int((now - value).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns; the last column is not padded so long titles wrap naturally.

    Every cell is escaped (and cut past ``CELL_LIMIT``) before the columns are
    measured, so the columns line up on what is shown.
    """
    shown = [[for_terminal(str(c), limit=CELL_LIMIT) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in shown) for i in range(len(headers))]
    lines = []
    for row in shown:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
