"""Polite polling: when a status page says "not now", ask less often.

Pure functions, no clock reads: the caller passes ``now`` and the failure
count, so every rule here is a table test away from being checked.

The rules, and why:

* Back off on 429 and 5xx, and on a host that did not answer in time, refused
  the connection or dropped it: those are what an overloaded (or down)
  vendor looks like, and asking again at full rate makes it worse.
* Do not back off on other 4xx (a 404 is a wrong URL in the config), on a
  payload that does not parse, or on DNS, TLS and routing failures: the
  vendor is not struggling, waiting longer fixes nothing, and it only hides
  the fix from the user for longer.
* The delay doubles per consecutive failure, starting at the interval, up to
  a cap; a longer ``Retry-After`` wins over the cap, since the vendor asked
  for it explicitly. The delay is never shorter than the interval, so a
  failing source is never polled faster than a healthy one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from monitor.failures import Failure

# A Retry-After further out than this is a vendor bug (or a year-9999 date),
# not a request we can sensibly honour: a day is long enough to be polite
# and short enough that a source is never silently dropped.
MAX_RETRY_AFTER = timedelta(hours=24)

# Without a Retry-After the back-off stops growing here: an hour is the
# longest a vendor's recovery stays hidden from us at ordinary intervals.
DEFAULT_CAP = timedelta(hours=1)

# Sources polled rarely still get room to back off: six missed intervals.
CAP_INTERVALS = 6

# Transport failure classes that look like an overloaded or down vendor.
BACK_OFF_CLASSES = frozenset(
    {Failure.CONNECT_TIMEOUT, Failure.TIMEOUT, Failure.CONNECT_REFUSED, Failure.CONNECTION_RESET}
)

# Past this many doublings every interval is beyond any cap; stop before
# the arithmetic overflows.
_MAX_DOUBLINGS = 60


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """The wait a ``Retry-After`` header asks for (RFC 9110 §10.2.3), or None.

    Either delta-seconds (``120``) or an HTTP-date in any of the three forms
    the RFC tells recipients to accept; a date is measured from ``now``, so
    a poll that started at ``now`` may resume exactly at that date. Junk,
    negative numbers and dates in the past say nothing the interval does not
    already cover, and give None. Values beyond MAX_RETRY_AFTER are capped.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return _capped_seconds(text)
    return _until_date(text, now)


def _capped_seconds(digits: str) -> timedelta:
    """Delta-seconds, compared as text first: ``int()`` refuses very long digit strings."""
    limit = int(MAX_RETRY_AFTER.total_seconds())
    if len(digits.lstrip("0")) > len(str(limit)):
        return MAX_RETRY_AFTER
    return timedelta(seconds=min(int(digits), limit))


def _until_date(text: str, now: datetime) -> timedelta | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # the asctime form has no zone; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    delay = when - now
    if delay < timedelta(0):
        return None
    return min(delay, MAX_RETRY_AFTER)


def default_cap(interval: timedelta) -> timedelta:
    """The back-off ceiling: an hour, or six intervals for a source polled less often."""
    return max(DEFAULT_CAP, interval * CAP_INTERVALS)


def backoff_delay(
    interval: timedelta,
    failures: int,
    retry_after: timedelta | None = None,
    *,
    cap: timedelta | None = None,
) -> timedelta:
    """How long after a failed poll the next may start.

    ``interval * 2**(failures - 1)``, at most ``cap`` (default_cap when not
    given), at least ``interval``; a ``retry_after`` longer than that wins,
    even past the cap: the vendor asked, and parse_retry_after already
    bounds it. ``failures`` counts this one, so the first failure waits one
    interval: an isolated 503 costs nothing beyond the normal cadence.
    """
    ceiling = default_cap(interval) if cap is None else cap
    doublings = min(max(failures - 1, 0), _MAX_DOUBLINGS)
    grown = min(interval.total_seconds() * 2.0**doublings, ceiling.total_seconds())
    delay = max(interval, timedelta(seconds=grown))
    if retry_after is not None and retry_after > delay:
        return retry_after
    return delay


def should_back_off(http_status: int | None, failure_class: str | None = None) -> bool:
    """Whether a failed poll is the vendor asking us to slow down (see the module docstring).

    ``http_status`` is the status of the failing response, if one came;
    ``failure_class`` names a transport failure (monitor.failures),
    which may also follow a response that stalled mid-body.
    """
    if failure_class in BACK_OFF_CLASSES:
        return True
    if http_status is None:
        return False
    return http_status == 429 or 500 <= http_status <= 599


MAX_JITTER = timedelta(seconds=30)


def jitter_for(interval: timedelta) -> float:
    """Seconds of scheduling jitter: a tenth of the interval, at most 30 s.

    Many probes started together must not poll a vendor in lock-step, but a
    30 s check should still run about every 30 s. A back-off ending within
    this much of a run's time counts as over, or jitter firing a little early
    would make a source wait a whole extra interval.
    """
    return min(interval.total_seconds() / 10, MAX_JITTER.total_seconds())
