"""``monitor poll``: poll status sources once, now."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import click

from monitor.cli.app import App, json_option, pass_app
from monitor.cli.render import echo, echo_json
from monitor.times import isoformat_z

if TYPE_CHECKING:  # polling imports httpx and the store; only a poll needs them
    from monitor.polling.record import PollReport


@click.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@json_option
@pass_app
def poll(app: App, names: tuple[str, ...], as_json: bool) -> None:
    """Poll the named status sources (default: all enabled) once and record what changed.

    Prints one line per source. Exit status 1 if any poll failed; the
    failure and its reason are kept in the poll log either way. --json
    prints one object per source: `name`, `kind`, `ok`, `outcome`,
    `started_at`, `duration_ms`, `incidents_seen` and what changed, `error`
    (why it failed) and `notes`.

    \b
    Examples:
      monitor poll
      monitor poll claude github
      monitor poll --json | jq '.[] | select(.ok | not) | .error'
    """
    config = app.config
    for name in names:
        try:
            config.source(name)
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="'NAME'") from None
    from monitor.polling.poll import poll_sources

    reports = poll_sources(app.store(), config, names)
    if not reports:
        echo("no sources configured; add a [[source]] to " + str(config.path), err=True)
    if as_json:
        echo_json([poll_dict(r, config.source(r.source).kind) for r in reports])
    else:
        _print(reports)
    if any(r.outcome == "error" for r in reports):
        raise click.exceptions.Exit(1)


def _print(reports: list[PollReport]) -> None:
    width = max((len(r.source) for r in reports), default=0)
    for report in reports:
        echo(f"{report.source.ljust(width)}  {describe(report)}")
        for note in report.notes:
            echo(f"{' ' * width}  note: {note}", err=True)


class PollDict(TypedDict):
    name: str
    kind: str
    ok: bool
    outcome: str
    started_at: str | None
    duration_ms: int
    http_status: int | None
    incidents_seen: int | None
    new_incidents: int
    updated_incidents: int
    new_updates: int
    component_changes: int
    maintenance_changes: int
    error: str | None
    notes: list[str]
    consecutive_failures: int
    backoff_until: str | None


def poll_dict(report: PollReport, kind: str) -> PollDict:
    """One source's poll as ``--json`` has it: the line's facts, and the notes stderr gets.

    ``ok`` is whether the page was read (``not_modified`` is read too: it
    said nothing changed); ``error`` says why not. The counts are named as
    in the poll log; ``incidents_seen`` is null when no page was read.
    """
    stats = report.stats
    return {
        "name": report.source,
        "kind": kind,
        "ok": report.outcome in ("ok", "not_modified"),
        "outcome": report.outcome,
        "started_at": isoformat_z(report.started_at),
        "duration_ms": report.duration_ms,
        "http_status": report.http_status,
        "incidents_seen": report.incidents_seen,
        "new_incidents": stats.new_incidents,
        "updated_incidents": stats.updated_incidents,
        "new_updates": stats.new_updates,
        "component_changes": stats.component_changes,
        "maintenance_changes": stats.maintenance_changes,
        "error": report.error,
        "notes": list(report.notes),
        "consecutive_failures": report.consecutive_failures,
        "backoff_until": isoformat_z(report.backoff_until),
    }


def describe(report: PollReport) -> str:
    """One line: what changed, or why the poll failed."""
    if report.outcome == "error":
        return f"error: {report.error}"
    if report.outcome == "not_modified":
        return f"not modified ({report.duration_ms} ms)"
    stats = report.stats
    parts = [
        _count(stats.new_incidents, "new incident"),
        _count(stats.updated_incidents, "updated incident"),
        _count(stats.new_updates, "new update"),
        _count(stats.component_changes, "component change"),
        _count(stats.maintenance_changes, "maintenance change"),
    ]
    changed = ", ".join(p for p in parts if p) or "no changes"
    return f"ok: {changed} ({report.duration_ms} ms)"


def _count(n: int, noun: str) -> str:
    return "" if n == 0 else f"{n} {noun}{'' if n == 1 else 's'}"
