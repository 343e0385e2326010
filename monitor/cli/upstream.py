"""``monitor incidents`` and ``monitor maintenances``: what upstream declared, newest first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import click

from monitor.cli.app import App, json_option, pass_app, time_bounds
from monitor.cli.render import (
    echo,
    echo_json,
    echo_table,
    incident_dict,
    maintenance_dict,
    short_time,
)
from monitor.times import TIME_HELP, UNTIL_HELP

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Selection:
    """The sources and time range a listing asks for, already validated."""

    sources: tuple[str, ...]
    since: datetime | None
    until: datetime | None
    limit: int | None

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for the store's list queries."""
        return {
            "sources": self.sources,
            "since": self.since,
            "until": self.until,
            "limit": self.limit,
        }


def selection_options(f: F) -> F:
    """``--source``, ``--since``, ``--until``, ``--tz``, ``--limit``: shared by every listing."""
    options = [
        click.option(
            "--source",
            "source_names",
            multiple=True,
            metavar="NAME",
            help="Only this source (repeatable).",
        ),
        click.option(
            "--since", metavar="T", help=f"Only what was still open at or after T: {TIME_HELP}."
        ),
        click.option(
            "--until", metavar="T", help=f"Only what started at or before T: {UNTIL_HELP}."
        ),
        click.option(
            "--tz",
            "tz_name",
            metavar="ZONE",
            help="Zone for times given without an offset (default: local).",
        ),
        click.option("--limit", type=click.IntRange(min=1), help="At most this many rows."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def selection(
    app: App,
    source_names: tuple[str, ...],
    since: str | None,
    until: str | None,
    tz_name: str | None,
    limit: int | None,
) -> Selection:
    """Validate the shared options; a bad value is a usage error naming its option."""
    since_at, until_at = time_bounds(since, until, tz_name)
    for name in source_names:
        try:
            app.config.source(name)
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="'--source'") from None
    return Selection(source_names, since_at, until_at, limit)


@click.command()
@selection_options
@json_option
@pass_app
def incidents(app: App, /, as_json: bool, **options: Any) -> None:
    """List recorded upstream incidents, newest first.

    --since and --until select incidents whose window overlaps the range, so
    one that began earlier but was still open counts. Times print in UTC.

    \b
    Examples:
      monitor incidents --since '2026-04-13' --until '2026-04-15'
      monitor incidents --source claude --since '24h ago'
      monitor incidents --json | jq '.[0].updates'
    """
    chosen = selection(app, **options)
    from monitor.store.queries import list_incidents

    with app.store().read() as session:
        found = list_incidents(session, **chosen.filters())
        if as_json:
            echo_json([incident_dict(source, incident) for source, incident in found])
            return
    rows = [
        [
            short_time(i.started_at or i.created_at),
            short_time(i.resolved_at) if i.resolved_at else "open",
            source,
            i.impact or "-",
            i.status,
            i.title,
        ]
        for source, i in found
    ]
    _print(["STARTED", "RESOLVED", "SOURCE", "IMPACT", "STATUS", "TITLE"], rows, "incidents")


@click.command()
@selection_options
@json_option
@pass_app
def maintenances(app: App, /, as_json: bool, **options: Any) -> None:
    """List recorded maintenance windows, newest first.

    A window is from its start (or scheduled start) to its completion (or
    scheduled end); one not yet announced as started shows its plan only.

    \b
    Examples:
      monitor maintenances --since '30d ago'
      monitor maintenances --source github --json
    """
    chosen = selection(app, **options)
    from monitor.store.queries import list_maintenances

    with app.store().read() as session:
        found = list_maintenances(session, **chosen.filters())
    if as_json:
        echo_json([maintenance_dict(source, m) for source, m in found])
        return
    rows = [
        [
            short_time(m.started_at or m.scheduled_for),
            short_time(m.completed_at or m.scheduled_until),
            source,
            m.status,
            ", ".join(m.components) or "-",
            m.title,
        ]
        for source, m in found
    ]
    _print(["FROM", "UNTIL", "SOURCE", "STATUS", "COMPONENTS", "TITLE"], rows, "maintenances")


def _print(headers: list[str], rows: list[list[str]], what: str) -> None:
    if not rows:
        echo(f"no {what} recorded for that selection", err=True)
        return
    echo_table(headers, rows)
