"""``monitor why`` and ``monitor timeline``: is it me or is it them, with the evidence.

Kept light on purpose: a user asks this in the middle of an outage. The
options are read here first (a typo never waits for anything), then the
running service is asked (``monitor.cli.remote``); only when it cannot
answer does the command load the config, the store and the pure
correlator, and nothing else (no scheduler, no plotting). A database at the
schema's head is read through its driver alone (``App.reader``): no
SQLAlchemy either.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from monitor.cli.app import App, json_option, pass_app, usage_errors
from monitor.cli.remote import ask_service
from monitor.cli.render import echo_output
from monitor.times import TIME_HELP, UNTIL_HELP, isoformat_z, local_zone_name
from monitor.views.params import (
    WHY_AT_FUTURE,
    bounds_param,
    moment_param,
    window_param,
    zone_param,
)

TZ_HELP = (
    "Zone for times typed without an offset and for local times shown. Default: this machine's."
)
probe_option = click.option(
    "--probe",
    metavar="NAME",
    help="Only this probe's check runs and heartbeats (imported failures stay). "
    "Default: every probe writing to this database.",
)


@click.command("why")
@click.option(
    "--at",
    "at_text",
    default="now",
    show_default=True,
    metavar="TIME",
    help=f"The moment to explain, not after now: {TIME_HELP}.",
)
@click.option(
    "--window",
    "window_text",
    default="30m",
    show_default=True,
    metavar="DURATION",
    help="Look this far either side of --at.",
)
@click.option("--tz", "tz_name", metavar="ZONE", help=TZ_HELP)
@probe_option
@json_option
@pass_app
def why(
    app: App,
    at_text: str,
    window_text: str,
    tz_name: str | None,
    probe: str | None,
    as_json: bool,
) -> None:
    """Explain failures at a moment: upstream, local, network, or not enough evidence.

    Lines up what the checks and your imported logs saw against what the
    status pages declared, and says which side is at fault, how sure, why,
    and what to do next. With several probes writing to one database, what
    each saw is evidence too: a call failing on one machine while another
    makes it fine is that machine's trouble; failing on every one, it is not.

    When `monitor run` serves this database and probe, it gives the answer
    (the same one, sooner); otherwise the database is read here.

    \b
    Examples:
      monitor why --at "2026-04-14 10:00" --tz UTC
      monitor why --at "yesterday 15:30"
      monitor why --at "2h ago" --window 1h
      monitor why --probe laptop
      monitor why --json
    """
    with usage_errors():
        tz = zone_param(tz_name)
        at = moment_param(at_text, "--at", now=datetime.now(UTC), tz=tz, because=WHY_AT_FUTURE)
        window = window_param(window_text)
    answer = _ask(
        app,
        "/api/why",
        {"at": isoformat_z(at), "window": window_text, "probe": probe},
        tz_name=tz_name,
        as_json=as_json,
    )
    if answer is None:
        from monitor.views.why import WhyQuestion, why_output

        question = WhyQuestion(at=at, window=window, probe=probe)
        with usage_errors():
            answer = why_output(app.reader(), app.config, question, tz=tz, as_json=as_json)
    echo_output(answer)


@click.command("timeline")
@click.option(
    "--since", default="24h ago", show_default=True, metavar="TIME", help=f"Start: {TIME_HELP}."
)
@click.option(
    "--until", default="now", show_default=True, metavar="TIME", help=f"End: {UNTIL_HELP}."
)
@click.option("--tz", "tz_name", metavar="ZONE", help=TZ_HELP)
@probe_option
@json_option
@pass_app
def timeline(
    app: App, since: str, until: str, tz_name: str | None, probe: str | None, as_json: bool
) -> None:
    """Local failure windows and upstream windows merged in time order.

    The story of a bad afternoon: when each check started and stopped
    failing, what you imported from your tools, and what the vendors
    declared, one line each.

    \b
    Examples:
      monitor timeline --since "2026-04-13 15:00" --until "2026-04-13 17:00" --tz UTC
      monitor timeline --since "3d ago" --json
    """
    with usage_errors():
        tz = zone_param(tz_name)
        lo, hi = bounds_param(since, until, tz, now=datetime.now(UTC))
    answer = _ask(
        app,
        "/api/timeline",
        {"since": isoformat_z(lo), "until": isoformat_z(hi), "probe": probe},
        tz_name=tz_name,
        as_json=as_json,
    )
    if answer is None:
        from monitor.views.why import timeline_output

        with usage_errors():
            answer = timeline_output(
                app.reader(), app.config, lo, hi, probe=probe, tz=tz, as_json=as_json
            )
    echo_output(answer)


def _ask(
    app: App, path: str, params: dict[str, str | None], *, tz_name: str | None, as_json: bool
) -> str | None:
    """The service's answer, or None to work it out here.

    Times go as the instants read here, so "2h ago" means the same moment
    to both. Local times in the text are shown in this process's zone: the
    service is told its name, and when it has none (a POSIX rule in $TZ)
    the text is not asked for. JSON holds UTC only.
    """
    zone_name = tz_name or local_zone_name()
    if zone_name is None and not as_json:
        return None
    fmt = "json" if as_json else "text"
    reply = ask_service(app.config_path, path, {**params, "tz": zone_name, "format": fmt})
    return None if reply is None else reply.text
