"""A status source's state in one cell, as ``sources``, ``status`` and the HTTP API show it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitor.sources.records import OPERATIONAL
from monitor.views.text import short_time

if TYPE_CHECKING:
    from monitor.store.queries import SourceOverview


def health(overview: SourceOverview, now: datetime | None = None) -> str:
    """A one-cell summary of component health, honest about what is not known."""
    poll = overview.last_poll
    if poll is None:
        return "unknown (never polled)"
    backing_off = backing_off_until(overview, now or datetime.now(UTC))
    if backing_off:
        return f"unknown ({backing_off})"
    if poll.outcome == "error":
        return "unknown (last poll failed)"
    if not overview.components:
        opened = overview.open_incidents
        return (
            f"{opened} open incident{'s' if opened != 1 else ''}"
            if opened
            else "no component status"
        )
    bad = {n: s for n, s in overview.components.items() if s != OPERATIONAL}
    if not bad:
        return f"all {len(overview.components)} components operational"
    listed = ", ".join(f"{n}: {s}" for n, s in sorted(bad.items()))
    return f"{len(bad)}/{len(overview.components)} not operational ({listed})"


def backing_off_until(overview: SourceOverview, now: datetime) -> str | None:
    """``backing off until 15:33Z after 3 failures``, or None when the source is not waiting.

    The time alone when the back-off ends today (UTC), the date too when
    not; the Retry-After the vendor sent is in the last outcome already.
    """
    until = overview.backoff_until
    if until is None or until <= now:
        return None
    when = short_time(until)
    if until.astimezone(UTC).date() == now.astimezone(UTC).date():
        when = when.split(" ", 1)[1]
    count = overview.consecutive_failures
    return f"backing off until {when} after {count} failure{'' if count == 1 else 's'}"
