"""``monitor prune``: apply retention now instead of waiting for the service's daily run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from monitor.cli.app import App, pass_app
from monitor.cli.render import echo
from monitor.times import DURATION_HINT, format_duration, parse_duration

if TYPE_CHECKING:
    from monitor.config import RetentionSettings
    from monitor.store.retention import PruneStats


def _duration(_ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    """Parse a positive duration written as in config.toml (``90d``, ``12h``).

    A callback rather than a ``click.ParamType`` subclass: that class is
    generic only from click 8.2, and monitor supports 8.1.
    """
    if value is None:
        return None
    try:
        parsed = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None
    if parsed <= timedelta(0):
        raise click.BadParameter(f"expected a positive duration, got {value!r}", param=param)
    return parsed


@click.command("prune")
@click.option(
    "--raw",
    "raw",
    callback=_duration,
    metavar="DURATION",
    help=f"Keep raw check runs this long ({DURATION_HINT}). Default: retention.raw, else 90d.",
)
@click.option(
    "--rollups",
    "rollups",
    callback=_duration,
    metavar="DURATION",
    help="Keep hourly rollups this long. Default: retention.rollups, else 730d.",
)
@pass_app
def prune_command(app: App, raw: timedelta | None, rollups: timedelta | None) -> None:
    """Fold old check runs into hourly rollups and delete them, now.

    Raw runs older than the raw period (whole hours only) become one rollup
    per check, probe and hour (runs, failures, p50/p95 latency, failure
    classes); rollups older than the rollup period are deleted. Incidents
    and the poll log are never pruned. Safe to interrupt and to re-run: it
    works in small transactions and never counts a run twice. The service
    does this daily; run it by hand to reclaim space at once.

    \b
    Examples:
      monitor prune
      monitor prune --raw 30d --rollups 365d
    """
    settings: RetentionSettings = app.config.retention
    raw_keep = raw if raw is not None else settings.raw
    rollup_keep = rollups if rollups is not None else settings.rollups
    if rollup_keep < raw_keep:
        raise click.UsageError(
            f"rollups ({format_duration(rollup_keep)}) must be kept at least as long as "
            f"raw runs ({format_duration(raw_keep)}): rollups only cover hours older "
            "than the raw period"
        )
    from monitor.store.retention import prune

    stats = prune(app.store(), datetime.now(UTC), raw_keep=raw_keep, rollup_keep=rollup_keep)
    echo(describe(stats))


def describe(stats: PruneStats) -> str:
    """One line of counts, for the terminal and for a cron mail."""
    return (
        f"folded {stats.runs_folded} runs into {stats.hours_written} hourly rollups, "
        f"deleted {stats.raw_deleted} raw runs and {stats.rollups_deleted} old rollups "
        f"({stats.elapsed_s:.2f} s)"
    )
