"""Tests for monitor.times: the times users type for --since, --until and --at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from monitor.times import parse_time, zone

NOW = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
FORMS = "'2026-04-14T10:00:00Z', '2026-04-14 10:00' (local time), '2026-04-14', 'now' or '2h ago'"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-14T10:00:00Z", utc(2026, 4, 14, 10)),
        ("2026-04-14T10:00:00z", utc(2026, 4, 14, 10)),
        ("2026-04-14 10:00Z", utc(2026, 4, 14, 10)),
        ("2026-04-14T10:00:00+00:00", utc(2026, 4, 14, 10)),
        ("2026-04-14T10:00:00+02:00", utc(2026, 4, 14, 8)),
        ("2026-04-14T10:00:00-05:30", utc(2026, 4, 14, 15, 30)),
        ("2026-04-14T00:30:00+01:00", utc(2026, 4, 13, 23, 30)),
        ("  2026-04-14T10:00:00Z  ", utc(2026, 4, 14, 10)),
    ],
)
def test_it_reads_iso_times_with_z_or_an_offset_as_aware_utc(text, expected):
    parsed = parse_time(text, now=NOW, tz=BERLIN)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-14 10:00", utc(2026, 4, 14, 8)),  # CEST, UTC+2
        ("2026-01-14 10:00", utc(2026, 1, 14, 9)),  # CET, UTC+1
        ("2026-04-14T10:00:00", utc(2026, 4, 14, 8)),
        ("2026-04-14", utc(2026, 4, 13, 22)),  # a bare date is local midnight
    ],
)
def test_it_reads_a_time_without_an_offset_in_the_given_zone(text, expected):
    parsed = parse_time(text, now=NOW, tz=BERLIN)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_it_reads_a_bare_date_as_midnight_in_the_given_zone():
    assert parse_time("2026-04-14", now=NOW, tz=UTC) == utc(2026, 4, 14)


@pytest.mark.parametrize("text", ["now", "NOW", " now "])
def test_it_reads_now_as_the_given_now(text):
    parsed = parse_time(text, now=NOW)
    assert parsed == NOW
    assert parsed.tzinfo is UTC


def test_it_returns_now_in_utc_when_now_has_another_offset():
    now = datetime(2026, 4, 14, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    parsed = parse_time("now", now=now)
    assert parsed == utc(2026, 4, 14, 12)
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h ago", utc(2026, 4, 14, 10)),
        ("90m ago", utc(2026, 4, 14, 10, 30)),
        ("7d ago", utc(2026, 4, 7, 12)),
        ("2 h ago", utc(2026, 4, 14, 10)),
        ("30s AGO", utc(2026, 4, 14, 11, 59) + timedelta(seconds=30)),
    ],
)
def test_it_reads_an_ago_offset_relative_to_the_given_now(text, expected):
    parsed = parse_time(text, now=NOW)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["garbage", "", "yesterday", "ago", "5x ago", "2026-13-01", "in 2h", "2h from now"]
)
def test_it_rejects_text_it_cannot_read_and_lists_the_accepted_forms(text):
    with pytest.raises(ValueError, match="cannot read") as caught:
        parse_time(text, now=NOW, tz=BERLIN)
    assert str(caught.value) == f"cannot read {text!r} as a time; use {FORMS}"


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "America/New_York"])
def test_it_resolves_an_iana_zone_name(name):
    assert zone(name) == ZoneInfo(name)


@pytest.mark.parametrize("name", ["Nowhere/City", "", "../etc/passwd", "Berlin"])
def test_it_rejects_an_unknown_zone_and_suggests_an_iana_name(name):
    with pytest.raises(ValueError, match="unknown time zone") as caught:
        zone(name)
    assert str(caught.value) == (
        f"unknown time zone {name!r}; use an IANA name like 'Europe/Berlin' or 'UTC'"
    )


def test_it_means_the_local_zone_when_no_zone_is_given():
    assert zone(None) is None


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:10Z", "9999-12-31T23:59Z", "1969-12-31T23:59Z", "1000000d ago"]
)
def test_it_refuses_times_no_monitor_can_have_data_for(text):
    with pytest.raises(ValueError, match=r"out of range|too far back"):
        parse_time(text, now=datetime(2026, 4, 14, tzinfo=UTC))
