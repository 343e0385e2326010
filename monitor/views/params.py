"""The parameters of a question, read the same way from a command line and a URL.

A bad value raises ``ParamError`` naming the option as the command line
spells it (``--at``); the CLI shows it as a usage error, the HTTP API as a
400 carrying the same words (``usage``), so a typo reads alike in both.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from monitor.times import parse_duration, parse_time, zone

DEFAULT_WINDOW = timedelta(minutes=30)
# ``why`` is about a moment; a wider look is ``timeline``'s job (and would load
# every run in it).
MAX_WINDOW = timedelta(hours=24)


class ParamError(ValueError):
    """A parameter that cannot be read: which one (``--at``), and what is wrong."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message

    def usage(self) -> str:
        """The sentence a usage error shows, as click words it."""
        return f"Invalid value for '{self.option}': {self.message}"


def zone_param(name: str | None) -> tzinfo | None:
    """``--tz``: an IANA zone name, or None for this machine's zone."""
    try:
        return zone(name)
    except ValueError as exc:
        raise ParamError("--tz", str(exc)) from None


def time_param(text: str, option: str, *, now: datetime, tz: tzinfo | None) -> datetime:
    """A time as people type it (``monitor.times.parse_time``), in ``tz``."""
    try:
        return parse_time(text, now=now, tz=tz)
    except ValueError as exc:
        raise ParamError(option, str(exc)) from None


def window_param(text: str) -> timedelta:
    """``--window``: longer than zero, at most ``MAX_WINDOW``."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ParamError("--window", str(exc)) from None
    if value <= timedelta(0):
        raise ParamError("--window", "must be longer than zero, e.g. 30m")
    if value > MAX_WINDOW:
        raise ParamError(
            "--window", "at most 24h either side of --at; for a longer span use `monitor timeline`"
        )
    return value


def bounds_param(
    since: str, until: str, tz: tzinfo | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """``--since``/``--until``, in order."""
    lo = time_param(since, "--since", now=now, tz=tz)
    hi = time_param(until, "--until", now=now, tz=tz)
    if hi < lo:
        raise ParamError("--until", "--until is before --since")
    return lo, hi
