"""The back-off rules as tables: what a Retry-After means, how the delay grows, what backs off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.failures import Failure
from monitor.polling.backoff import (
    MAX_RETRY_AFTER,
    backoff_delay,
    default_cap,
    parse_retry_after,
    should_back_off,
)

NOW = datetime(2026, 11, 23, 6, 39, 0, tzinfo=UTC)
S = timedelta(seconds=1)
M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # delta-seconds
        ("120", 120 * S),
        ("0", timedelta(0)),
        ("  30 ", 30 * S),
        ("007", 7 * S),
        # HTTP-date, in the three forms RFC 9110 says to accept
        ("Mon, 23 Nov 2026 06:41:00 GMT", 2 * M),
        ("Monday, 23-Nov-26 06:41:00 GMT", 2 * M),
        ("Mon Nov 23 06:41:00 2026", 2 * M),
        ("Mon, 23 Nov 2026 06:39:00 GMT", timedelta(0)),
        # nothing usable
        (None, None),
        ("", None),
        ("soon", None),
        ("1.5", None),
        ("-5", None),
        ("+5", None),
        ("٣", None),  # an Arabic-Indic digit: isdigit() says yes, HTTP says no
        ("Mon, 23 Nov 2026 06:38:59 GMT", None),  # in the past
        ("Mon, 32 Nov 2026 06:41:00 GMT", None),
        # absurd values are capped
        ("86401", MAX_RETRY_AFTER),
        ("9" * 5000, MAX_RETRY_AFTER),  # longer than int() will parse
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
    ],
)
def test_it_reads_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("interval", "failures", "retry_after", "expected"),
    [
        # the first failure waits one interval, then it doubles
        (5 * M, 1, None, 5 * M),
        (5 * M, 2, None, 10 * M),
        (5 * M, 3, None, 20 * M),
        (5 * M, 4, None, 40 * M),
        # up to the cap: an hour at ordinary intervals
        (5 * M, 5, None, 60 * M),
        (5 * M, 50, None, 60 * M),
        (5 * M, 10_000, None, 60 * M),  # no overflow however long the streak
        # six intervals for a source polled rarely
        (30 * M, 4, None, 3 * 60 * M),
        (timedelta(days=1), 10_000, None, timedelta(days=6)),
        # never below the interval
        (5 * M, 0, None, 5 * M),
        (5 * M, -3, None, 5 * M),
        (5 * M, 1, 30 * S, 5 * M),
        # a longer Retry-After wins, even past the cap
        (1 * M, 1, 120 * S, 2 * M),
        (5 * M, 2, 15 * M, 15 * M),
        (5 * M, 9, 3 * 60 * M, 3 * 60 * M),
        (5 * M, 3, 10 * M, 20 * M),
    ],
)
def test_it_grows_the_delay_and_bounds_it(
    interval: timedelta, failures: int, retry_after: timedelta | None, expected: timedelta
) -> None:
    assert backoff_delay(interval, failures, retry_after) == expected


def test_it_takes_an_explicit_cap_but_never_goes_below_the_interval() -> None:
    assert backoff_delay(M, 10, cap=5 * M) == 5 * M
    assert backoff_delay(10 * M, 10, cap=5 * M) == 10 * M


def test_the_default_cap_is_an_hour_or_six_intervals() -> None:
    assert default_cap(30 * S) == timedelta(hours=1)
    assert default_cap(10 * M) == timedelta(hours=1)
    assert default_cap(20 * M) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("http_status", "failure_class", "expected"),
    [
        (429, None, True),
        (500, None, True),
        (502, None, True),
        (503, None, True),
        (599, None, True),
        (404, None, False),  # a wrong URL: a config problem
        (401, None, False),
        (403, None, False),
        (410, None, False),
        (200, None, False),  # answered, but did not parse
        (None, None, False),
        (None, Failure.CONNECT_TIMEOUT, True),
        (None, Failure.TIMEOUT, True),
        (200, Failure.TIMEOUT, True),  # answered, then stalled mid-body
        (None, Failure.CONNECT_REFUSED, True),
        (None, Failure.CONNECTION_RESET, True),
        (None, Failure.DNS_FAILURE, False),  # our side: waiting fixes nothing
        (None, Failure.TLS_ERROR, False),
        (None, Failure.NETWORK_UNREACHABLE, False),
        (None, Failure.PROTOCOL_ERROR, False),
    ],
)
def test_it_backs_off_on_an_overloaded_vendor_only(
    http_status: int | None, failure_class: str | None, expected: bool
) -> None:
    assert should_back_off(http_status, failure_class) is expected


def test_it_treats_a_back_off_ending_within_the_jitter_as_over() -> None:
    from datetime import timedelta

    from monitor.polling.backoff import jitter_for

    # A 30 s check may fire up to 3 s early; a 5 min source up to 30 s.
    assert jitter_for(timedelta(seconds=30)) == 3.0
    assert jitter_for(timedelta(minutes=5)) == 30.0
