"""``monitor run`` and ``monitor status``: the background service and a look at it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click

from monitor.cli.app import App, json_option, pass_app
from monitor.cli.remote import ask_service
from monitor.cli.render import echo_output
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
    try:
        grace_period = parse_duration(grace)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--grace'") from None
    from monitor.service.lock import InstanceLock
    from monitor.service.scheduler import Service

    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    config = app.config
    lock = InstanceLock.acquire(config)
    try:
        service = Service(app.config_path, grace=grace_period, lock=lock)
        status = service.run_once() if once else service.run_forever()
    finally:
        lock.release()
    raise click.exceptions.Exit(status)


# The service says whether anything fails in a header (monitor/service/api/routes.py).
FAILING_HEADER = "monitor-failing"
FAILING = {"true": True, "false": False}


@click.command("status")
@json_option
@pass_app
def status(app: App, as_json: bool) -> None:
    """Is a service running for this database and probe, and what is failing now?

    When several probes write into the database, each check's last run is
    shown per probe (`check api @ laptop`) and the other probes' services
    are listed (`monitor probes` tells more). Exit status 1 when something
    is failing now. The running service answers when there is one.

    \b
    Examples:
      monitor status
      monitor status --json
    """
    reply = ask_service(app.config_path, "/api/status", {"format": "json" if as_json else "text"})
    failing = FAILING.get(reply.headers.get(FAILING_HEADER, "")) if reply else None
    if reply is not None and failing is not None:
        text = reply.text
    else:
        from monitor.views.status import status_output

        text, failing = status_output(app.store(), app.config, datetime.now(UTC), as_json=as_json)
    echo_output(text)
    if failing and not as_json:
        raise click.exceptions.Exit(1)
