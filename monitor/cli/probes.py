"""``monitor probes``: every probe writing into this database, alive or not, and what it runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from monitor.cli.app import App, json_option, pass_app, time_bounds
from monitor.cli.render import ago, echo, echo_json, echo_table, short_time
from monitor.times import TIME_HELP, isoformat_z
from monitor.views.probes import DEFAULT_SPAN, probe_dict

if TYPE_CHECKING:
    from monitor.store.probes import Activity, ProbeInfo


@click.command("probes")
@click.option(
    "--since",
    metavar="TIME",
    help=f"Say what each probe ran from then on (default: the last 24 hours): {TIME_HELP}.",
)
@json_option
@pass_app
def probes(app: App, since: str | None, as_json: bool) -> None:
    """Every probe writing into this database: is its service running, and what does it run?

    A probe is a vantage point (`[monitor] probe`): a laptop, a CI runner, a
    server. Each one known by a heartbeat, or by check runs or polls in the
    span, gets a row. STATE is `running` (its service beat within the lease,
    three heartbeats: 90 s), `stopped` (stopped cleanly), `gone` (stopped
    beating without stopping: killed, lost or asleep) or `no service` (only
    `monitor check` or `monitor poll` ran there). CHECKS and SOURCES list
    what it ran in the span.

    \b
    Examples:
      monitor probes
      monitor probes --since '7d ago'
      monitor probes --json
    """
    now = datetime.now(UTC)
    lo, _ = time_bounds(since, None, None)
    lo = lo or now - DEFAULT_SPAN
    from monitor.store.probes import known_probes

    with app.store().read() as session:
        found = known_probes(session, lo, now)
    if as_json:
        echo_json({"since": isoformat_z(lo), "probes": [probe_dict(p, now) for p in found]})
        return
    if not found:
        echo(f"no probes: no service ever ran, and nothing ran since {short_time(lo)}")
        return
    echo_table(
        ["PROBE", "STATE", "HOST", "PID", "STARTED", "LAST HEARTBEAT", "CHECKS", "SOURCES"],
        [_row(info, now) for info in found],
    )
    echo(f"checks and sources: what each probe ran since {short_time(lo)}")


def _row(info: ProbeInfo, now: datetime) -> list[str]:
    lease = info.lease
    return [
        info.probe,
        info.state(now),
        lease.host if lease else "-",
        str(lease.pid) if lease else "-",
        short_time(lease.started_at) if lease else "-",
        f"{short_time(lease.last_seen)} ({ago(lease.last_seen, now)})" if lease else "-",
        _names(info.checks),
        _names(info.sources),
    ]


def _names(activities: tuple[Activity, ...]) -> str:
    return ", ".join(a.name for a in activities) or "-"
