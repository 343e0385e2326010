"""Counts read at each ``/metrics`` scrape that no command needed before."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.store.models import Incident, Source


def open_incidents_by_impact(
    session: Session, names: Sequence[str]
) -> dict[str, dict[str | None, int]]:
    """Per source, its open (unresolved) incidents counted by impact as the vendor stated it."""
    rows = session.execute(
        select(Source.name, Incident.impact, func.count())
        .join(Source, Source.id == Incident.source_id)
        .where(Source.name.in_(names), Incident.resolved_at.is_(None))
        .group_by(Source.name, Incident.impact)
    )
    counts: dict[str, dict[str | None, int]] = {}
    for name, impact, count in rows:
        counts.setdefault(str(name), {})[impact] = int(count)
    return counts
