"""Upserts into a real SQLite file: exactly once, appends, transitions only on change."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from monitor.sources import statusio, statuspage
from monitor.sources.records import (
    ComponentState,
    IncidentRecord,
    MaintenanceRecord,
    Snapshot,
    UpdateRecord,
)
from monitor.store import Store
from monitor.store.ingest import apply_snapshot
from monitor.store.models import (
    ComponentStatus,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Maintenance,
    UpdateComponent,
)
from monitor.store.queries import (
    SourceSpec,
    current_component_statuses,
    list_incidents,
    sync_sources,
)
from tests.conftest import fixture_bytes

T0 = datetime(2026, 4, 13, 15, 0, tzinfo=UTC)
TABLES = (
    Incident,
    IncidentUpdate,
    IncidentComponent,
    UpdateComponent,
    ComponentStatus,
    Maintenance,
)


def _source(store: Store, name: str = "github") -> int:
    with store.write() as session, session.begin():
        rows = sync_sources(session, [SourceSpec(name, "statuspage", "https://x.test")], T0)
        return rows[name]


def _apply(store: Store, source_id: int, snapshot: Snapshot, at: datetime = T0, allow=None):
    with store.write() as session, session.begin():
        return apply_snapshot(session, source_id, snapshot, at, allow)


def _counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in TABLES
        }


def _incident(**changes) -> IncidentRecord:
    base = IncidentRecord(
        external_id="inc1",
        title="Elevated errors on login",
        status="investigating",
        impact="major",
        created_at=datetime(2026, 4, 13, 15, 40, tzinfo=UTC),
        started_at=datetime(2026, 4, 13, 15, 40, tzinfo=UTC),
        resolved_at=None,
        url="https://stspg.io/x",
        components=("Login",),
        updates=(
            UpdateRecord(
                "u1", "investigating", "Looking into it", datetime(2026, 4, 13, 15, 40, tzinfo=UTC)
            ),
        ),
    )
    return dataclasses.replace(base, **changes)


def test_it_records_a_real_payload_once_however_often_it_is_applied(store: Store) -> None:
    source_id = _source(store)
    snapshot = statuspage.parse_incidents(fixture_bytes("github/incidents-2026-07-31.json"))

    first = _apply(store, source_id, snapshot)
    after_first = _counts(store)
    repeats = [_apply(store, source_id, snapshot, T0 + timedelta(minutes=n)) for n in range(1, 100)]

    assert first.new_incidents == 50
    assert first.new_updates == 287
    assert after_first["incident"] == 50
    assert after_first["incident_update"] == 287
    assert after_first["update_component"] > 0
    assert all(not r.changed for r in repeats)
    assert _counts(store) == after_first


def test_it_appends_a_new_update_and_records_the_resolution(store: Store) -> None:
    source_id = _source(store)
    _apply(store, source_id, Snapshot(incidents=(_incident(),)))
    resolved_at = datetime(2026, 4, 13, 16, 19, tzinfo=UTC)
    later = _incident(
        status="resolved",
        resolved_at=resolved_at,
        updates=(
            UpdateRecord("u2", "resolved", "Fixed", resolved_at),
            *_incident().updates,
        ),
    )

    stats = _apply(store, source_id, Snapshot(incidents=(later,)), T0 + timedelta(hours=1))

    assert (stats.new_incidents, stats.updated_incidents, stats.new_updates) == (0, 1, 1)
    with store.read() as session:
        ((_, incident),) = list_incidents(session)
        assert incident.status == "resolved"
        assert incident.resolved_at == resolved_at
        assert [u.external_id for u in incident.updates] == ["u2", "u1"]
        assert incident.last_changed_at == T0 + timedelta(hours=1)
        assert incident.first_seen_at == T0


def test_it_returns_aware_utc_times_from_sqlite(sqlite_store: Store) -> None:
    source_id = _source(sqlite_store)
    started = datetime(2026, 4, 13, 17, 31, tzinfo=UTC).astimezone(
        datetime.now(UTC).astimezone().tzinfo
    )
    _apply(sqlite_store, source_id, Snapshot(incidents=(_incident(started_at=started),)))

    with sqlite_store.read() as session:
        incident = session.scalars(select(Incident)).one()
        raw = session.execute(text("SELECT started_at FROM incident")).scalar_one()

    assert incident.started_at == started
    assert incident.started_at.tzinfo is UTC
    assert str(raw).startswith("2026-04-13 17:31:00")


def test_it_refuses_naive_datetimes(store: Store) -> None:
    source_id = _source(store)
    naive = _incident(created_at=datetime(2026, 4, 13, 15, 0))

    with pytest.raises(Exception, match="naive datetime"):
        _apply(store, source_id, Snapshot(incidents=(naive,)))
    assert _counts(store)["incident"] == 0


def test_it_records_component_status_only_when_it_changes(store: Store) -> None:
    source_id = _source(store)

    def health(api: str, login: str) -> Snapshot:
        return Snapshot(components=(ComponentState("API", api), ComponentState("Login", login)))

    changes = [
        _apply(store, source_id, health(*states), T0 + timedelta(minutes=i)).component_changes
        for i, states in enumerate(
            [
                ("operational", "operational"),
                ("operational", "operational"),
                ("operational", "major_outage"),
                ("operational", "major_outage"),
                ("operational", "operational"),
            ]
        )
    ]

    assert changes == [2, 0, 1, 0, 1]
    with store.read() as session:
        assert current_component_statuses(session, source_id) == {
            "API": "operational",
            "Login": "operational",
        }
        login = session.scalars(
            select(ComponentStatus.observed_at).where(ComponentStatus.component == "Login")
        ).all()
    assert login == [T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=4)]


def test_it_ignores_an_unknown_component_state_instead_of_changing_it(store: Store) -> None:
    source_id = _source(store)
    _apply(store, source_id, Snapshot(components=(ComponentState("API", "operational"),)))

    # A feed carries no component health at all: that is not "all operational".
    stats = _apply(store, source_id, Snapshot(components=None), T0 + timedelta(minutes=1))

    assert stats.component_changes == 0


def test_it_records_only_allow_listed_components(store: Store) -> None:
    source_id = _source(store)
    snapshot = statuspage.parse_summary(fixture_bytes("github/summary-2026-07-31.json"))

    stats = _apply(store, source_id, snapshot, allow=["API Requests", "Actions"])

    assert stats.component_changes == 2
    with store.read() as session:
        assert set(current_component_statuses(session, source_id)) == {"API Requests", "Actions"}


def test_it_keeps_the_freshest_copy_when_two_endpoints_list_one_incident(
    store: Store,
) -> None:
    source_id = _source(store)
    stale = _incident()
    fresh = _incident(
        status="monitoring",
        updates=(
            UpdateRecord("u2", "monitoring", "Fix deployed", T0 + timedelta(hours=1)),
            *stale.updates,
        ),
    )

    _apply(store, source_id, Snapshot(incidents=(fresh, stale)))

    with store.read() as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.status == "monitoring"
        assert len(incident.updates) == 2


def test_it_upserts_maintenances_and_merges_their_components(store: Store) -> None:
    source_id = _source(store)
    window = MaintenanceRecord(
        external_id="m1",
        title="DB upgrade",
        status="scheduled",
        impact="maintenance",
        scheduled_for=datetime(2026, 4, 20, 1, tzinfo=UTC),
        scheduled_until=datetime(2026, 4, 20, 3, tzinfo=UTC),
        started_at=None,
        completed_at=None,
        url=None,
        components=("API",),
    )
    started = dataclasses.replace(
        window, status="in_progress", started_at=window.scheduled_for, components=("Login",)
    )

    changes = [
        _apply(store, source_id, Snapshot(maintenances=(m,))).maintenance_changes
        for m in (window, window, started, started)
    ]

    assert changes == [1, 0, 1, 0]
    with store.read() as session:
        row = session.scalars(select(Maintenance)).one()
    assert (row.status, row.components) == ("in_progress", ["API", "Login"])


def test_it_opens_sqlite_in_wal_mode_with_foreign_keys_and_a_busy_timeout(
    sqlite_store: Store,
) -> None:
    with sqlite_store.engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000}


def test_it_lists_incidents_overlapping_a_range_newest_first(store: Store) -> None:
    source_id = _source(store)
    old = _incident(
        external_id="old",
        created_at=T0 - timedelta(days=10),
        started_at=T0 - timedelta(days=10),
        resolved_at=T0 - timedelta(days=9),
        status="resolved",
    )
    long_running = _incident(
        external_id="long", created_at=T0 - timedelta(days=3), started_at=T0 - timedelta(days=3)
    )
    recent = _incident(external_id="recent", created_at=T0, started_at=T0)
    _apply(store, source_id, Snapshot(incidents=(old, long_running, recent)))

    with store.read() as session:
        since_two_days = [
            i.external_id for _, i in list_incidents(session, since=T0 - timedelta(days=2))
        ]
        until_five_days = [
            i.external_id for _, i in list_incidents(session, until=T0 - timedelta(days=5))
        ]
        everything = [i.external_id for _, i in list_incidents(session)]

    assert since_two_days == ["recent", "long"]
    assert until_five_days == ["old"]
    assert everything == ["recent", "long", "old"]


def test_it_does_not_let_a_stale_copy_reopen_a_resolved_incident(store: Store) -> None:
    source_id = _source(store)
    resolved_at = datetime(2026, 4, 13, 16, 19, tzinfo=UTC)
    resolved = _incident(
        status="resolved",
        resolved_at=resolved_at,
        updates=(UpdateRecord("u2", "resolved", "Fixed", resolved_at), *_incident().updates),
    )
    _apply(store, source_id, Snapshot(incidents=(resolved,)))

    # A CDN edge still serving the payload from before the resolution.
    stats = _apply(store, source_id, Snapshot(incidents=(_incident(),)), T0 + timedelta(hours=2))

    assert not stats.changed
    with store.read() as session:
        incident = session.scalars(select(Incident)).one()
    assert (incident.status, incident.resolved_at) == ("resolved", resolved_at)


def test_it_lets_a_new_update_reopen_an_incident(store: Store) -> None:
    source_id = _source(store)
    resolved_at = datetime(2026, 4, 13, 16, 19, tzinfo=UTC)
    first = _incident(
        status="resolved",
        resolved_at=resolved_at,
        updates=(UpdateRecord("u2", "resolved", "Fixed", resolved_at),),
    )
    _apply(store, source_id, Snapshot(incidents=(first,)))
    reopened = _incident(
        status="investigating",
        resolved_at=None,
        updates=(
            UpdateRecord(
                "u3", "investigating", "Errors are back", resolved_at + timedelta(minutes=20)
            ),
            *first.updates,
        ),
    )

    stats = _apply(store, source_id, Snapshot(incidents=(reopened,)), T0 + timedelta(hours=2))

    assert (stats.updated_incidents, stats.new_updates) == (1, 1)
    with store.read() as session:
        incident = session.scalars(select(Incident)).one()
    assert (incident.status, incident.resolved_at) == ("investigating", None)


def test_it_resolves_what_a_status_api_stops_listing_and_says_the_time_is_inferred(
    store: Store,
) -> None:
    source_id = _source(store, "docker")
    during = statusio.parse(
        fixture_bytes("statusio-docker/status-partial-disruption-2021-04-03.json")
    )
    after = statusio.parse(fixture_bytes("statusio-docker/status-operational-2022-04-23.json"))
    later = T0 + timedelta(hours=1)

    _apply(store, source_id, during)
    again = _apply(store, source_id, during, T0 + timedelta(minutes=5))
    closing = _apply(store, source_id, after, later)

    assert not again.changed  # still listed: still open
    assert closing.component_changes > 0
    with store.read() as session:
        ((_, incident),) = list_incidents(session)
    assert incident.title == "Registry Issues"
    assert (incident.status, incident.resolved_at) == ("resolved", later)
    assert incident.updates[0].external_id == "monitor:no-longer-listed"
    assert "the vendor stated no time" in incident.updates[0].body
    assert not _apply(store, source_id, after, later + timedelta(minutes=5)).changed


def test_it_never_closes_incidents_from_a_payload_that_lists_only_some(store: Store) -> None:
    source_id = _source(store)
    _apply(store, source_id, Snapshot(incidents=(_incident(),)))

    # incidents.json lists the last 50, resolved or not: absence means nothing.
    _apply(store, source_id, Snapshot(incidents=()), T0 + timedelta(hours=1))

    with store.read() as session:
        assert session.scalars(select(Incident.resolved_at)).one() is None
