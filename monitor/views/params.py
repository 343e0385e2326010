"""The parameters of a question, read the same way from a command line and a URL.

A bad value raises ``ParamError`` naming the option as the command line
spells it (``--at``); the CLI shows it as a usage error, the HTTP API as a
400 carrying the same words (``usage``), so a typo reads alike in both.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from monitor.times import UNTIL_AHEAD, is_time_of_day, parse_duration, parse_time, short_time, zone

DEFAULT_WINDOW = timedelta(minutes=30)
# ``why`` is about a moment; a wider look is ``timeline``'s job (and would load
# every run in it).
MAX_WINDOW = timedelta(hours=24)
# How far past now a bare ``10:00`` may land, per option: only the end of a
# range looks ahead ("--until 10:30" asked at 10:00 is today's). A moment to
# explain or a start is one that has happened, so is the latest one not after now.
LOOK_AHEAD = {"--until": UNTIL_AHEAD}


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
    """A time as people type it (``monitor.times.parse_time``), in ``tz``.

    A bare time of day looks ahead of ``now`` as far as ``LOOK_AHEAD`` says
    for ``option`` (not at all for any but ``--until``).
    """
    try:
        return parse_time(text, now=now, tz=tz, ahead=LOOK_AHEAD.get(option, timedelta(0)))
    except ValueError as exc:
        raise ParamError(option, str(exc)) from None


def moment_param(
    text: str, option: str, *, now: datetime, tz: tzinfo | None, because: str
) -> datetime:
    """A moment that has happened (``why --at``, ``import --at``); one still to come is refused.

    ``because`` finishes the sentence saying why a later one makes no sense.
    """
    at = time_param(text, option, now=now, tz=tz)
    if at > now:
        raise ParamError(option, f"{text!r} is {short_time(at)}, still to come: {because}")
    return at


WHY_AT_FUTURE = "why explains what has already happened"


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
    """``--since``/``--until``, in order.

    A bare time's day is inferred (the last one the clock showed), so
    ``--since 9:30 --until 9:15`` asked at 9:20 would be a silent 23¾-hour
    span from yesterday: a span over ``BARE_SPAN`` with a bare time in it is
    refused, saying how each was read, rather than guessed at.
    """
    lo = time_param(since, "--since", now=now, tz=tz)
    hi = time_param(until, "--until", now=now, tz=tz)
    if hi < lo:
        raise ParamError("--until", "--until is before --since")
    rolled = _rolled(since, lo, tz, now) or _rolled(until, hi, tz, now)
    if hi - lo > BARE_SPAN and rolled:
        raise ParamError(
            "--since",
            f"--since {since.strip()!r} was read as {short_time(lo)} and --until "
            f"{until.strip()!r} as {short_time(hi)} (a bare time is the last one the clock "
            "showed); give a date, e.g. 'yesterday 9:30', for a span that long",
        )
    return lo, hi


BARE_SPAN = timedelta(hours=12)


def _rolled(text: str, value: datetime, tz: tzinfo | None, now: datetime) -> bool:
    """Whether a bare time was read as another day than today (its day was guessed)."""
    if not is_time_of_day(text):
        return False
    return value != time_param(f"today {text.strip()}", "--since", now=now, tz=tz)
