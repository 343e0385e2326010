"""``monitor poll``: poll status sources once, now."""

from __future__ import annotations

import click

from monitor.cli.app import App, pass_app
from monitor.cli.render import echo
from monitor.polling.poll import poll_sources
from monitor.polling.record import PollReport


@click.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@pass_app
def poll(app: App, names: tuple[str, ...]) -> None:
    """Poll the named status sources (default: all enabled) once and record what changed.

    Prints one line per source. Exit status 1 if any poll failed; the
    failure and its reason are kept in the poll log either way.

    \b
    Examples:
      monitor poll
      monitor poll claude github
    """
    config = app.config
    for name in names:
        try:
            config.source(name)
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="'NAME'") from None
    reports = poll_sources(app.store(), config, names)
    if not reports:
        echo("no sources configured; add a [[source]] to " + str(config.path), err=True)
    width = max((len(r.source) for r in reports), default=0)
    for report in reports:
        echo(f"{report.source.ljust(width)}  {describe(report)}")
        for note in report.notes:
            echo(f"{' ' * width}  note: {note}", err=True)
    if any(r.outcome == "error" for r in reports):
        raise click.exceptions.Exit(1)


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
