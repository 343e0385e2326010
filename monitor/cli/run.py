"""``monitor run`` and ``monitor status``: the background service and a look at it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click

from monitor.cli.app import App, json_option, pass_app
from monitor.cli.render import ago, echo, echo_json, echo_table, short_time
from monitor.store.models import CheckRun
from monitor.times import parse_duration


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
    kept). One service per database and probe: a second is refused.
    With --once the exit status is 1 if any poll or check failed.

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

    \b
    Examples:
      monitor status
      monitor status --json
    """
    from monitor.cli.sources import health
    from monitor.service.lock import holder, lock_path
    from monitor.store.checkruns import latest_runs
    from monitor.store.heartbeats import last_heartbeat
    from monitor.store.queries import source_overview

    config = app.config
    now = datetime.now(UTC)
    running, held_by = holder(lock_path(config))
    with app.store().read() as session:
        beat = last_heartbeat(session, config.probe)
        sources = source_overview(session, [s.name for s in config.sources])
        checks = latest_runs(session, [c.name for c in config.checks])
    failing = [
        f"source {o.name}" for o in sources if o.last_poll and o.last_poll.outcome == "error"
    ]
    failing += [f"check {name}" for name, run in checks.items() if run and not run.ok]
    if as_json:
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
            }
        )
        return
    if running:
        seen = f"last heartbeat {ago(beat.last_seen, now)}" if beat else "no heartbeat yet"
        echo(f"service: running for probe {config.probe} ({held_by}; {seen})")
    elif beat:
        seen = f"{short_time(beat.last_seen)}, {ago(beat.last_seen, now)}"
        echo(f"service: not running (probe {config.probe}; last seen {seen})")
    else:
        echo(f"service: never ran for probe {config.probe}")
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
            f"check {name}",
            ago(run.started_at, now) if run else "never",
            "never run" if run is None else _state(run),
        ]
        for name, run in checks.items()
    ]
    if rows:
        echo_table(["WHAT", "LAST", "STATE"], rows)
    echo(f"failing now: {', '.join(failing)}" if failing else "failing now: nothing")
    if failing:
        raise click.exceptions.Exit(1)


def _state(run: CheckRun) -> str:
    if run.skipped:
        return f"skipped: {run.detail}"
    return "ok" if run.ok else f"{run.failure_class}: {run.detail}"
