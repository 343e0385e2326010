"""Statuspage v2 JSON parsing, asserted against real vendor payloads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.errors import ParseError
from monitor.sources import statuspage
from monitor.sources.records import (
    DEGRADED_PERFORMANCE,
    MAJOR_OUTAGE,
    OPERATIONAL,
    PARTIAL_OUTAGE,
    AffectedComponent,
)
from tests.conftest import fixture_bytes

GITHUB_INCIDENTS = "github/incidents-2026-07-31.json"
GITHUB_SUMMARY = "github/summary-2026-07-31.json"
GITHUB_ACTIONS = "github/incident-8vfyvq16hzh9-actions-critical.json"
CLAUDE = "claude/incidents-trimmed-2026-06.json"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_it_reads_all_fifty_github_incidents_and_their_updates() -> None:
    snapshot = statuspage.parse_incidents(fixture_bytes(GITHUB_INCIDENTS))

    assert len(snapshot.incidents) == 50
    assert sum(len(i.updates) for i in snapshot.incidents) == 287
    assert snapshot.maintenances == ()
    assert snapshot.components is None  # incidents.json says nothing about current health
    assert snapshot.page_name == "GitHub"
    impacts = sorted({i.impact for i in snapshot.incidents if i.impact})
    assert impacts == ["critical", "major", "minor", "none"]
    assert {i.status for i in snapshot.incidents} == {"resolved"}


def test_it_keeps_the_fields_of_the_newest_github_incident() -> None:
    newest = statuspage.parse_incidents(fixture_bytes(GITHUB_INCIDENTS)).incidents[0]

    assert newest.external_id == "9tpgqq1h4bs7"
    assert newest.title == "Copilot model Claude Fable 5 experiencing elevated errors"
    assert newest.impact == "minor"
    assert newest.created_at == datetime(2026, 7, 30, 9, 7, 42, 419000, tzinfo=UTC)
    assert newest.started_at == datetime(2026, 7, 30, 9, 7, 42, 413000, tzinfo=UTC)
    assert newest.resolved_at == datetime(2026, 7, 30, 10, 12, 15, 489000, tzinfo=UTC)
    assert newest.url == "https://stspg.io/45g8r57kv3n9"
    assert newest.components == ("Copilot AI Model Providers",)
    resolved = newest.updates[0]
    assert resolved.external_id == "7f4jmtk5hldk"
    assert resolved.status == "resolved"
    assert resolved.body.startswith("This incident has been resolved.")
    assert resolved.affected == (
        AffectedComponent("Copilot AI Model Providers", DEGRADED_PERFORMANCE, OPERATIONAL),
    )


def test_it_reads_the_oldest_github_incident() -> None:
    oldest = statuspage.parse_incidents(fixture_bytes(GITHUB_INCIDENTS)).incidents[-1]

    assert oldest.title == "Disruption with OpenAI Models"
    assert oldest.created_at == datetime(2026, 5, 28, 19, 1, 0, 375000, tzinfo=UTC)


def test_it_parses_a_single_critical_actions_incident_with_its_timeline() -> None:
    incident = statuspage.parse_incident(fixture_bytes(GITHUB_ACTIONS))

    assert incident.external_id == "8vfyvq16hzh9"
    assert incident.title == "Incident with GitHub Actions"
    assert incident.impact == "critical"
    assert incident.components == ("API Requests", "Issues", "Actions", "Pages")
    assert len(incident.updates) == 18
    assert incident.updates[-1].status == "investigating"
    assert incident.updates[-1].created_at == datetime(2026, 7, 19, 23, 34, 3, 512000, tzinfo=UTC)
    assert incident.updates[0].status == "resolved"
    assert incident.resolved_at == datetime(2026, 7, 20, 4, 44, 3, 85000, tzinfo=UTC)


def test_it_reads_github_component_health_from_the_summary() -> None:
    snapshot = statuspage.parse_summary(fixture_bytes(GITHUB_SUMMARY))

    assert snapshot.components is not None
    names = [c.name for c in snapshot.components]
    assert len(names) == 12
    assert names[:2] == ["Git Operations", "Webhooks"]
    assert "API Requests" in names
    assert {c.status for c in snapshot.components} == {OPERATIONAL}
    assert snapshot.page_status == "All Systems Operational"
    assert snapshot.incidents == ()
    assert snapshot.maintenances == ()


def test_it_reads_trimmed_claude_incidents_without_update_ids() -> None:
    snapshot = statuspage.parse_incidents(fixture_bytes(CLAUDE))

    assert [i.external_id for i in snapshot.incidents] == ["6ptd5skgmy3v", "weird01"]
    opus = snapshot.incidents[0]
    assert opus.title == "Elevated errors on Claude Opus 4.8"
    assert opus.components == ("claude.ai", "Claude API (api.anthropic.com)")
    # The trimmed mirror has no update ids or created_at: display_at and a
    # content hash stand in, stable across parses.
    assert opus.updates[0].created_at == datetime(2026, 6, 6, 19, 5, 27, 178000, tzinfo=UTC)
    assert opus.updates[0].external_id.startswith("sha1:")
    again = statuspage.parse_incidents(fixture_bytes(CLAUDE))
    assert again == snapshot
    assert "18:12–18:55" in opus.updates[0].body


def test_it_routes_maintenance_impact_entries_to_maintenances() -> None:
    snapshot = statuspage.parse_incidents(fixture_bytes(CLAUDE))

    (maintenance,) = snapshot.maintenances
    assert maintenance.external_id == "maint01"
    assert maintenance.status == "in_progress"
    assert maintenance.started_at == utc(2026, 6, 4, 2, 0)
    assert maintenance.components == ("claude.ai",)


def test_it_keeps_unknown_impact_and_status_words_as_given() -> None:
    weird = statuspage.parse_incidents(fixture_bytes(CLAUDE)).incidents[1]

    assert weird.impact == "catastrophic"
    assert weird.updates[0].status == "surprise"


def test_it_reads_open_incidents_and_maintenances_from_a_summary() -> None:
    payload = b"""{
      "page": {"id": "p", "name": "Example"},
      "components": [
        {"name": "API", "status": "operational", "group": false},
        {"name": "API", "status": "partial_outage", "group": false},
        {"name": "EU", "status": "major_outage", "group": true},
        {"name": "Login", "status": "degraded_performance"}
      ],
      "incidents": [{"id": "i1", "name": "Login errors", "status": "investigating",
                     "impact": "major", "created_at": "2026-04-13T15:31:00Z",
                     "resolved_at": null, "incident_updates": []}],
      "scheduled_maintenances": [{"id": "m1", "name": "DB upgrade", "status": "scheduled",
                     "impact": "maintenance", "created_at": "2026-04-10T00:00:00Z",
                     "scheduled_for": "2026-04-20T01:00:00Z",
                     "scheduled_until": "2026-04-20T03:00:00Z", "incident_updates": []}],
      "status": {"indicator": "major", "description": "Partial System Outage"}
    }"""
    snapshot = statuspage.parse_summary(payload)

    assert snapshot.components is not None
    # The same name twice (one per region) counts as its worst; group rows are skipped.
    assert {c.name: c.status for c in snapshot.components} == {
        "API": PARTIAL_OUTAGE,
        "Login": DEGRADED_PERFORMANCE,
    }
    assert MAJOR_OUTAGE not in {c.status for c in snapshot.components}
    assert snapshot.incidents[0].started_at == utc(2026, 4, 13, 15, 31)
    assert snapshot.incidents[0].resolved_at is None
    assert snapshot.maintenances[0].scheduled_until == utc(2026, 4, 20, 3, 0)
    assert snapshot.page_status == "Partial System Outage"


@pytest.mark.parametrize(
    "url",
    [
        "https://status.claude.com",
        "https://status.claude.com/",
        "https://status.claude.com/api/v2/summary.json",
        "https://status.claude.com/api/v2/incidents.json",
    ],
)
def test_it_reduces_any_api_url_to_the_page_root(url: str) -> None:
    assert statuspage.page_root(url) == "https://status.claude.com"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty response body"),
        (
            b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title>",
            "got an HTML page: '502 Bad Gateway'",
        ),
        (b'{"incidents": [{"id": "x"', "invalid JSON (truncated?)"),
        (b'{"page": {}}', "$: missing key 'incidents'"),
        (b'{"incidents": {}}', "$.incidents: expected an array, got an object"),
        (
            b'{"incidents": [{"id": 5, "created_at": "2026-01-01T00:00:00Z"}]}',
            "$.incidents[0].id: expected a string, got number 5",
        ),
        (
            b'{"incidents": [{"id": "a", "name": "n", "status": "s", "created_at": "yesterday"}]}',
            "$.incidents[0].created_at: expected an ISO 8601 time, got 'yesterday'",
        ),
    ],
)
def test_it_refuses_payloads_that_are_not_an_incident_list(payload: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as raised:
        statuspage.parse_incidents(payload)

    assert reason in raised.value.reason


def test_it_refuses_a_truncated_real_payload() -> None:
    payload = fixture_bytes(GITHUB_INCIDENTS)

    with pytest.raises(ParseError, match="truncated"):
        statuspage.parse_incidents(payload[: len(payload) // 3])


# --- Payloads found by fuzzing (tests/test_fuzz_sources.py) -----------------------------

INCIDENT = b'{"incidents": [{"id": "a", "name": "n", "status": "s", "created_at": %s}]}'


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param(
            b"[" * 100_000 + b"]" * 100_000, "invalid JSON: nested too deeply to read", id="deep"
        ),
        pytest.param(
            b'{"incidents": [' + b"7" * 5000 + b"]}",
            "invalid JSON: a number too long to read",
            id="5000-digits",
        ),
        pytest.param(
            INCIDENT % b'"0001-01-01T00:00:00+01:00"',
            "$.incidents[0].created_at: expected an ISO 8601 time, got '0001-01-01T00:00:00+01:00'",
            id="before-year-1-in-utc",
        ),
        pytest.param(
            INCIDENT % b'"9999-12-31T23:59:59-01:00"',
            "$.incidents[0].created_at: expected an ISO 8601 time, got '9999-12-31T23:59:59-01:00'",
            id="after-year-9999-in-utc",
        ),
        pytest.param(
            INCIDENT % b'"\xed\xa0\x80"',
            "response is not UTF-8 text: invalid continuation byte",
            id="utf-8-encoded-surrogate",
        ),
        pytest.param(
            INCIDENT % (b"[" + b"1" * 4000 + b"]"),
            "$.incidents[0].created_at: expected an ISO 8601 time, got an array",
            id="array-named-not-quoted",
        ),
        pytest.param(
            INCIDENT % (b'"' + b"x" * 10_000 + b'"'),
            "$.incidents[0].created_at: expected an ISO 8601 time, got '" + "x" * 40 + "'…",
            id="long-string-quoted-short",
        ),
    ],
)
def test_it_refuses_what_it_cannot_read_with_one_short_line(payload: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as raised:
        statuspage.parse_incidents(payload)

    assert raised.value.reason == reason


def test_it_quotes_a_huge_number_by_its_length() -> None:
    payload = b'{"incidents": [{"id": ' + b"9" * 1000 + b', "created_at": "2026-01-01T00:00Z"}]}'

    with pytest.raises(ParseError) as raised:
        statuspage.parse_incidents(payload)

    assert raised.value.reason == (
        "$.incidents[0].id: expected a string, got number " + "9" * 40 + "… (1000 digits)"
    )


def test_it_reads_an_unpaired_surrogate_escape_as_a_replacement_character() -> None:
    # Python decodes "\ud800" to a lone surrogate that SQLite refuses to store, and
    # an update without an id would have its derived id fail to hash.
    payload = (
        b'{"incidents": [{"id": "a\\ud800", "name": "n", "status": "s",'
        b' "created_at": "2026-01-01T00:00:00Z", "incident_updates": [{"status": "\\udc00",'
        b' "body": "b\\ud83d\\ude00", "created_at": "2026-01-01T00:00:00Z"}]}]}'
    )

    [incident] = statuspage.parse_incidents(payload).incidents

    assert incident.external_id == "a\ufffd"
    assert incident.updates[0].status == "\ufffd"
    assert incident.updates[0].body == "b\U0001f600"  # a paired escape stays one character
