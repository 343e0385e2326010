"""Shapes for output: JSON documents, aligned text tables and lines; every print goes here.

Whatever a command prints passes through ``echo``, ``echo_table`` or
``echo_json``, and they escape outside text (incident titles, component
names, error texts, URLs, check details) with ``monitor.escape``: a
vendor's string is shown, never obeyed by the terminal. tests/test_outside_text.py
fails if a command calls ``click.echo`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import click

from monitor.times import isoformat_z, short_time
from monitor.views.text import ago, json_text, lines_text, table

__all__ = ["ago", "echo", "echo_json", "echo_table", "short_time", "table"]

if TYPE_CHECKING:  # the models import SQLAlchemy; the CLI entry point imports this module
    from monitor.store.models import Incident, Maintenance


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
    """Print ``value`` as JSON (``json_text``)."""
    click.echo(json_text(value))


def echo(*lines: str, err: bool = False) -> None:
    """Print each line, escaped on its own (``lines_text``). No lines, no output."""
    if not lines:
        return
    click.echo(lines_text(*lines), err=err)


def echo_output(text: str) -> None:
    """Print text a view already rendered and escaped (``monitor.views``), as it is."""
    click.echo(text)


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``table(headers, rows)``."""
    click.echo(table(headers, rows))
