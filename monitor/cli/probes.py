"""``monitor probes``: every probe writing into this database, alive or not, and what it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

import click

from monitor.cli.app import App, json_option, pass_app, time_bounds
from monitor.cli.render import ago, echo, echo_json, echo_table, short_time
from monitor.times import isoformat_z

if TYPE_CHECKING:
    from monitor.store.probes import Activity, ProbeInfo

# What ran is read over this span unless --since says otherwise.
DEFAULT_SPAN = timedelta(hours=24)


class ActivityDict(TypedDict):
    name: str
    count: int
    last_at: str | None


class ProbeDict(TypedDict):
    probe: str
    state: str
    host: str | None
    pid: int | None
    started_at: str | None
    last_seen: str | None
    last_seen_seconds_ago: int | None
    stopped_at: str | None
    lease_expires_at: str | None
    checks: list[ActivityDict]
    sources: list[ActivityDict]


def probe_dict(info: ProbeInfo, now: datetime) -> ProbeDict:
    """One probe as ``--json`` has it; ``lease_expires_at`` only while not stopped."""
    lease = info.lease
    expires = lease.expires_at if lease and lease.stopped_at is None else None
    return {
        "probe": info.probe,
        "state": info.state(now),
        "host": lease.host if lease else None,
        "pid": lease.pid if lease else None,
        "started_at": isoformat_z(lease.started_at) if lease else None,
        "last_seen": isoformat_z(lease.last_seen) if lease else None,
        "last_seen_seconds_ago": int((now - lease.last_seen).total_seconds()) if lease else None,
        "stopped_at": isoformat_z(lease.stopped_at) if lease else None,
        "lease_expires_at": isoformat_z(expires),
        "checks": [_activity_dict(a) for a in info.checks],
        "sources": [_activity_dict(a) for a in info.sources],
    }


def _activity_dict(activity: Activity) -> ActivityDict:
    return {
        "name": activity.name,
        "count": activity.count,
        "last_at": isoformat_z(activity.last_at),
    }


def liveness(info: ProbeInfo, now: datetime) -> str:
    """One line on a probe's service: ``running on box (pid 12), last heartbeat 20s ago``."""
    lease = info.lease
    if lease is None:
        return f"no service (last wrote {ago(info.last_active, now)})"
    if lease.stopped_at is not None:
        stopped = lease.stopped_at
        return f"stopped on {lease.host} {ago(stopped, now)} ({short_time(stopped)})"
    seen = ago(lease.last_seen, now)
    return f"{lease.state(now)} on {lease.host} (pid {lease.pid}), last heartbeat {seen}"


@click.command("probes")
@click.option(
    "--since",
    metavar="TIME",
    help="Say what each probe ran from then on (default: the last 24 hours).",
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
    from monitor.store.probes import known_probes

    now = datetime.now(UTC)
    lo, _ = time_bounds(since, None, None)
    lo = lo or now - DEFAULT_SPAN
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
