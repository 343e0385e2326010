"""Time as monitor keeps it and as people write it.

Inside, every time is aware UTC (``parse_iso``, ``as_utc``, ``isoformat_z``).
People write durations in config and options (``30s``, ``5m``, ``1h``,
``7d``) and times on the command line (``--at``, ``--since``, ``--until``)
the way they would say them (``parse_time``, a small hand-written reader:
the start-up time of ``monitor why`` rules out a date library):

- ``now``, and ``2h ago`` style offsets;
- a date, with or without a time: ``2026-04-14``, ``2026-04-14 9:45``,
  ``14 Apr 2026 10:00``, ``14 April 2026``, ``Apr 14, 2026 10:00``; a bare
  date is midnight;
- a time of day: ``10:00`` (or ``10:00:30``) is the latest 10:00 not
  after now, plus what look-ahead the option allows (``ahead``): ``--at``
  and ``--since`` allow none, so ``why --at 15:40`` asked at 14:44 is about
  yesterday's 15:40; ``--until`` allows an hour (``UNTIL_AHEAD``), so
  ``--until 10:30`` asked at 10:00 is today's and ``--until 0:15`` asked at
  23:30 tomorrow's; ``today 23:00`` is always today's and ``yesterday
  15:30`` yesterday's (alone, each is midnight);
- ISO 8601 in any shape Python reads, with ``Z`` or an offset.

A time in a log (``parse_log_time``) is never read relative to now: a
file re-imported tomorrow must give the same times, so only the absolute
forms above count there.

Without an offset a time is the user's wall clock: in ``--tz``, else this
machine's zone (what the user's own log lines show). Where clocks change,
``wall_time`` says which instant a wall time means.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# -- aware UTC inside -----------------------------------------------------------


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp into aware UTC.

    Accepts the ``Z`` suffix vendors use. A timestamp without an offset is
    taken as UTC, which is what every status API we read means by it.
    Raises ValueError for anything else.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
        raise ValueError(f"{value[:40]!r} is out of range once in UTC") from None


def parse_iso_or_none(value: object) -> datetime | None:
    """Like parse_iso, but None (or an empty string) gives None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 timestamp string, got {type(value).__name__}")
    return parse_iso(value)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes so a local time never sneaks in."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: monitor only handles timezone-aware times")
    return value.astimezone(UTC)


def isoformat_z(value: datetime | None) -> str | None:
    """Render aware UTC as ``2026-04-13T15:31:00Z`` (None stays None)."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


def short_time(value: datetime | None) -> str:
    """``2026-04-13 15:31Z``: minute precision reads better in a table and a message."""
    if value is None:
        return "-"
    text = isoformat_z(value) or "-"
    return text[:16].replace("T", " ") + "Z"


# -- durations as people write them ---------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_HINT = "a duration such as '30s', '5m', '1h' or '7d'"


def parse_duration(text: str) -> timedelta:
    """Parse ``30s``, ``5m``, ``1h``, ``7d`` or ``1m30s``; ValueError lists the accepted forms."""
    if not _DURATION.match(text):
        raise ValueError(f"expected {DURATION_HINT}, got {text!r}")
    seconds = sum(
        float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(text)
    )
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"duration {text!r} is too long; use at most a few years") from None


def format_duration(value: timedelta) -> str:
    """Render a duration the way a user would have written it (``90s`` -> ``1m30s``)."""
    seconds = int(value.total_seconds())
    if seconds == 0 and value.total_seconds() > 0:
        return f"{int(value.total_seconds() * 1000)}ms"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


# -- times as people type them ----------------------------------------------------

_AGO = re.compile(r"^\s*(.+?)\s+ago\s*$", re.IGNORECASE)
# The one list of what --at, --since and --until read: their --help and the
# error for anything else both quote it.
FORMS = (
    "'2026-04-14 10:00' or '14 Apr 2026 9:45' (local time), '10:00', 'yesterday 15:30', "
    "'2026-04-14', 'now', '2h ago' or '2026-04-14T10:00:00Z'"
)
TIME_HELP = f"{FORMS}; a bare '10:00' is the last one the clock showed"
# How far ahead of now a bare ``HH:MM`` may land for --until: an end just
# ahead ("until 10:30", asked at 10:00) is today's. A moment to explain
# (--at) or a start (--since) has already happened, so allows none.
UNTIL_AHEAD = timedelta(hours=1)
UNTIL_HELP = f"{FORMS}; a bare '10:00' is the last one the clock showed, or up to an hour ahead"
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# English names, never the locale's: a log line and a command read the same everywhere.
MONTHS = {
    name: number
    for number, full in enumerate(_MONTH_NAMES, start=1)
    for name in (full, full[:3], *(("sept",) if number == 9 else ()))
}
_CLOCK = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
_OFFSET = r"(?:\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?"
_AT_CLOCK = rf"(?:(?:,?\s+(?:at\s+)?|T){_CLOCK})?{_OFFSET}"


@cache
def _shapes() -> dict[str, re.Pattern[str]]:
    """The forms Python's ISO reader leaves out, compiled on first use.

    Not at import: compiling them costs more than the rest of this module,
    and ``why --at now`` or an ISO time never needs them.
    """
    return {
        "numeric": re.compile(
            rf"(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}}){_AT_CLOCK}", re.IGNORECASE
        ),
        "day_month": re.compile(
            rf"(?P<day>\d{{1,2}})\s+(?P<name>[a-z]{{3,9}})\.?,?\s+(?P<year>\d{{4}}){_AT_CLOCK}",
            re.IGNORECASE,
        ),
        "month_day": re.compile(
            rf"(?P<name>[a-z]{{3,9}})\.?\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}}){_AT_CLOCK}",
            re.IGNORECASE,
        ),
        "day_word": re.compile(rf"(?P<word>today|yesterday){_AT_CLOCK}", re.IGNORECASE),
        "clock": re.compile(rf"{_CLOCK}{_OFFSET}", re.IGNORECASE),
    }


def is_time_of_day(text: str) -> bool:
    """Whether ``text`` is a bare time (``9:30``): its day is inferred, so a range may surprise."""
    return _shapes()["clock"].fullmatch(text.strip()) is not None


def zone(name: str | None) -> tzinfo | None:
    """Resolve ``--tz`` (an IANA name such as Europe/Berlin, or UTC); None means local."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like 'Europe/Berlin' or 'UTC'"
        ) from None


def local_zone_name() -> str | None:
    """This machine's zone as ``--tz`` would name it (``Europe/Berlin``), or None if it has no name.

    What ``datetime.astimezone()`` uses: ``$TZ`` when set (``:Area/City``, a
    name, or a tzfile path under a ``zoneinfo`` folder), else the file
    ``/etc/localtime`` links to; no such file means UTC. A zone spelled as
    a POSIX rule (``CET-1CEST``) or an unlinked copy of a tzfile has no
    name another process could be told: None.
    """
    value = os.environ.get("TZ")
    if value is None:
        path = "/etc/localtime"
        if not os.path.lexists(path):
            return "UTC"
        name = _zoneinfo_key(os.path.realpath(path))
    else:
        value = value.removeprefix(":")
        if not value:
            return "UTC"
        name = _zoneinfo_key(value) if value.startswith("/") else value
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _zoneinfo_key(path: str) -> str | None:
    """``/usr/share/zoneinfo/Europe/Berlin`` -> ``Europe/Berlin``; None outside ``zoneinfo``."""
    _, found, key = path.rpartition("/zoneinfo/")
    return key if found and key else None


# Times a monitor can have data for; anything outside is a typo, and far
# enough from the calendar's edges that adding a window cannot overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def parse_time(
    text: str, *, now: datetime, tz: tzinfo | None = None, ahead: timedelta = timedelta(0)
) -> datetime:
    """Parse ``text`` relative to ``now`` (aware); raise ValueError listing the accepted forms.

    ``ahead`` is how far past ``now`` a bare time of day may land (see the
    module's docstring): zero but for an end of a range.
    """
    parsed = _parse_time(text, now=now, tz=tz, ahead=ahead)
    if not EARLIEST <= parsed < LATEST:
        raise ValueError(f"{text!r} is out of range: monitor reads times from 1970 to 2999")
    return parsed


_LOG_FORMS = "a log's times must be absolute, such as '2026-04-14T09:41:07Z' or '14 Apr 2026 9:41'"


def parse_log_time(text: str, *, tz: tzinfo | None = None) -> datetime:
    """Parse a time a log wrote: absolute forms only (ISO 8601, a dated ``14 Apr 2026 10:00``).

    Never ``now``, ``10:00``, ``yesterday`` or ``2h ago``: read against the
    clock of the import, the same line imported again later would be
    another time, and so another failure. A time without an offset is in
    ``tz`` (None: this machine's zone). ValueError says why.
    """
    value = text.strip()
    try:
        try:
            parsed = _iso(value, tz)
        except ValueError:
            for shape in _ABSOLUTE:
                match = _shapes()[shape].fullmatch(value)
                if match is not None:
                    parsed = _dated(shape, match, tz)
                    break
            else:
                raise
    except _NoSuchDay as exc:
        raise ValueError(f"{text.strip()!r}: {exc}") from None
    except (ValueError, OverflowError):
        raise ValueError(f"cannot read {text!r} as a time; {_LOG_FORMS}") from None
    if not EARLIEST <= parsed < LATEST:
        raise ValueError(f"{text!r} is out of range: monitor reads times from 1970 to 2999")
    return parsed


_ABSOLUTE = ("numeric", "day_month", "month_day")


class _NoSuchDay(ValueError):
    """A date whose day its month does not have: its own message, not the list of forms."""


def _parse_time(text: str, *, now: datetime, tz: tzinfo | None, ahead: timedelta) -> datetime:
    value = text.strip()
    if value.lower() == "now":
        return now.astimezone(UTC)
    ago = _AGO.match(value)
    if ago:
        try:
            return (now - parse_duration(ago[1].replace(" ", ""))).astimezone(UTC)
        except ValueError:
            raise ValueError(f"cannot read {text!r} as a time; use {FORMS}") from None
        except OverflowError:
            raise ValueError(f"{text!r} is too far back; use {FORMS}") from None
    try:
        try:  # first: Python's own reader is fast, and reads most log lines
            return _iso(value, tz)
        except ValueError:
            pass
        for shape, pattern in _shapes().items():
            match = pattern.fullmatch(value)
            if match is not None:
                return _typed(shape, match, now=now, tz=tz, ahead=ahead)
        raise ValueError(value)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by a zone offset
        raise ValueError(f"{text!r} is out of range; use {FORMS}") from None
    except _NoSuchDay as exc:
        raise ValueError(f"{text.strip()!r}: {exc}") from None
    except ValueError:
        raise ValueError(f"cannot read {text!r} as a time; use {FORMS}") from None


def _typed(
    shape: str, match: re.Match[str], *, now: datetime, tz: tzinfo | None, ahead: timedelta
) -> datetime:
    """One of ``_shapes()`` as aware UTC; ValueError for a day or hour no calendar has."""
    if shape not in ("day_word", "clock"):
        return _dated(shape, match, tz)
    where = _offset(match["zone"])
    where = where if where is not None else _zone_or_local(tz)
    today = now.astimezone(where).date()
    if shape == "day_word" and match["word"].lower() == "yesterday":
        today -= timedelta(days=1)
    at = wall_time(datetime.combine(today, _clock(match)), where)
    if shape == "clock":  # the latest such time up to ``ahead`` from now
        if at > now + ahead:
            return wall_time(datetime.combine(today - timedelta(days=1), _clock(match)), where)
        tomorrow = wall_time(datetime.combine(today + timedelta(days=1), _clock(match)), where)
        return tomorrow if tomorrow <= now + ahead else at
    return at


def _dated(shape: str, match: re.Match[str], tz: tzinfo | None) -> datetime:
    """A ``numeric``, ``day_month`` or ``month_day`` match as aware UTC; no clock is read."""
    where = _offset(match["zone"])
    where = where if where is not None else _zone_or_local(tz)
    if shape == "numeric":
        month = int(match["month"])
    else:
        name = match["name"].lower()
        if name not in MONTHS:
            raise ValueError(f"no month named {name!r}")
        month = MONTHS[name]
    day = _day(int(match["year"]), month, int(match["day"]))
    return wall_time(datetime.combine(day, _clock(match)), where)


def _day(year: int, month: int, day: int) -> date:
    """The date; ``_NoSuchDay`` names the days a month has when ``day`` is past them."""
    try:
        return date(year, month, day)
    except ValueError:
        if not (1 <= month <= 12 and 1 <= year <= 9999 and day >= 1):
            raise
        days = 31 if month == 12 else (date(year, month + 1, 1) - date(year, month, 1)).days
        month_name = _MONTH_NAMES[month - 1].capitalize()
        raise _NoSuchDay(f"no such day ({month_name} {year} has {days} days)") from None


def _clock(match: re.Match[str]) -> time:
    """The ``_CLOCK`` part of a match (midnight when absent); nanoseconds are cut to micro."""
    if match["hour"] is None:
        return time()
    micro = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    return time(int(match["hour"]), int(match["minute"]), int(match["second"] or 0), micro)


def _offset(text: str | None) -> tzinfo | None:
    """``Z``, ``UTC``, ``+02:00``, ``+0200`` or ``+02`` as a fixed zone; None when absent."""
    if text is None:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    return timezone(sign * timedelta(minutes=minutes))  # ValueError past 24 hours


def _iso(value: str, tz: tzinfo | None) -> datetime:
    """ISO 8601 as Python reads it (``2026-04-14T10:00Z``, ``20260414T1000``); ValueError if not."""
    parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    if parsed.tzinfo is None:
        return wall_time(parsed, tz)
    return parsed.astimezone(UTC)


def wall_time(value: datetime, tz: tzinfo | None) -> datetime:
    """A naive wall-clock time in ``tz`` (None: this machine's zone) as aware UTC.

    Where the clocks change, zoneinfo's reading of PEP 495 with ``fold=0``
    decides: a time the clocks went back over (02:30 on the last Sunday of
    October in Berlin) is its first occurrence, still on summer time; a time
    the clocks jumped over (02:30 on the last Sunday of March) is read with
    the offset before the jump, so it is 01:30 UTC, shown as 03:30 summer
    time. This machine's zone is read through zoneinfo too when it has a
    name (``local_zone_name``), so ``--tz`` and no ``--tz`` agree. Raises
    OverflowError past the calendar's ends.
    """
    naive = value.replace(fold=0)
    where = _zone_or_local(tz)
    local = naive.replace(tzinfo=where) if where is not None else naive.astimezone()
    return local.astimezone(UTC)


def _zone_or_local(tz: tzinfo | None) -> tzinfo | None:
    """``tz``, else this machine's zone from zoneinfo; None leaves it to the system."""
    return tz if tz is not None else _named_local_zone(os.environ.get("TZ"))


@lru_cache(maxsize=4)
def _named_local_zone(tz_variable: str | None) -> tzinfo | None:
    """This machine's zone from zoneinfo, once per value of ``$TZ``; None if it has no name."""
    name = local_zone_name()
    return ZoneInfo(name) if name is not None else None
