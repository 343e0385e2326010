"""Turn the times users type (``--since``, ``--until``, later ``--at``) into aware UTC.

Accepted: ISO 8601 with an offset or ``Z``; a date and time without one,
read in ``--tz`` or else the machine's local zone (what the user's own log
lines show); a bare date (midnight); ``now``; and ``2h ago`` style offsets.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.durations import parse_duration

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
