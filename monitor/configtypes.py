"""Field types shared by every config section: durations, sizes, URLs, names.

Each validator raises ValueError with the accepted forms; config.py turns
that into a message naming the file and the key.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from monitor.redact import redact_url
from monitor.times import DURATION_HINT, parse_duration

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
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
SIZE_HINT = "a size such as '512KB' or '5MB'"


def parse_size(text: str) -> int:
    """Parse ``5MB``/``512KiB`` into bytes; raise ValueError with the accepted forms."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"expected {SIZE_HINT}, got {text!r}")
    return int(float(match[1]) * _SIZE_UNITS[match[2].lower()])


def _duration(value: object) -> timedelta:
    if not isinstance(value, str):
        raise ValueError(f"expected {DURATION_HINT}, got {value!r}")
    parsed = parse_duration(value)
    if parsed <= timedelta(0):
        raise ValueError(f"expected a positive duration, got {value!r}")
    return parsed


def _size(value: object) -> int:
    if not isinstance(value, str):
        raise ValueError(f"expected {SIZE_HINT}, got {value!r}")
    return parse_size(value)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError(f"expected an http:// or https:// URL, got {redact_url(value)!r}")
    if parts.username or parts.password:
        raise ValueError(
            "credentials in the URL are not supported (they would be stored and printed); "
            f"remove the user:password@ part of {redact_url(value)!r}"
        )
    return value


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"expected a short name of letters, digits, '.', '_' or '-', got {value!r}"
        )
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Size = Annotated[int, BeforeValidator(_size)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Name = Annotated[str, AfterValidator(_name)]


class Section(BaseModel):
    """A config table: unknown keys and loose types are mistakes, not guesses."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
