"""``monitor status`` answered: is the service up for this probe, and what is failing now."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitor.views.probes import DEFAULT_SPAN, liveness, probe_dict
from monitor.views.sources import health
from monitor.views.text import ago, json_text, lines_text, short_time, table

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store import Store
    from monitor.store.models import CheckRun
    from monitor.store.probes import ProbeInfo


def status_output(
    store: Store, config: Config, now: datetime, *, as_json: bool
) -> tuple[str, bool]:
    """What ``monitor status`` prints (without the final newline), and whether anything fails."""
    from monitor.configfile import lock_path_for
    from monitor.discovery import holder
    from monitor.store.probes import known_probes, latest_check_runs
    from monitor.store.queries import source_overview

    running, held_by = holder(lock_path_for(config.database_url, config.probe, config.path))
    with store.read() as session:
        sources = source_overview(session, [s.name for s in config.sources])
        probes = known_probes(session, now - DEFAULT_SPAN, now)
        checks = {
            f"{name} @ {probe}" if probe else name: run
            for name, probe, run in latest_check_runs(
                session, [c.name for c in config.checks], probes
            )
        }
    own = next((p for p in probes if p.probe == config.probe), None)
    failing = [
        f"source {o.name}" for o in sources if o.last_poll and o.last_poll.outcome == "error"
    ]
    failing += [f"check {label}" for label, run in checks.items() if run and not run.ok]
    if as_json:
        beat = own.lease if own else None
        document = {
            "service": {
                "running": running,
                "holder": held_by,
                "probe": config.probe,
                "started_at": beat and beat.started_at.isoformat(),
                "last_seen": beat and beat.last_seen.isoformat(),
                "pid": beat and beat.pid,
            },
            "failing": failing,
            "probes": [probe_dict(p, now) for p in probes],
        }
        return json_text(document), bool(failing)
    lines = [_service_line(config.probe, own, running, held_by, now)]
    others = [p for p in probes if p.probe != config.probe]
    if others:
        lines += ["other probes:", *(f"  {p.probe}: {liveness(p, now)}" for p in others)]
    rows = [
        [
            f"source {o.name}",
            ago(o.last_poll.started_at, now) if o.last_poll else "never",
            health(o),
        ]
        for o in sources
    ]
    rows += [
        [
            f"check {label}",
            ago(run.started_at, now) if run else "never",
            "never run" if run is None else _state(run),
        ]
        for label, run in checks.items()
    ]
    parts = [lines_text(*lines)]
    if rows:
        parts.append(table(["WHAT", "LAST", "STATE"], rows))
    parts.append(
        lines_text(f"failing now: {', '.join(failing)}" if failing else "failing now: nothing")
    )
    return "\n".join(parts), bool(failing)


def _service_line(
    probe: str, own: ProbeInfo | None, running: bool, held_by: str | None, now: datetime
) -> str:
    """This probe's service: held here (the flock), running elsewhere (the lease), or not."""
    lease = own.lease if own else None
    if running:
        seen = f"last heartbeat {ago(lease.last_seen, now)}" if lease else "no heartbeat yet"
        return f"service: running for probe {probe} ({held_by}; {seen})"
    if lease and lease.state(now) == "running":
        return (
            f"service: running for probe {probe} on host {lease.host} "
            f"(pid {lease.pid}; last heartbeat {ago(lease.last_seen, now)})"
        )
    if lease:
        seen = f"{short_time(lease.last_seen)}, {ago(lease.last_seen, now)}"
        return f"service: not running (probe {probe}; last seen {seen})"
    return f"service: never ran for probe {probe}"


def _state(run: CheckRun) -> str:
    if run.skipped:
        return f"skipped: {run.detail}"
    return "ok" if run.ok else f"{run.failure_class}: {run.detail}"
