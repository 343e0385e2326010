"""``monitor check`` and ``monitor results``: what this machine sees, now and before."""

from __future__ import annotations

import click

from monitor.cli.app import App, json_option, pass_app, time_bounds
from monitor.cli.render import echo, echo_json, echo_table, short_time
from monitor.times import TIME_HELP, UNTIL_HELP
from monitor.views.runs import report_run_dict, run_state, stored_run_dict


@click.command("check")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@json_option
@pass_app
def check(app: App, names: tuple[str, ...], as_json: bool) -> None:
    """Run the named checks (default: all enabled) once now, concurrently, and record them.

    Prints one row per check: result, failure class, HTTP status, latency
    and what was seen. Exit status 1 if any check failed; a skipped check
    (its when_env variable unset, no credentials file) does not fail.

    \b
    Examples:
      monitor check
      monitor check api-reachable oauth-endpoint
      monitor check --json | jq '.[] | select(.ok | not)'
    """
    config = app.config
    for name in names:
        try:
            config.check(name)
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="'NAME'") from None
    from monitor.checks.context import CheckContext
    from monitor.checks.runner import run_checks
    from monitor.checks.tokenstore import default_state_dir

    context = CheckContext(config_dir=config.path.parent, state_dir=default_state_dir(config.path))
    reports = run_checks(app.store(), config, context, names)
    if not reports:
        echo(f"no checks configured; add a [[check]] to {config.path}", err=True)
    if as_json:
        echo_json([report_run_dict(r) for r in reports])
    elif reports:
        rows = [
            [
                r.check,
                _verdict(r.result.ok, r.result.skipped),
                r.result.failure_class or "-",
                str(r.result.http_status or "-"),
                f"{r.duration_ms:.0f} ms",
                r.result.detail,
            ]
            for r in reports
        ]
        echo_table(["CHECK", "RESULT", "CLASS", "STATUS", "LATENCY", "DETAIL"], rows)
    if any(not r.result.ok for r in reports):
        raise click.exceptions.Exit(1)


@click.command("results")
@click.option(
    "--check", "check_names", multiple=True, metavar="NAME", help="Only this check (repeatable)."
)
@click.option("--since", metavar="T", help=f"Only runs at or after T: {TIME_HELP}.")
@click.option("--until", metavar="T", help=f"Only runs at or before T: {UNTIL_HELP}.")
@click.option("--tz", "tz_name", metavar="ZONE", help="Zone for times given without an offset.")
@click.option("--failed", "failed_only", is_flag=True, help="Only failed runs.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="At most this many runs.",
)
@json_option
@pass_app
def results(
    app: App,
    check_names: tuple[str, ...],
    since: str | None,
    until: str | None,
    tz_name: str | None,
    failed_only: bool,
    limit: int,
    as_json: bool,
) -> None:
    """List recorded check runs, newest first.

    \b
    Examples:
      monitor results --failed --since '24h ago'
      monitor results --check api-reachable --since '2026-04-13 15:00' --until '2026-04-13 17:00'
      monitor results --json --limit 1000 > runs.json
    """
    since_at, until_at = time_bounds(since, until, tz_name)
    from monitor.store.checkruns import list_check_runs

    with app.store().read() as session:
        runs = list_check_runs(
            session,
            checks=check_names,
            since=since_at,
            until=until_at,
            failed_only=failed_only,
            limit=limit,
        )
    if as_json:
        echo_json([stored_run_dict(run) for run in runs])
        return
    if not runs:
        echo("no runs recorded for that selection", err=True)
        return
    rows = [
        [
            short_time(run.started_at),
            run.check,
            _verdict(run.ok, run.skipped),
            run.failure_class or "-",
            str(run.http_status or "-"),
            f"{run.duration_ms:.0f} ms",
            run.detail,
        ]
        for run in runs
    ]
    echo_table(["AT", "CHECK", "RESULT", "CLASS", "STATUS", "LATENCY", "DETAIL"], rows)


def _verdict(ok: bool, skipped: bool) -> str:
    """The RESULT cell: a failure in capitals, to be found in a long table at a glance."""
    state = run_state(ok, skipped)
    return "FAIL" if state == "failed" else state
