"""``monitor why`` and ``monitor timeline``: is it me or is it them, with the evidence.

Kept light on purpose: a user asks this in the middle of an outage, so the
command loads the config, the store and the pure correlator, nothing else
(no HTTP client, no scheduler, no plotting).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from monitor.cli.app import App, json_option, pass_app, usage_errors
from monitor.cli.render import echo_output
from monitor.views.params import bounds_param, time_param, window_param, zone_param
from monitor.views.why import WhyQuestion, timeline_output, why_output

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
    help="The moment to explain: ISO 8601, 'YYYY-MM-DD HH:MM' (in --tz), 'now', '90m ago'.",
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

    \b
    Examples:
      monitor why --at "2026-04-14 10:00" --tz UTC
      monitor why --at "2h ago" --window 1h
      monitor why --probe laptop
      monitor why --json
    """
    with usage_errors():
        tz = zone_param(tz_name)
        question = WhyQuestion(
            at=time_param(at_text, "--at", now=datetime.now(UTC), tz=tz),
            window=window_param(window_text),
            probe=probe,
        )
        echo_output(why_output(app.store(), app.config, question, tz=tz, as_json=as_json))


@click.command("timeline")
@click.option("--since", default="24h ago", show_default=True, metavar="TIME", help="Start.")
@click.option("--until", default="now", show_default=True, metavar="TIME", help="End.")
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
        echo_output(
            timeline_output(app.store(), app.config, lo, hi, probe=probe, tz=tz, as_json=as_json)
        )
