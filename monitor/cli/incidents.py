"""``monitor incidents``: what upstream declared, newest first."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from monitor.cli.app import App, json_option, pass_app
from monitor.cli.render import echo_json, incident_dict, short_time, table
from monitor.store.queries import list_incidents
from monitor.timeparse import parse_time, zone


@click.command()
@click.option(
    "--source", "source_names", multiple=True, metavar="NAME", help="Only this source (repeatable)."
)
@click.option(
    "--since", metavar="T", help="Only incidents still open at or after T, e.g. '7d ago'."
)
@click.option("--until", metavar="T", help="Only incidents that started at or before T.")
@click.option(
    "--tz",
    "tz_name",
    metavar="ZONE",
    help="Zone for times given without an offset (default: local).",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many incidents.")
@json_option
@pass_app
def incidents(
    app: App,
    source_names: tuple[str, ...],
    since: str | None,
    until: str | None,
    tz_name: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List recorded upstream incidents, newest first.

    --since and --until select incidents whose window overlaps the range, so
    one that began earlier but was still open counts. Times print in UTC.

    \b
    Examples:
      monitor incidents --since '2026-04-13' --until '2026-04-15'
      monitor incidents --source claude --since '24h ago'
      monitor incidents --json | jq '.[0].updates'
    """
    now = datetime.now(UTC)
    try:
        tz = zone(tz_name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tz") from None
    bounds = {}
    for hint, text in (("--since", since), ("--until", until)):
        if text is not None:
            try:
                bounds[hint] = parse_time(text, now=now, tz=tz)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint=hint) from None
    config = app.config
    for name in source_names:
        try:
            config.source(name)
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="--source") from None
    with app.store().read() as session:
        found = list_incidents(
            session,
            sources=source_names,
            since=bounds.get("--since"),
            until=bounds.get("--until"),
            limit=limit,
        )
        if as_json:
            echo_json([incident_dict(source, incident) for source, incident in found])
            return
    if not found:
        click.echo("no incidents recorded for that selection", err=True)
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
    click.echo(table(["STARTED", "RESOLVED", "SOURCE", "IMPACT", "STATUS", "TITLE"], rows))


def register(group: click.Group) -> None:
    group.add_command(incidents)
