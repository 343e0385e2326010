"""Time as monitor keeps it and as people write it.

Inside, every time is aware UTC (``parse_iso``, ``as_utc``, ``isoformat_z``).
People write durations in config and options (``30s``, ``5m``, ``1h``,
``7d``) and times on the command line (``--at``, ``--since``): ISO 8601 with
an offset or ``Z``; a date and time without one, read in ``--tz`` or else the
machine's local zone (what the user's own log lines show); a bare date
(midnight); ``now``; and ``2h ago`` style offsets.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta, tzinfo
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
FORMS = "'2026-04-14T10:00:00Z', '2026-04-14 10:00' (local time), '2026-04-14', 'now' or '2h ago'"


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


def parse_time(text: str, *, now: datetime, tz: tzinfo | None = None) -> datetime:
    """Parse ``text`` relative to ``now`` (aware); raise ValueError listing the accepted forms."""
    parsed = _parse_time(text, now=now, tz=tz)
    if not EARLIEST <= parsed < LATEST:
        raise ValueError(f"{text!r} is out of range: monitor reads times from 1970 to 2999")
    return parsed


def _parse_time(text: str, *, now: datetime, tz: tzinfo | None) -> datetime:
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
    iso = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"cannot read {text!r} as a time; use {FORMS}") from None
    try:
        if parsed.tzinfo is None:
            # Naive input is the user's wall clock: their zone, or this machine's.
            parsed = parsed.replace(tzinfo=tz) if tz is not None else parsed.astimezone()
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by a zone offset
        raise ValueError(f"{text!r} is out of range; use {FORMS}") from None
