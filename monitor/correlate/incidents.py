"""An incident as a window: its declared times, widened by the spans its updates state.

Pure: the store reads the incident and its updates into a ``DeclaredIncident``;
here they become the ``UpstreamWindow`` the rules judge, so the rule that a
stated span widens a window and never narrows it is tested from literals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.correlate.stated import stated_spans
from monitor.correlate.windows import UpdateStatus, UpstreamWindow, incident_hits

# What an incident's updates say is read for its subject up to this many
# characters (a post-incident review runs to a few thousand).
ABOUT_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class DeclaredIncident:
    """An incident as its page declared it, with what each update said and marked.

    ``updates`` are ``(posted, body)``, newest first; ``statuses`` the
    component statuses the updates set, in order; ``listed`` the components
    the incident names without an update saying when.
    """

    source: str
    title: str
    started_at: datetime | None
    created_at: datetime | None
    resolved_at: datetime | None
    status: str | None = None
    impact: str | None = None
    url: str | None = None
    updates: tuple[tuple[datetime, str], ...] = ()
    statuses: tuple[UpdateStatus, ...] = ()
    listed: tuple[str, ...] = ()


def incident_window(incident: DeclaredIncident) -> UpstreamWindow:
    """The window an incident covers, and the components it hit when."""
    # A backfilled incident may be started after it was resolved: the window runs
    # from the earliest time it names.
    named = [t for t in (incident.started_at, incident.created_at, incident.resolved_at) if t]
    declared_start = min(named)
    declared_end = incident.resolved_at
    # Every span the updates state counts (a later, narrower one about another
    # symptom does not take back an earlier one): the stated window is their union.
    spans = [
        found
        for posted, body in incident.updates
        for found in stated_spans(body, posted, (declared_start, declared_end))
    ]
    span = (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None
    start, end = declared_start, declared_end
    if span is not None:
        # A stated span widens the window, never narrows it: "users saw errors
        # between 15:31 and 16:19" on an incident declared at 16:10 moves the
        # start back, while "errors spiked again between 14:00 and 14:30" on a
        # 09:24-15:21 incident must not shrink it to half an hour.
        start = min(start, span[0])
        end = None if end is None else max(end, span[1])
    hits = incident_hits(list(incident.statuses), (start, end), (declared_start, declared_end))
    from_updates = list(dict.fromkeys(h.component for h in hits))
    components = tuple(from_updates or incident.listed)
    about = " ".join(body for _, body in reversed(incident.updates))
    return UpstreamWindow(
        source=incident.source,
        kind="incident",
        title=incident.title,
        start=start,
        end=end,
        impact=incident.impact,
        components=components,
        url=incident.url,
        status=incident.status,
        declared_start=declared_start,
        declared_end=declared_end,
        stated_in_update=span is not None,
        component_level=bool(from_updates),
        hits=hits,
        stated=span,
        about=about[:ABOUT_LIMIT],
    )
