"""What every status source turns its bytes into.

Parsers return these plain, immutable records; the store decides what is
new. Keeping one vocabulary for all providers is what lets the correlator
ask "was this component degraded at T?" without knowing who said so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

# Component health, best to worst. Provider words are mapped onto these.
OPERATIONAL = "operational"
UNDER_MAINTENANCE = "under_maintenance"
DEGRADED_PERFORMANCE = "degraded_performance"
PARTIAL_OUTAGE = "partial_outage"
MAJOR_OUTAGE = "major_outage"
UNKNOWN = "unknown"

COMPONENT_STATUSES: tuple[str, ...] = (
    OPERATIONAL,
    UNDER_MAINTENANCE,
    DEGRADED_PERFORMANCE,
    PARTIAL_OUTAGE,
    MAJOR_OUTAGE,
)
_SEVERITY = {status: rank for rank, status in enumerate(COMPONENT_STATUSES)}


def worst_status(statuses: Iterable[str]) -> str:
    """Return the most severe of ``statuses``; an unrecognised word ranks as unknown.

    Unknown outranks nothing and is outranked by nothing we understand, so a
    single odd value never hides a real outage reported beside it.
    """
    known = [s for s in statuses if s in _SEVERITY]
    if known:
        return max(known, key=_SEVERITY.__getitem__)
    return UNKNOWN


@dataclass(frozen=True, slots=True)
class AffectedComponent:
    """A component named by an incident update, with its status before and after."""

    name: str
    old_status: str | None = None
    new_status: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    """One posted update of an incident ("Investigating - We are looking into ...")."""

    external_id: str
    status: str
    body: str
    created_at: datetime
    affected: tuple[AffectedComponent, ...] = ()


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """An upstream incident as the vendor describes it; times are aware UTC."""

    external_id: str
    title: str
    status: str
    impact: str | None
    created_at: datetime
    started_at: datetime | None
    resolved_at: datetime | None
    url: str | None
    components: tuple[str, ...] = ()
    updates: tuple[UpdateRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class MaintenanceRecord:
    """A planned (or unplanned) maintenance window."""

    external_id: str
    title: str
    status: str
    impact: str | None
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    url: str | None
    components: tuple[str, ...] = ()
    updates: tuple[UpdateRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class ComponentState:
    """A component's status as one payload reports it (already worst-of duplicates)."""

    name: str
    status: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one poll learned about a source.

    ``components`` is None when the payload says nothing about component
    health (a history feed), which is different from "no components".
    """

    incidents: tuple[IncidentRecord, ...] = ()
    maintenances: tuple[MaintenanceRecord, ...] = ()
    components: tuple[ComponentState, ...] | None = None
    page_name: str | None = None
    page_status: str | None = None
    notes: tuple[str, ...] = field(default=())
    # True when the payload lists every open incident and maintenance (a
    # status API that only shows what is active): one that was open before
    # and is missing now has ended, even though nobody said when.
    lists_all_open: bool = False


def merge_component_states(states: Iterable[ComponentState]) -> tuple[ComponentState, ...]:
    """Collapse components listed more than once under one name into their worst status.

    Vendors list one component per region under the same name; for "is the
    API up?" the worst region is the honest answer. Order of first mention is kept.
    """
    grouped: dict[str, list[str]] = {}
    for state in states:
        grouped.setdefault(state.name, []).append(state.status)
    return tuple(ComponentState(name, worst_status(found)) for name, found in grouped.items())


def merge_snapshots(snapshots: Iterable[Snapshot]) -> Snapshot:
    """Combine the snapshots of one poll's endpoints into one.

    Incidents listed by two endpoints stay duplicated here; the store keeps
    the freshest copy. Component health comes from whichever payload had it.
    """
    parts = list(snapshots)
    components = [p.components for p in parts if p.components is not None]
    return Snapshot(
        incidents=tuple(i for p in parts for i in p.incidents),
        maintenances=tuple(m for p in parts for m in p.maintenances),
        components=components[-1] if components else None,
        page_name=next((p.page_name for p in parts if p.page_name), None),
        page_status=next((p.page_status for p in parts if p.page_status), None),
        notes=tuple(n for p in parts for n in p.notes),
        lists_all_open=any(p.lists_all_open for p in parts),
    )
