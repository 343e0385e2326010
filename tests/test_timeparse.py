"""Tests for monitor.times: the times users type for --since, --until and --at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.times import UNTIL_AHEAD, parse_log_time, parse_time, zone
from monitor.views.params import ParamError, bounds_param
from tests.fuzzing import fuzz

NOW = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
FORMS = (
    "'2026-04-14 10:00' or '14 Apr 2026 9:45' (local time), '10:00', 'yesterday 15:30', "
    "'2026-04-14', 'now', '2h ago' or '2026-04-14T10:00:00Z'"
)


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
    "text",
    [
        "garbage",
        "",
        "ago",
        "5x ago",
        "2026-13-01",
        "in 2h",
        "2h from now",
        "tomorrow",
        "24:00",
        "9:60",
        "10",
        "10:0",
        "yesterday 25:00",
        "yesterdays",
        "14 Foo 2026",
        "14 Ap 2026",
        "Apr 14",
        "2026-04-14 10:00 +25:00",
        "10:00 +2",
    ],
)
def test_it_rejects_text_it_cannot_read_and_lists_the_accepted_forms(text):
    with pytest.raises(ValueError, match="cannot read") as caught:
        parse_time(text, now=NOW, tz=BERLIN)
    assert str(caught.value) == f"cannot read {text!r} as a time; use {FORMS}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-29", "'2026-02-29': no such day (February 2026 has 28 days)"),
        ("2024-02-30 10:00", "'2024-02-30 10:00': no such day (February 2024 has 29 days)"),
        ("31 Apr 2026", "'31 Apr 2026': no such day (April 2026 has 30 days)"),
        ("Sep 31, 2026 9:00", "'Sep 31, 2026 9:00': no such day (September 2026 has 30 days)"),
        ("2026-12-32", "'2026-12-32': no such day (December 2026 has 31 days)"),
    ],
)
def test_it_says_a_date_its_month_lacks_is_no_such_day(text, message):
    with pytest.raises(ValueError, match="no such day") as caught:
        parse_time(text, now=NOW, tz=BERLIN)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-14T10:00:00Z", utc(2026, 4, 14, 10)),
        ("2026-04-14 10:00:00+02:00", utc(2026, 4, 14, 8)),
        ("2026-04-14 12:00", utc(2026, 4, 14, 10)),  # in the zone given
        ("14 Apr 2026 12:00", utc(2026, 4, 14, 10)),
    ],
)
def test_a_log_time_is_read_in_its_absolute_forms(text, expected):
    assert parse_log_time(text, tz=BERLIN) == expected


@pytest.mark.parametrize("text", ["now", "10:00", "10:00:05", "yesterday", "today 9:00", "3h ago"])
def test_a_log_time_is_never_read_relative_to_the_clock_of_the_import(text):
    with pytest.raises(ValueError, match="must be absolute") as caught:
        parse_log_time(text, tz=BERLIN)
    assert str(caught.value) == (
        f"cannot read {text!r} as a time; a log's times must be absolute, such as "
        "'2026-04-14T09:41:07Z' or '14 Apr 2026 9:41'"
    )


def test_a_log_time_on_a_day_its_month_lacks_says_so():
    with pytest.raises(ValueError, match=r"^'2026-02-29T10:00:00Z': no such day \(February"):
        parse_log_time("2026-02-29T10:00:00Z", tz=UTC)


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


# -- what people type --------------------------------------------------------------
# NOW is 14:00 in Berlin (CEST, UTC+2).


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-14 9:45", utc(2026, 4, 14, 7, 45)),
        ("2026-04-14T9:45", utc(2026, 4, 14, 7, 45)),
        ("2026-4-7 9:45", utc(2026, 4, 7, 7, 45)),
        ("2026-04-14 09:45:30", utc(2026, 4, 14, 7, 45) + timedelta(seconds=30)),
        ("2026-04-14 9:45 UTC", utc(2026, 4, 14, 9, 45)),
        ("2026-04-14 9:45 +0530", utc(2026, 4, 14, 4, 15)),
        ("14 Apr 2026 10:00", utc(2026, 4, 14, 8)),
        ("14 apr 2026 9:05", utc(2026, 4, 14, 7, 5)),
        ("14 April 2026", utc(2026, 4, 13, 22)),
        ("14 Apr. 2026, 10:00", utc(2026, 4, 14, 8)),
        ("1 Sept 2026 10:00", utc(2026, 9, 1, 8)),
        ("Apr 14 2026 10:00", utc(2026, 4, 14, 8)),
        ("April 14, 2026 at 10:00", utc(2026, 4, 14, 8)),
        ("Apr 14 2026 10:00:00 GMT", utc(2026, 4, 14, 10)),
        ("14 Jan 2026 10:00", utc(2026, 1, 14, 9)),  # CET, UTC+1
        ("today", utc(2026, 4, 13, 22)),
        ("today 9:30", utc(2026, 4, 14, 7, 30)),
        ("yesterday", utc(2026, 4, 12, 22)),
        ("Yesterday 15:30", utc(2026, 4, 13, 13, 30)),
        ("yesterday at 15:30", utc(2026, 4, 13, 13, 30)),
        ("10:00", utc(2026, 4, 14, 8)),
        ("9:45", utc(2026, 4, 14, 7, 45)),
        ("0:00", utc(2026, 4, 13, 22)),
        ("13:59:59", utc(2026, 4, 14, 11, 59) + timedelta(seconds=59)),
        ("10:00Z", utc(2026, 4, 14, 10)),
        ("20260414T1000", utc(2026, 4, 14, 8)),  # compact ISO, as Python reads it
    ],
)
def test_it_reads_the_times_people_type_in_the_given_zone(text, expected):
    parsed = parse_time(text, now=NOW, tz=BERLIN)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:00", utc(2026, 4, 14, 12)),  # now itself
        ("14:01", utc(2026, 4, 13, 12, 1)),  # a minute ahead: the last 14:01 was yesterday
        ("15:40", utc(2026, 4, 13, 13, 40)),  # `why --at 15:40` asked at 14:00: yesterday's
        ("23:00", utc(2026, 4, 13, 21)),  # last night
        ("today 23:00", utc(2026, 4, 14, 21)),  # said outright: today's, even ahead
    ],
)
def test_it_reads_a_bare_time_of_day_as_the_last_time_the_clock_showed_it(text, expected):
    assert parse_time(text, now=NOW, tz=BERLIN) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15:00", utc(2026, 4, 14, 13)),  # an hour ahead: an --until just ahead is today's
        ("15:01", utc(2026, 4, 13, 13, 1)),  # further: the last 15:01 was yesterday
        ("23:00", utc(2026, 4, 13, 21)),
        ("14:00", utc(2026, 4, 14, 12)),
    ],
)
def test_it_reads_a_bare_time_up_to_the_look_ahead_given(text, expected):
    assert parse_time(text, now=NOW, tz=BERLIN, ahead=UNTIL_AHEAD) == expected


def test_it_reads_a_bare_time_just_past_midnight_as_tomorrows_only_with_a_look_ahead():
    late = utc(2026, 4, 14, 21, 30)  # 23:30 in Berlin
    assert parse_time("0:15", now=late, tz=BERLIN) == utc(2026, 4, 13, 22, 15)
    assert parse_time("0:15", now=late, tz=BERLIN, ahead=UNTIL_AHEAD) == utc(2026, 4, 14, 22, 15)
    assert parse_time("0:45", now=late, tz=BERLIN, ahead=UNTIL_AHEAD) == utc(2026, 4, 13, 22, 45)


def test_it_takes_today_in_the_given_zone_not_in_utc():
    # 00:30 on 15 April in Berlin is still 14 April in UTC.
    now = utc(2026, 4, 14, 22, 30)
    assert parse_time("0:30", now=now, tz=BERLIN) == utc(2026, 4, 14, 22, 30)
    assert parse_time("0:15", now=now, tz=BERLIN) == utc(2026, 4, 14, 22, 15)
    assert parse_time("yesterday 12:00", now=now, tz=BERLIN) == utc(2026, 4, 14, 10)
    assert parse_time("23:45", now=now, tz=BERLIN) == utc(2026, 4, 14, 21, 45)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Clocks jump from 02:00 to 03:00: 02:30 is read with the winter offset
        # in force before the jump (PEP 495, fold=0), so it is 03:30 summer time.
        ("2026-03-29 2:30", utc(2026, 3, 29, 1, 30)),
        # Clocks go back from 03:00 to 02:00: 02:30 happens twice; it is the first one.
        ("2026-10-25 2:30", utc(2026, 10, 25, 0, 30)),
        ("25 Oct 2026 2:30", utc(2026, 10, 25, 0, 30)),
        # An offset given says which one.
        ("2026-10-25 2:30 +0100", utc(2026, 10, 25, 1, 30)),
    ],
)
def test_it_reads_a_wall_time_the_clocks_skip_or_repeat_by_zoneinfos_fold_0(text, expected):
    assert parse_time(text, now=NOW, tz=BERLIN) == expected


def test_it_reads_a_skipped_wall_time_in_the_machines_zone_as_in_the_same_zone_given(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    for text in ("2026-03-29 2:30", "2026-10-25 2:30", "yesterday 2:30", "10:00"):
        assert parse_time(text, now=NOW) == parse_time(text, now=NOW, tz=BERLIN), text


# -- every accepted form reads back the moment it was written from ------------------

SHAPES: dict[str, Callable[[datetime], str]] = {
    "iso": lambda d: d.strftime("%Y-%m-%dT%H:%M:%S"),
    "single digits": lambda d: f"{d.year}-{d.month}-{d.day} {d.hour}:{d:%M:%S}",
    "day month": lambda d: f"{d.day} {d:%b} {d.year} {d.hour}:{d:%M:%S}",
    "day full month": lambda d: f"{d.day} {d:%B} {d.year}, {d:%H:%M:%S}",
    "month day": lambda d: f"{d:%b} {d.day} {d.year} {d.hour}:{d:%M:%S}",
    "month day comma": lambda d: f"{d:%B} {d.day}, {d.year} at {d:%H:%M:%S}",
}
MOMENTS = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 30)).map(
    lambda d: d.replace(microsecond=0)
)


@fuzz()
@given(moment=MOMENTS, shape=st.sampled_from(sorted(SHAPES)))
def test_any_moment_written_in_an_accepted_form_reads_back_as_itself(moment, shape):
    text = SHAPES[shape](moment)
    assert parse_time(text, now=NOW, tz=UTC) == moment.replace(tzinfo=UTC)
    with_zone = f"{text}Z" if shape == "iso" else f"{text} UTC"
    assert parse_time(with_zone, now=NOW, tz=BERLIN) == moment.replace(tzinfo=UTC)


@fuzz()
@given(moment=MOMENTS, shape=st.sampled_from(sorted(SHAPES)))
def test_a_wall_time_in_a_zone_with_summer_time_reads_as_fold_0_says(moment, shape):
    expected = moment.replace(tzinfo=BERLIN, fold=0).astimezone(UTC)
    assert parse_time(SHAPES[shape](moment), now=NOW, tz=BERLIN) == expected


@fuzz()
@given(
    now=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2998, 1, 1)),
    back=st.integers(min_value=-60, max_value=23 * 60 - 1),
    zone_offset=st.sampled_from((UTC, timezone(timedelta(hours=5, minutes=30)))),
    ahead=st.sampled_from((timedelta(0), UNTIL_AHEAD)),
)
def test_a_bare_time_is_the_latest_one_up_to_the_look_ahead_from_now(now, back, zone_offset, ahead):
    now = now.replace(tzinfo=zone_offset)
    moment = (now - timedelta(minutes=back)).replace(second=0, microsecond=0)
    if moment > now + ahead:  # ahead of what may be meant: the day before is
        moment -= timedelta(days=1)
    for text in (f"{moment.hour}:{moment:%M}", f"{moment:%H:%M}"):
        parsed = parse_time(text, now=now, tz=zone_offset, ahead=ahead)
        assert parsed == moment
        assert parsed <= now + ahead


# -- a range: --since and --until together ------------------------------------------


def test_a_range_of_bare_times_reads_each_as_the_last_one_the_clock_showed() -> None:
    # Asked at 12:00: 23:00 was last night, 1:00 this morning.
    assert bounds_param("23:00", "1:00", UTC, now=NOW) == (
        datetime(2026, 4, 13, 23, 0, tzinfo=UTC),
        datetime(2026, 4, 14, 1, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("since", "until", "read_as"),
    [
        # 12:30 is still to come, so it was yesterday's: a silent 23½ hours.
        ("12:30", "11:00", "read as 2026-04-13 12:30Z and --until '11:00' as 2026-04-14 11:00Z"),
        ("13:00", "now", "read as 2026-04-13 13:00Z and --until 'now' as 2026-04-14 12:00Z"),
    ],
)
def test_a_bare_time_that_makes_a_span_over_half_a_day_is_refused_saying_how_it_was_read(
    since: str, until: str, read_as: str
) -> None:
    with pytest.raises(ParamError) as refused:
        bounds_param(since, until, UTC, now=NOW)
    assert read_as in refused.value.message
    assert "give a date, e.g. 'yesterday 9:30'" in refused.value.message


def test_a_long_span_given_with_dates_is_kept() -> None:
    assert bounds_param("yesterday 12:30", "11:00", UTC, now=NOW) == (
        datetime(2026, 4, 13, 12, 30, tzinfo=UTC),
        datetime(2026, 4, 14, 11, 0, tzinfo=UTC),
    )


def test_until_before_since_is_refused() -> None:
    with pytest.raises(ParamError, match="--until is before --since"):
        bounds_param("2026-04-14 10:00", "2026-04-14 9:00", UTC, now=NOW)
