"""``monitor run`` and ``monitor status``: the background service and a look at it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from monitor.cli.app import App, json_option, pass_app
from monitor.cli.probes import liveness
from monitor.cli.render import ago, echo, echo_json, echo_table, short_time
from monitor.store.models import CheckRun
from monitor.times import parse_duration

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.store.probes import ProbeInfo


@click.command("run")
@click.option(
    "--once", is_flag=True, help="Run every source and check one time, then exit (for cron)."
)
@click.option(
    "--grace",
    default="10s",
    show_default=True,
    metavar="DURATION",
    help="How long running jobs may finish after SIGTERM/SIGINT.",
)
@pass_app
def run(app: App, once: bool, grace: str) -> None:
    """Keep every source polled and every check run on its interval, until stopped.

    SIGTERM or SIGINT stops it (running jobs get --grace to finish); SIGHUP
    reloads the config (an invalid one is reported and the running one
    kept). One service per database and probe: a second is refused, on
    this machine at once, from another machine while the first one's
    heartbeat lease (three beats, 90 s) is current. --once claims the
    probe too, and releases it when done; its exit status is 1 if any
    poll or check failed.

    \b
    Examples:
      monitor run
      monitor --log-level info run
      monitor run --once          # from cron, every few minutes
    """
    from monitor.service.lock import InstanceLock
    from monitor.service.scheduler import Service

    try:
        grace_period = parse_duration(grace)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--grace'") from None
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    config = app.config
    lock = InstanceLock.acquire(config)
    try:
        service = Service(app.config_path, grace=grace_period)
        status = service.run_once() if once else service.run_forever()
    finally:
        lock.release()
    raise click.exceptions.Exit(status)


@click.command("status")
@json_option
@pass_app
def status(app: App, as_json: bool) -> None:
    """Is a service running for this database and probe, and what is failing now?

    When several probes write into the database, each check's last run is
    shown per probe (`check api @ laptop`) and the other probes' services
    are listed (`monitor probes` tells more).

    \b
    Examples:
      monitor status
      monitor status --json
    """
    from monitor.cli.probes import DEFAULT_SPAN, probe_dict
    from monitor.cli.sources import health
    from monitor.service.lock import holder, lock_path
    from monitor.store.probes import known_probes
    from monitor.store.queries import source_overview

    config = app.config
    now = datetime.now(UTC)
    running, held_by = holder(lock_path(config))
    with app.store().read() as session:
        sources = source_overview(session, [s.name for s in config.sources])
        probes = known_probes(session, now - DEFAULT_SPAN, now)
        checks = _latest_check_runs(session, [c.name for c in config.checks], probes)
    own = next((p for p in probes if p.probe == config.probe), None)
    failing = [
        f"source {o.name}" for o in sources if o.last_poll and o.last_poll.outcome == "error"
    ]
    failing += [f"check {label}" for label, run in checks.items() if run and not run.ok]
    if as_json:
        beat = own.lease if own else None
        echo_json(
            {
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
        )
        return
    echo(_service_line(config.probe, own, running, held_by, now))
    others = [p for p in probes if p.probe != config.probe]
    if others:
        echo("other probes:", *(f"  {p.probe}: {liveness(p, now)}" for p in others))
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
    if rows:
        echo_table(["WHAT", "LAST", "STATE"], rows)
    echo(f"failing now: {', '.join(failing)}" if failing else "failing now: nothing")
    if failing:
        raise click.exceptions.Exit(1)


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


def _latest_check_runs(
    session: Session, names: list[str], probes: list[ProbeInfo]
) -> dict[str, CheckRun | None]:
    """Each configured check's last run by its label: ``name``, or ``name @ probe`` when
    several probes write here (``store.probes.latest_check_runs`` chooses the runs)."""
    from monitor.store.probes import latest_check_runs

    return {
        f"{name} @ {probe}" if probe else name: run
        for name, probe, run in latest_check_runs(session, names, probes)
    }


def _state(run: CheckRun) -> str:
    if run.skipped:
        return f"skipped: {run.detail}"
    return "ok" if run.ok else f"{run.failure_class}: {run.detail}"
