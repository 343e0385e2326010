"""status.io v1 status parser: facts read from real Docker payloads, plus shape errors."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.sources import statusio
from monitor.sources.records import (
    DEGRADED_PERFORMANCE,
    MAJOR_OUTAGE,
    OPERATIONAL,
    PARTIAL_OUTAGE,
    UNDER_MAINTENANCE,
    UNKNOWN,
    AffectedComponent,
    ComponentState,
)

FIXTURES = Path(__file__).parent / "fixtures" / "statusio-docker"
OPERATIONAL_2022 = FIXTURES / "status-operational-2022-04-23.json"
DISRUPTION_2021 = FIXTURES / "status-partial-disruption-2021-04-03.json"

DOCKER_2021_COMPONENTS = (
    "Docker Package Repositories",
    "Docker Package Repositories / AWS",
    "Docker Hub Web",
    "Docker Hub Web / AWS",
    "Docker Hub Registry",
    "Docker Hub Registry / AWS",
    "Docker Hub Automated Builds",
    "Docker Hub Automated Builds / AWS",
    "Docker.com Web",
    "Docker.com Web / AWS",
    "Docker Docs",
    "Docker Docs / AWS",
    "Docker Community Forums",
    "Docker Community Forums / AWS",
    "Docker Support Site",
    "Docker Support Site / AWS",
)


def _payload(result: dict[str, object]) -> bytes:
    return json.dumps({"result": result}).encode()


def _component(name: str, code: object, *container_codes: int) -> dict[str, object]:
    containers = [{"name": f"region{i}", "status_code": c} for i, c in enumerate(container_codes)]
    return {"name": name, "status_code": code, "containers": containers}


# --- real payloads ---------------------------------------------------------


def test_it_reports_every_component_operational_in_the_2022_payload():
    snapshot = statusio.parse(OPERATIONAL_2022.read_bytes())

    assert snapshot.page_status == "Operational"
    assert snapshot.components is not None
    # 10 components, each with one "AWS" container.
    assert len(snapshot.components) == 20
    assert snapshot.components[:2] == (
        ComponentState("Docker Package Repositories", OPERATIONAL),
        ComponentState("Docker Package Repositories / AWS", OPERATIONAL),
    )
    assert "Docker Authentication" in {c.name for c in snapshot.components}
    assert "Docker Authentication / AWS" in {c.name for c in snapshot.components}
    assert "Docker Hub Security Scanning" in {c.name for c in snapshot.components}
    assert {c.status for c in snapshot.components} == {OPERATIONAL}
    assert snapshot.incidents == ()
    assert snapshot.maintenances == ()


def test_it_marks_only_the_registry_as_partially_out_in_the_2021_payload():
    snapshot = statusio.parse(DISRUPTION_2021.read_bytes())

    assert snapshot.page_status == "Partial Service Disruption"
    assert snapshot.components is not None
    # 8 components, each followed by its one "AWS" container.
    assert len(snapshot.components) == 16
    assert tuple(c.name for c in snapshot.components) == DOCKER_2021_COMPONENTS
    statuses = {c.name: c.status for c in snapshot.components}
    assert statuses.pop("Docker Hub Registry") == PARTIAL_OUTAGE
    assert statuses.pop("Docker Hub Registry / AWS") == PARTIAL_OUTAGE
    assert statuses["Docker Hub Web / AWS"] == OPERATIONAL
    assert set(statuses.values()) == {OPERATIONAL}


def test_it_reads_the_open_registry_incident_from_the_2021_payload():
    snapshot = statusio.parse(DISRUPTION_2021.read_bytes())

    assert len(snapshot.incidents) == 1
    incident = snapshot.incidents[0]
    opened = datetime(2021, 4, 3, 15, 21, tzinfo=UTC)
    assert incident.external_id == "606887fcfb9e67053616b5ee"
    assert incident.title == "Registry Issues"
    assert incident.status == "investigating"
    assert incident.impact == "major"
    assert incident.created_at == opened
    assert incident.started_at == opened
    assert incident.resolved_at is None
    assert incident.url is None
    assert incident.components == ("Docker Hub Registry",)

    (update,) = incident.updates
    assert update.body == (
        "We are investigating an increased error rate across registry services. "
        "This may affect docker pull and login."
    )
    assert update.status == "investigating"
    assert update.created_at == opened
    assert update.affected == (AffectedComponent("Docker Hub Registry", None, PARTIAL_OUTAGE),)
    expected_id = hashlib.sha1(b"2021-04-03T15:21:00Z|100|400", usedforsecurity=False).hexdigest()[
        :12
    ]
    assert update.external_id == expected_id


@pytest.mark.parametrize("fixture", [OPERATIONAL_2022, DISRUPTION_2021], ids=lambda p: p.stem)
def test_it_parses_the_same_bytes_to_the_same_snapshot(fixture: Path):
    payload = fixture.read_bytes()

    assert statusio.parse(payload) == statusio.parse(payload)


# --- mapping rules on constructed payloads ---------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (100, OPERATIONAL),
        (200, UNDER_MAINTENANCE),
        (300, DEGRADED_PERFORMANCE),
        (400, PARTIAL_OUTAGE),
        (500, MAJOR_OUTAGE),
        (600, MAJOR_OUTAGE),
        (999, UNKNOWN),
        (None, UNKNOWN),
        ("100", UNKNOWN),
        (True, UNKNOWN),
    ],
)
def test_it_maps_status_io_codes_to_component_health(code: object, expected: str):
    snapshot = statusio.parse(_payload({"status": [_component("API", code)]}))

    assert snapshot.components == (ComponentState("API", expected),)


def test_it_takes_the_worst_of_a_component_its_containers_and_repeats():
    payload = _payload(
        {
            "status": [
                _component("API", 100, 100, 300),
                _component("Web", 100, 100),
                _component("API", 100, 500),
            ]
        }
    )

    snapshot = statusio.parse(payload)

    assert snapshot.components == (
        ComponentState("API", MAJOR_OUTAGE),
        ComponentState("API / region0", MAJOR_OUTAGE),
        ComponentState("API / region1", DEGRADED_PERFORMANCE),
        ComponentState("Web", OPERATIONAL),
        ComponentState("Web / region0", OPERATIONAL),
    )
    assert snapshot.page_status is None


def test_it_reports_each_container_with_its_own_status():
    payload = _payload({"status": [_component("API", 300, 100, 999), _component("Web", 100)]})

    snapshot = statusio.parse(payload)

    assert snapshot.components == (
        ComponentState("API", DEGRADED_PERFORMANCE),
        ComponentState("API / region0", OPERATIONAL),
        ComponentState("API / region1", UNKNOWN),
        ComponentState("Web", OPERATIONAL),
    )


def test_it_treats_null_containers_as_none():
    payload = _payload({"status": [{"name": "API", "status_code": 400, "containers": None}]})

    assert statusio.parse(payload).components == (ComponentState("API", PARTIAL_OUTAGE),)


def test_it_uses_the_newest_message_for_status_and_the_worst_for_impact():
    messages = [
        {"details": "Looking", "state": 100, "status": 500, "datetime": "2024-01-01T10:00:00Z"},
        {"details": "Watching", "state": 300, "status": 300, "datetime": "2024-01-01T12:00:00Z"},
        {"details": "Found it", "state": 200, "status": 400, "datetime": "2024-01-01T11:00:00Z"},
    ]
    incident = {
        "_id": "inc1",
        "name": "Slow API",
        "datetime_open": "2024-01-01T10:00:00Z",
        "messages": messages,
        "components_affected": [{"name": "API"}, {"name": "API"}, {"name": "Web"}],
    }

    (record,) = statusio.parse(_payload({"status": [], "incidents": [incident]})).incidents

    assert record.status == "monitoring"
    assert record.impact == "critical"
    assert record.components == ("API", "Web")
    assert [u.body for u in record.updates] == ["Watching", "Found it", "Looking"]
    assert [u.status for u in record.updates] == ["monitoring", "identified", "investigating"]
    assert record.updates[2].affected[1] == AffectedComponent("Web", None, MAJOR_OUTAGE)
    assert len({u.external_id for u in record.updates}) == 3


def test_it_treats_an_incident_without_messages_as_investigating_with_no_impact():
    incident = {"_id": "inc2", "name": "Odd", "datetime_open": "2024-01-01T10:00:00Z"}

    (record,) = statusio.parse(_payload({"status": [], "incidents": [incident]})).incidents

    assert (record.status, record.impact, record.updates) == ("investigating", "none", ())


def test_it_reads_active_and_upcoming_maintenance():
    maintenance = {
        "active": [
            {
                "_id": "mnt1",
                "name": "DB upgrade",
                "datetime_open": "2024-03-20T01:55:00Z",
                "datetime_planned_start": "2024-03-20T02:00:00Z",
                "datetime_planned_end": "2024-03-20T04:00:00Z",
                "messages": [
                    {
                        "details": "Starting now",
                        "state": 100,
                        "status": 200,
                        "datetime": "2024-03-20T02:00:00Z",
                    },
                ],
                "components_affected": [{"name": "Database", "_id": "c1"}],
            }
        ],
        "upcoming": [
            {
                "_id": "mnt2",
                "name": "Network work",
                "datetime_planned_start": "2024-03-25T02:00:00.000Z",
            }
        ],
    }

    active, upcoming = statusio.parse(
        _payload({"status": [], "maintenance": maintenance})
    ).maintenances

    assert active.external_id == "mnt1"
    assert active.title == "DB upgrade"
    assert active.status == "in_progress"
    assert active.impact == "maintenance"
    assert active.scheduled_for == datetime(2024, 3, 20, 2, tzinfo=UTC)
    assert active.scheduled_until == datetime(2024, 3, 20, 4, tzinfo=UTC)
    assert active.started_at == datetime(2024, 3, 20, 1, 55, tzinfo=UTC)
    assert active.completed_at is None
    assert active.components == ("Database",)
    (update,) = active.updates
    assert update.body == "Starting now"
    assert update.status == "in_progress"
    assert update.affected == (AffectedComponent("Database", None, UNDER_MAINTENANCE),)

    assert upcoming.external_id == "mnt2"
    assert upcoming.status == "scheduled"
    assert upcoming.scheduled_for == datetime(2024, 3, 25, 2, tzinfo=UTC)
    assert upcoming.scheduled_until is None
    assert upcoming.started_at is None
    assert upcoming.components == ()
    assert upcoming.updates == ()


def test_it_starts_active_maintenance_at_the_planned_start_when_not_opened():
    window = {"_id": "m", "name": "Patch", "datetime_planned_start": "2024-03-20T02:00:00Z"}

    (record,) = statusio.parse(
        _payload({"status": [], "maintenance": {"active": [window]}})
    ).maintenances

    assert record.started_at == datetime(2024, 3, 20, 2, tzinfo=UTC)


# --- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty response body"),
        (b"  \n", "empty response body"),
        (
            b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
            "expected JSON, got an HTML page: "
            "'<!DOCTYPE html><html><body>502 Bad Gateway</body></html>'",
        ),
        (
            b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "expected JSON, got an HTML page: '502 Bad Gateway'",
        ),
        (b"Service Unavailable", "invalid JSON: Expecting value at byte 0"),
        (b'{"result": "\xc3\x28"}', "response is not UTF-8 text: invalid continuation byte"),
        (b"[1, 2]", "$: expected an object, got an array"),
        (b'{"status": {}}', "$: missing key 'result'"),
        (b'{"result": null}', "$.result: expected an object, got null"),
        (b'{"result": {}}', "$.result: missing key 'status'"),
        (b'{"result": {"status": null}}', "$.result.status: expected an array, got null"),
        (b'{"result": {"status": {}}}', "$.result.status: expected an array, got an object"),
        (
            b'{"result": {"status": ["API"]}}',
            "$.result.status[0]: expected an object, got string 'API'",
        ),
        (
            b'{"result": {"status": [{"name": " "}]}}',
            "$.result.status[0].name: expected a non-empty string, got ' '",
        ),
        (
            b'{"result": {"status": [{"name": "API", "containers": [{"name": ""}]}]}}',
            "$.result.status[0].containers[0].name: expected a non-empty string, got ''",
        ),
        (
            b'{"result": {"status": [], "status_overall": "ok"}}',
            "$.result.status_overall: expected an object, got string 'ok'",
        ),
        (
            b'{"result": {"status": [], "maintenance": {"upcoming": [{"name": "x"}]}}}',
            "$.result.maintenance.upcoming[0]: missing key '_id'",
        ),
    ],
)
def test_it_rejects_a_payload_that_is_not_a_status_response(payload: bytes, reason: str):
    with pytest.raises(ParseError) as caught:
        statusio.parse(payload)

    assert caught.value.reason.startswith(reason)
    assert "\n" not in caught.value.reason


def test_it_says_invalid_json_when_the_real_payload_is_truncated():
    payload = DISRUPTION_2021.read_bytes()[:1000]

    with pytest.raises(ParseError, match=r"^invalid JSON \(truncated\?\): "):
        statusio.parse(payload)


def test_it_names_the_component_without_a_name():
    document = json.loads(OPERATIONAL_2022.read_bytes())
    del document["result"]["status"][3]["name"]

    with pytest.raises(ParseError, match=r"^\$\.result\.status\[3\]: missing key 'name'$"):
        statusio.parse(json.dumps(document).encode())


def test_it_names_the_bad_timestamp():
    document = json.loads(DISRUPTION_2021.read_bytes())
    document["result"]["incidents"][0]["messages"][0]["datetime"] = "yesterday"

    with pytest.raises(ParseError) as caught:
        statusio.parse(json.dumps(document).encode())

    assert caught.value.reason == (
        "$.result.incidents[0].messages[0].datetime: expected an ISO 8601 time, got 'yesterday'"
    )


def test_it_quotes_a_blank_name_briefly_however_long_it_is():
    payload = b'{"result": {"status": [{"name": "' + b" " * 10_000 + b'"}]}}'

    with pytest.raises(ParseError) as caught:
        statusio.parse(payload)

    assert caught.value.reason == (
        "$.result.status[0].name: expected a non-empty string, got '" + " " * 40 + "'…"
    )
