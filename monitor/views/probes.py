"""A probe as ``probes``, ``status`` and the HTTP API show it: its JSON object and one line."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from monitor.times import isoformat_z, short_time
from monitor.views.text import ago

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
