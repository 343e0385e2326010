"""Tests for monitor.times and monitor.configtypes: the durations and sizes people write."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.configtypes import parse_size
from monitor.times import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("500ms", timedelta(milliseconds=500)),
        ("1.5m", timedelta(seconds=90)),
        ("0.5s", timedelta(milliseconds=500)),
        ("0s", timedelta(0)),
        (" 10 s ", timedelta(seconds=10)),
    ],
)
def test_it_parses_a_duration_written_with_a_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["5", "m5", "-1s", "", "5 years", "5x", "5M", "s", "five minutes", "1,5m"],
)
def test_it_rejects_a_duration_it_cannot_read_and_says_what_it_accepts(text):
    with pytest.raises(ValueError, match=r"^expected a duration such as") as caught:
        parse_duration(text)
    assert str(caught.value) == (
        f"expected a duration such as '30s', '5m', '1h' or '7d', got {text!r}"
    )


@pytest.mark.parametrize(
    "text", ["9999999999d", pytest.param("9" * 400 + "s", id="400-digit-seconds")]
)
def test_it_rejects_a_duration_too_large_to_represent_with_a_value_error(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0B", 0),
        ("512B", 512),
        ("512KB", 512_000),
        ("5MB", 5_000_000),
        ("1GB", 1_000_000_000),
        ("1KiB", 1024),
        ("2MiB", 2 * 1024 * 1024),
        ("1GiB", 1024**3),
        ("1.5KB", 1500),
        ("5mb", 5_000_000),
        (" 5 MB ", 5_000_000),
    ],
)
def test_it_parses_a_size_into_bytes(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["5", "MB", "-5MB", "", "5 megabytes", "5TB", "5 M"])
def test_it_rejects_a_size_it_cannot_read_and_says_what_it_accepts(text):
    with pytest.raises(ValueError, match=r"^expected a size") as caught:
        parse_size(text)
    assert str(caught.value) == f"expected a size such as '512KB' or '5MB', got {text!r}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(seconds=90), "1m30s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(hours=1), "1h"),
        (timedelta(days=7), "7d"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1d2h3m4s"),
        (timedelta(hours=1, seconds=1), "1h1s"),
        (timedelta(milliseconds=500), "500ms"),
    ],
)
def test_it_formats_a_duration_the_way_a_user_would_write_it(value, expected):
    assert format_duration(value) == expected


@pytest.mark.parametrize("text", ["30s", "5m", "1h", "7d", "500ms"])
def test_it_formats_a_parsed_duration_back_to_what_was_written(text):
    assert format_duration(parse_duration(text)) == text
