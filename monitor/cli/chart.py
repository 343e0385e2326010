"""``monitor chart``: write the uptime, correlation and latency charts and ``index.html``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from monitor.cli.app import App, pass_app, time_bounds
from monitor.cli.render import echo
from monitor.times import TIME_HELP, UNTIL_HELP

FORMATS = ("png", "svg")
# As monitor.charts.generate has them (not imported from there: that imports matplotlib).
MAX_DAYS = 3660  # ten years
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _formats(_ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    wrong = [fmt for fmt in chosen if fmt not in FORMATS]
    if wrong or not chosen:
        raise click.BadParameter(f"expected png, svg or png,svg, got {value!r}", param=param)
    return chosen


@click.command("chart")
@click.option(
    "--since",
    metavar="T",
    help=f"Start of the range (default: the first data recorded, at most 30d ago): {TIME_HELP}.",
)
@click.option(
    "--until",
    metavar="T",
    help=f"End of the range (default: now; one still to come is now): {UNTIL_HELP}.",
)
@click.option(
    "--tz",
    "tz_name",
    metavar="ZONE",
    help="Zone for times given without an offset (default: local).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Folder to write into. Default: [dashboards] out from the config, else dashboards/ "
    "beside the config file.",
)
@click.option(
    "--format",
    "formats",
    callback=_formats,
    metavar="LIST",
    help="png, svg or png,svg. Default: [dashboards] formats, else both.",
)
@pass_app
def chart(
    app: App,
    since: str | None,
    until: str | None,
    tz_name: str | None,
    out_dir: Path | None,
    formats: tuple[str, ...],
) -> None:
    """Draw uptime, upstream-vs-checks and latency charts, and an index.html to open.

    Uptime per check per day (per hour for ranges up to two days), with time
    the monitor was not running shown as no data; a timeline of status-page
    incidents and maintenances above each check's failure windows; p50/p95
    latency. index.html ties them together with an uptime table and the
    range's incidents; it works opened from disk or from any web server.
    Long ranges are read from the hourly rollups. Files are replaced
    atomically, so a browser never sees half a chart.

    Without --since the range starts at the first data recorded (at most
    30 days back), so a first dashboard shows the hour the monitor has run,
    not a month of "no data". An --until still to come ends the range now:
    nothing is recorded ahead, and it would read as "no data". The page
    opens with the answer `monitor why` gives now and whether each status
    page could be read.

    \b
    Examples:
      monitor chart                          what was recorded, up to 30 days
      monitor chart --since '7d ago'
      monitor chart --since 2026-01-01 --until 2027-01-01 --format svg
      monitor chart --out /var/www/status
    """
    since_at = _bound("--since", since, tz_name)
    until_at = _bound("--until", until, tz_name)
    now = datetime.now(UTC)
    # Nothing is recorded after now: a range running on (a calendar year, or
    # "--until 18:00" at 17:30) ends now, rather than drawing the time still
    # to come as time the monitor was not running.
    until_at = now if until_at is None else min(until_at, now)
    if since_at is not None and since_at >= until_at:
        raise click.UsageError(
            f"--since ({since_at:%Y-%m-%d %H:%M}Z) must be before --until "
            f"({until_at:%Y-%m-%d %H:%M}Z)"
        )
    if since_at is not None and until_at - since_at > timedelta(days=MAX_DAYS):
        raise click.UsageError(
            f"--since/--until span {(until_at - since_at).days} days; a chart covers at most "
            f"{MAX_DAYS} days (10 years)"
        )
    config = app.config
    from monitor.charts.generate import generate_for

    report = generate_for(
        config,
        app.store(),
        since=since_at,
        until=until_at,
        now=now,
        out_dir=out_dir,
        formats=formats,
    )
    note = " (no data yet in this range)" if report.empty else ""
    echo(
        *(f"wrote {file.path} ({file.width}x{file.height})" for file in report.files),
        f"wrote {report.index}{note}",
        report.summary,
    )


def _bound(hint: str, text: str | None, tz_name: str | None) -> datetime | None:
    """One of ``--since``/``--until``; a time outside 1970 to 2999 is a usage error naming it."""
    if text is None:
        return None
    try:
        # Alone, so an error names the right option; OverflowError: year 1 or 9999 moved to UTC.
        since, until = (
            time_bounds(text, None, tz_name)
            if hint == "--since"
            else time_bounds(None, text, tz_name)
        )
        at = since or until
    except OverflowError:
        at = None
    if at is None or not EARLIEST <= at < LATEST:
        raise click.BadParameter(
            f"{text!r} is out of range: charts cover {EARLIEST:%Y} to {LATEST.year - 1} only",
            param_hint=f"'{hint}'",
        )
    return at
