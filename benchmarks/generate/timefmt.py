"""Times as the app stores them, made fast enough for twelve million rows.

The app's UTCDateTime type stores aware UTC on SQLite as naive text
``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's SQLite DateTime format), so that
text comparison orders correctly. The generator plans in integer epoch
seconds and formats with lookup tables instead of calling strftime per row;
``generate`` checks the result against a row the app itself wrote.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

DAY = 86_400
HOUR = 3_600
# "HH:MM:SS" for every second of a day: one list index instead of a strftime.
HMS: tuple[str, ...] = tuple(
    f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
)
_UNITS = {"s": 1, "m": 60, "h": HOUR, "d": DAY}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_interval(text: str) -> int:
    """``30s``/``1m``/``2h`` as whole seconds (the CLI's --interval)."""
    match = _DURATION.match(text)
    if not match or int(match[1]) <= 0:
        raise ValueError(f"not an interval like 30s, 1m or 2h: {text!r}")
    return int(match[1]) * _UNITS[match[2]]


def parse_end(text: str) -> int:
    """An ISO 8601 instant (``2026-11-01T00:00:00Z``) as epoch seconds; naive means UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def day_prefix(epoch_s: int) -> str:
    """``YYYY-MM-DD `` of the UTC day holding ``epoch_s``, with the separating space."""
    return datetime.fromtimestamp(epoch_s - epoch_s % DAY, UTC).strftime("%Y-%m-%d ")


def db_text(epoch_s: int, micros: int = 0) -> str:
    """The stored form of an instant: naive UTC text with six fractional digits."""
    return f"{day_prefix(epoch_s)}{HMS[epoch_s % DAY]}.{micros:06d}"


def iso_z(epoch_s: float) -> str:
    """``2026-04-13T15:31:00Z`` (microseconds only when there are some)."""
    value = datetime.fromtimestamp(epoch_s, UTC)
    return value.isoformat().replace("+00:00", "Z")


def aware(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(0, UTC) + timedelta(seconds=epoch_s)
