"""Time helpers shared by parsers and the store: everything inside is aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


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
    return parsed.astimezone(UTC)


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
