"""A status source as ``sources``, ``status`` and the HTTP API show it: one cell, one object."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypedDict

from monitor.sources.records import OPERATIONAL
from monitor.times import isoformat_z, short_time

if TYPE_CHECKING:
    from monitor.store.queries import SourceOverview


class LastPollDict(TypedDict):
    at: str | None
    outcome: str
    http_status: int | None
    error: str | None
    note: str | None
    duration_ms: int
    bytes: int


class SourceDict(TypedDict):
    name: str
    kind: str
    url: str
    last_poll: LastPollDict | None
    last_success_at: str | None
    page_status: str | None
    health: str
    components: dict[str, str]
    open_incidents: int
    consecutive_failures: int
    backoff_until: str | None


def source_dict(overview: SourceOverview, now: datetime) -> SourceDict:
    """One source as ``sources --json`` and ``status --json`` give it.

    ``last_poll.error`` is why the last poll failed (null when it did not),
    ``health`` the cell the text shows.
    """
    poll = overview.last_poll
    return {
        "name": overview.name,
        "kind": overview.kind,
        "url": overview.url,
        "last_poll": None
        if poll is None
        else {
            "at": isoformat_z(poll.started_at),
            "outcome": poll.outcome,
            "http_status": poll.http_status,
            "error": poll.error,
            "note": poll.note,
            "duration_ms": poll.duration_ms,
            "bytes": poll.bytes,
        },
        "last_success_at": isoformat_z(overview.last_success_at),
        "page_status": overview.page_status,
        "health": health(overview, now),
        "components": overview.components,
        "open_incidents": overview.open_incidents,
        "consecutive_failures": overview.consecutive_failures,
        "backoff_until": isoformat_z(overview.backoff_until),
    }


def health(overview: SourceOverview, now: datetime) -> str:
    """A one-cell summary of component health, honest about what is not known.

    ``now`` decides whether a back-off is still on: the caller's clock (the
    service's, or the command's), so both give the same answer.
    """
    poll = overview.last_poll
    if poll is None:
        return "unknown (never polled)"
    backing_off = backing_off_until(overview, now)
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
