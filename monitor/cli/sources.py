"""``monitor sources``: each source's last poll and current component health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from monitor.cli.app import App, json_option, pass_app
from monitor.cli.render import ago, echo_json, echo_table, short_time
from monitor.times import format_duration
from monitor.views.sources import health, source_dict

if TYPE_CHECKING:
    from monitor.store.queries import SourceOverview


@click.command()
@json_option
@pass_app
def sources(app: App, as_json: bool) -> None:
    """Show each configured source: last poll, its outcome, and component health.

    A source whose last poll failed shows its health as "unknown": a page we
    could not read says nothing, good or bad. A source that answered 429 or
    5xx (or did not answer) is left alone for a while, and its health says
    until when: the service polls it again after that, `monitor poll` now.

    \b
    Examples:
      monitor sources
      monitor sources --json
    """
    config = app.config
    now = datetime.now(UTC)
    from monitor.store.queries import source_overview

    with app.store().read() as session:
        overviews = source_overview(session, [s.name for s in config.sources])
    if as_json:
        echo_json([source_dict(o, now) for o in overviews])
        return
    settings = {s.name: s for s in config.sources}
    rows = [
        [
            o.name,
            settings[o.name].kind,
            format_duration(settings[o.name].interval),
            f"{short_time(o.last_poll.started_at)} ({ago(o.last_poll.started_at, now)})"
            if o.last_poll
            else "never",
            health(o, now),
            _outcome(o),
        ]
        for o in overviews
    ]
    # The outcome goes last: an error reason can be long and must not push
    # the health column off the screen.
    echo_table(["NAME", "KIND", "EVERY", "LAST POLL", "HEALTH", "LAST OUTCOME"], rows)


def _outcome(overview: SourceOverview) -> str:
    poll = overview.last_poll
    if poll is None:
        return "-"
    if poll.outcome == "error":
        return f"error: {poll.error}"
    outcome = poll.outcome.replace("_", " ")
    return f"{outcome} ({poll.note})" if poll.note else outcome
