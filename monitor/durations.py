"""Durations and sizes as people write them in config: ``30s``, ``5m``, ``1h``, ``7d``, ``5MB``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}

DURATION_HINT = "a duration such as '30s', '5m', '1h' or '7d'"
SIZE_HINT = "a size such as '512KB' or '5MB'"


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


def parse_size(text: str) -> int:
    """Parse ``5MB``/``512KiB`` into bytes; raise ValueError with the accepted forms."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"expected {SIZE_HINT}, got {text!r}")
    return int(float(match[1]) * _SIZE_UNITS[match[2].lower()])


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
