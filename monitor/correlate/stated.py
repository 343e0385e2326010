"""Stated spans: the impact window a status-page update gives in its own words, in UTC.

Vendors declare incidents late and resolve them early; the window they state
in prose ("between 15:31 and 16:19 UTC", "Between 03:26am PST on Nov 3rd and
03:52am PST on Nov 4th") is their own best account of when users were hurt,
so the correlator widens the declared window with it. This module reads that
prose exactly, zones and dates included, and nothing else: no clock, no I/O
(the zone database is loaded once, at import).

What a time can look like: ``15:31``, ``10:05:00`` (seconds are read past),
``4:39am``, ``4:39 a.m.``, ``5:49 PM``, ``7 am`` (a bare hour needs a
meridiem, its own or the other end's: "1 - 7 am"), ``noon``, ``midnight``.
A meridiem written once applies to both ends the way a reader takes it
("from 11 to 1 pm" is 11am to 1pm); "22:54 pm", as a real page wrote it, is
22:54.

Zones: UTC, GMT, Z, offsets (``+00:00``, ``-0700``, ``UTC+2``, ``GMT-07:00``)
and the abbreviations US, UK, EU, Japanese and Australian pages print, read as
the region's real zone on that date (a page writing "PST" in June means
Pacific time, which is PDT then; the Sauce Labs feed does exactly that). The
abbreviation still decides which side of a repeated fall-back hour is meant.
IST is not read: India (+05:30), Ireland (+01:00) and Israel (+02:00) all
write it, and a wrong guess moves the window by hours, well inside the reach
below, so nothing later would catch the mistake. A zone written on one end
applies to both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["stated_span"]


@dataclass(frozen=True, slots=True)
class _Zone:
    """A stated zone; ``dst`` is what the abbreviation claims (None: it does not say)."""

    tz: tzinfo
    dst: bool | None = None


def _region(
    name: str, standard: str, daylight: str, generic: str | None = None
) -> dict[str, _Zone]:
    zone = ZoneInfo(name)
    names = {standard: _Zone(zone, False), daylight: _Zone(zone, True)}
    if generic is not None:
        names[generic] = _Zone(zone, None)
    return names


_UTC = _Zone(UTC)
# The meaning US/UK/EU status pages use; CST is not China's, BST not Bangladesh's.
_ABBREVIATIONS: dict[str, _Zone] = {
    **_region("America/Los_Angeles", "PST", "PDT", "PT"),
    **_region("America/Denver", "MST", "MDT", "MT"),
    **_region("America/Chicago", "CST", "CDT", "CT"),
    **_region("America/New_York", "EST", "EDT", "ET"),
    **_region("Europe/Berlin", "CET", "CEST"),
    **_region("Australia/Sydney", "AEST", "AEDT"),
    "BST": _Zone(ZoneInfo("Europe/London"), True),
    "JST": _Zone(ZoneInfo("Asia/Tokyo"), False),
}

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = (
    r"(?-i:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?!\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s++\d{4}(?![\d:]))?"
# "Nov 3rd", "Saturday, January 11th", "July 19, 2026", "14 April 2026", "2026-04-14".
# Runs of spaces and commas are matched possessively (*+, ++) throughout: two
# optional runs side by side would otherwise make a long run of blanks cost
# the search time polynomial in its length.
_DATE = (
    r"(?:(?-i:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day),?\s++)?"
    rf"(?:{_MONTH}\s++{_DAY}{_YEAR}|{_DAY}\s++{_MONTH}{_YEAR}|\d{{4}}-\d{{2}}-\d{{2}})"
)
_HEDGE = r"approximately|approx\.|about|around|roughly|circa"
# Words before a span's first time ("On July 2nd, 2026, between approximately
# 15:00"), and before its second; a few at most, so a text repeating them
# cannot make the search quadratic.
_LEAD = rf"(?:(?:(?:between|from|starting|beginning|at|on|{_HEDGE})\b|~)[\s,]*+){{0,3}}"
_END_LEAD = rf"(?:(?:(?:at|{_HEDGE})\b|~)[\s,]*+){{0,2}}"
_OFFSET_HOURS = r"(?:0?\d|1[0-4])"
_ZONE = (
    rf"(?:UTC|GMT)(?:[+\u2212-]{_OFFSET_HOURS}(?::?(?:00|30|45))?(?!\d))?"
    r"|(?-i:Z)"
    # A bare "-07:00" glued to "10:00" would be "10:00-07:00", which is a span;
    # a minus counts only after a space or after seconds (ISO 8601).
    r"|(?:\+|(?<=\s)[\u2212-]|(?<=\d:\d\d:\d\d)[\u2212-])(?:0\d|1[0-4]):?(?:00|30|45)(?!\d)"
    rf"|(?-i:{'|'.join(sorted(_ABBREVIATIONS, key=len, reverse=True))})"
)


def _moment(p: str, lead: str) -> str:
    """The pattern of one end of a span, its groups prefixed with ``p``."""
    return (
        rf"(?:(?P<{p}before>{_DATE})(?:T|[\s,]++){lead})?"
        rf"(?P<{p}clock>(?P<{p}word>noon|midnight)"
        rf"|(?P<{p}hour>\d{{1,2}})(?!\d)(?::(?P<{p}minute>\d{{2}})(?::\d{{2}}(?:\.\d+)?)?)?"
        rf"(?![.:]?\d)(?:\s?(?P<{p}meridiem>[ap])\.?\s?m\.?(?![a-z]))?)"
        rf"(?:\s*+(?:\(\s*+)?(?P<{p}zone>{_ZONE})(?![\w])(?:\s*+\))?)?"
        rf"(?:[\s,]*+(?:on\s++)?(?P<{p}after>{_DATE}))?"
    )


_SPAN = re.compile(
    # Not inside a word, a number, a version ("v1.2"), an address ("10.0.0.1:8080") or a date.
    r"(?<![\w.:/+\u2212-])"
    + _LEAD
    + _moment("s_", _LEAD)
    + r"\s*+(?P<conn>(?:,\s*+)?(?:to|until|till|through)(?![a-z])|and\b|[-\u2013\u2014])\s*+"
    + _END_LEAD
    + _moment("e_", _END_LEAD),
    re.IGNORECASE,
)
_BETWEEN = re.compile(r"\bbetween\b", re.IGNORECASE)
# A zone word this module does not read, right after a time ("9:00-10:00 IST").
_OTHER_ZONE = re.compile(r"\s*\(?(?:[A-Z]{1,4}[SD]?T|CEST|AEST|AEDT)\b")
_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?")

# A span without a zone is believed only this close to the declared window:
# status pages state UTC, but "10:00-11:00" far from the incident is
# more likely another zone, or another thing.
_UNZONED_REACH = timedelta(hours=6)
# Even a span with a zone must be about this incident: an announcement of
# tomorrow's maintenance, or a mention of last week's outage, is not.
_ZONED_REACH = timedelta(hours=24)
# Nor is a span of weeks an incident's impact window.
_LONGEST = timedelta(days=3)
# A span starting this little after the post is still today's (clocks and
# "at about" disagree by a minute).
_POSTING_SLACK = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class _Clock:
    """A time as written: ``meridiem`` is "a", "p" or None (24-hour or not said)."""

    hour: int
    minute: int
    meridiem: str | None
    bare: bool  # an hour alone ("7"), a time only with a meridiem


@dataclass(frozen=True, slots=True)
class _Day:
    """A date as written; ``year`` None when the text leaves it out."""

    year: int | None
    month: int
    day: int


@dataclass(frozen=True, slots=True)
class _End:
    """One end of a span as read: its clock, and its own zone and date if it has them."""

    clock: _Clock
    zone: _Zone | None
    day: _Day | None


@dataclass(frozen=True, slots=True)
class _Placed:
    """One end placed in time: a wall clock in a zone, on a date if one was stated."""

    clock: time
    zone: _Zone
    day: date | None


def stated_span(
    text: str, posted_at: datetime, declared: tuple[datetime, datetime | None] | None = None
) -> tuple[datetime, datetime] | None:
    """Read the first believable impact window stated in an update's text, in UTC.

    Dates written in the text are used (a year left out is the one that puts
    the date nearest the post); otherwise the span lies on the post's date in
    the stated zone, a day earlier if it would only start after the post,
    and one crossing midnight ends the next day. A span with a zone is
    believed within 24 h of the ``declared`` window (or anywhere without
    one); a span without a zone is taken as UTC, and only within 6 h of it.
    ``posted_at`` without a zone is taken as UTC, the store's convention.
    """
    return next(iter(stated_spans(text, posted_at, declared)), None)


def stated_spans(
    text: str, posted_at: datetime, declared: tuple[datetime, datetime | None] | None = None
) -> list[tuple[datetime, datetime]]:
    """Every believable impact window an update states ("06:00-09:56 UTC, and again
    between 10:54 and 12:53 UTC"), in the order written (see ``stated_span``)."""
    posted = posted_at.replace(tzinfo=UTC) if posted_at.tzinfo is None else posted_at
    posted = posted.astimezone(UTC)
    found: list[tuple[datetime, datetime]] = []
    position = 0
    while (match := _SPAN.search(text, position)) is not None:
        # Resume inside this match: its start time may be junk ("version 3 - 15:31
        # to 16:19 UTC") while a real span begins at its end time.
        position = match.start("s_clock") + 1
        span = _read(match, text, posted)
        if span is not None and _believed(*span, declared) and span[:2] not in found:
            found.append((span[0], span[1]))
    return found


def _read(
    match: re.Match[str], text: str, posted: datetime
) -> tuple[datetime, datetime, bool] | None:
    """The span a match states, and whether it named a zone; None if it is not a span."""
    first, second = _end(match, "s_"), _end(match, "e_")
    clocks = _clocks(first.clock, second.clock)
    if clocks is None or _not_a_span(match, text, second):
        return None
    zone_one, zone_two = first.zone or second.zone or _UTC, second.zone or first.zone or _UTC
    days = _date(first.day, posted, zone_one), _date(second.day, posted, zone_two)
    if (first.day is not None and days[0] is None) or (second.day is not None and days[1] is None):
        return None  # "Feb 30"
    span = _place(
        _Placed(clocks[0], zone_one, days[0]), _Placed(clocks[1], zone_two, days[1]), posted
    )
    if span is None:
        return None
    return span[0], span[1], first.zone is not None or second.zone is not None


def _not_a_span(match: re.Match[str], text: str, second: _End) -> bool:
    """Whether two times the pattern paired are not a span after all, by the words around them."""
    if match["conn"].strip().lower() == "and" and not _BETWEEN.search(
        text, match.start(), match.start("s_clock")
    ):
        return True  # "updates at 14:00 and 15:00 UTC" lists times; "between" makes a span
    if _PLAN.search(_sentence(text, match.start(), match.end())):
        return True  # "next update between 00:30 and 01:00 UTC": a plan, not the impact
    # "9:00-10:00 IST": a zone this module does not read.
    return second.zone is None and _OTHER_ZONE.match(text, match.end()) is not None


# Words that make a sentence a promise about updates or recovery, not the impact
# ("a maintenance will run from 1 to 7 am" still states its window).
_PLAN = re.compile(
    r"\b(?:next update|further updates?|we expect|expected to (?:recover|resolve|be))\b",
    re.IGNORECASE,
)


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence holding ``text[start:end]`` (a time's dot ends none: "10.30")."""
    before = max(text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n"))
    after = [i for mark in (". ", "! ", "? ", "\n") if (i := text.find(mark, end)) != -1]
    return text[before + 1 : min(after, default=len(text))]


def _end(match: re.Match[str], p: str) -> _End:
    """One end of a matched span: its clock, and the zone and date written on it."""
    word = match[f"{p}word"]
    if word is not None:
        noon = word.lower() == "noon"
        clock = _Clock(12 if noon else 0, 0, "p" if noon else "a", bare=False)
    else:
        minute = match[f"{p}minute"]
        meridiem = match[f"{p}meridiem"]
        clock = _Clock(
            int(match[f"{p}hour"]),
            int(minute or 0),
            meridiem.lower() if meridiem else None,
            bare=minute is None,
        )
    return _End(clock, _zone(match[f"{p}zone"]), _day(match[f"{p}before"] or match[f"{p}after"]))


def _zone(word: str | None) -> _Zone | None:
    """The zone a zone word names: UTC/GMT/Z, an abbreviation or an offset."""
    if word is None:
        return None
    word = word.replace("\u2212", "-")
    if word in _ABBREVIATIONS:
        return _ABBREVIATIONS[word]
    offset = _OFFSET.fullmatch(word.upper().removeprefix("UTC").removeprefix("GMT"))
    if offset is None:
        return _UTC  # UTC, GMT or Z alone
    sign, hours, minutes = offset.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return _Zone(timezone(-delta if sign == "-" else delta))


def _day(text: str | None) -> _Day | None:
    """A written date: "Nov 3rd", "Saturday, January 11th", "July 19, 2026", "2026-04-14"."""
    if text is None:
        return None
    numbers = re.findall(r"\d+", text)
    if re.search(r"\d{4}-\d{2}-\d{2}", text):
        return _Day(int(numbers[0]), int(numbers[1]), int(numbers[2]))
    month = re.search(_MONTH, text)
    if month is None:  # cannot happen: the pattern matched a month name
        return None
    return _Day(
        next((int(n) for n in numbers if len(n) == 4), None),
        _MONTHS.index(month[0][:3].lower()) + 1,
        next(int(n) for n in numbers if len(n) <= 2),
    )


def _date(day: _Day | None, posted: datetime, zone: _Zone) -> date | None:
    """The calendar date of a written date; a missing year is the one nearest the post.

    "Dec 31" posted on Jan 1 is last year's; "Saturday, January 11th" in an
    announcement posted on January 9th is this year's.
    """
    if day is None:
        return None
    local = posted.astimezone(zone.tz).date()
    years = (day.year,) if day.year is not None else (local.year - 1, local.year, local.year + 1)
    candidates = []
    for year in years:
        try:
            candidates.append(date(year, day.month, day.day))
        except ValueError:  # Feb 29 in another year, or Feb 30
            continue
    return min(candidates, key=lambda d: abs(d - local), default=None)


def _clocks(first: _Clock, second: _Clock) -> tuple[time, time] | None:
    """Both ends as wall clocks, a meridiem written once shared; None if impossible."""
    one = _minutes(_borrowed(first, second, start=True))
    two = _minutes(_borrowed(second, first, start=False))
    if one is None or two is None:
        return None
    return time(one // 60, one % 60), time(two // 60, two % 60)


def _borrowed(own: _Clock, other: _Clock, *, start: bool) -> _Clock:
    """Give an end without a meridiem the other end's, as a reader would.

    "1 - 7 am" is 1am to 7am, "from 11 to 1 pm" 11am to 1pm, "from 11pm to 1"
    11pm to 1am: the same meridiem unless that puts the ends out of order.
    """
    if own.meridiem is not None or other.meridiem is None or own.hour > 12:
        return own
    same = replace(own, meridiem=other.meridiem)
    mine, theirs = _minutes(same), _minutes(other)
    if mine is None or theirs is None or mine == theirs or (mine < theirs) == start:
        return same
    return replace(own, meridiem="p" if other.meridiem == "a" else "a")


def _minutes(clock: _Clock) -> int | None:
    """Minutes after midnight, or None for an impossible time (25:00, 10:61, 13am, "7")."""
    hour, minute = clock.hour, clock.minute
    if minute > 59 or hour > 23 or (clock.bare and clock.meridiem is None):
        return None
    if clock.meridiem == "a":
        if hour > 12:
            return None
        hour %= 12
    elif clock.meridiem == "p":
        if hour == 0:
            return None
        hour = hour if hour > 12 else hour % 12 + 12
    return hour * 60 + minute


def _place(first: _Placed, second: _Placed, posted: datetime) -> tuple[datetime, datetime] | None:
    """Both ends in UTC: a written date pins its own end, the other end is placed around it."""
    if first.day is not None and second.day is not None:
        start, end = _at(first.day, first), _at(second.day, second)
        return (start, end) if start < end else None
    if second.day is not None:
        end = _at(second.day, second)
        start_or_none = _nearest(end, first, before=True)
        return None if start_or_none is None else (start_or_none, end)
    if first.day is not None:
        start = _at(first.day, first)
    else:
        today = posted.astimezone(first.zone.tz).date()
        start = _at(today, first)
        if start > posted + _POSTING_SLACK:
            # "23:10 to 23:55" posted at 00:20 was yesterday. A span the post falls
            # inside stays today: backdated posts are stamped at the impact's start.
            start = _at(today - timedelta(days=1), first)
    end_or_none = _nearest(start, second, before=False)
    return None if end_or_none is None else (start, end_or_none)


def _nearest(anchor: datetime, other: _Placed, *, before: bool) -> datetime | None:
    """The other end: the nearest time its clock reads before (or after) ``anchor``.

    An end after its start crosses midnight if it must; the same instant is
    a zero-length span, not a 24-hour one, and yields None.
    """
    local = anchor.astimezone(other.zone.tz).date()
    step = timedelta(days=-1 if before else 1)
    for day in (local, local + step):
        moment = _at(day, other)
        if moment == anchor:
            return None
        if (moment < anchor) == before:
            return moment
    return None


def _at(day: date, end: _Placed) -> datetime:
    """A wall clock on a date in a zone, in UTC.

    In a repeated fall-back hour the abbreviation picks the side ("1:30 PDT"
    is the first 1:30, "1:30 PST" the second); otherwise the zone's own rules
    for that date decide.
    """
    first = datetime.combine(day, end.clock, tzinfo=end.zone.tz)
    if end.zone.dst is not None:
        for moment in (first, first.replace(fold=1)):
            if bool(moment.dst()) == end.zone.dst:
                return moment.astimezone(UTC)
    return first.astimezone(UTC)


def _believed(
    start: datetime, end: datetime, zoned: bool, declared: tuple[datetime, datetime | None] | None
) -> bool:
    """Whether a span is about the declared incident, by how near it lies (see the reaches)."""
    if declared is None:
        return zoned
    first, last = declared
    last = last or first
    if not zoned:
        return first - _UNZONED_REACH <= start and end <= last + _UNZONED_REACH
    # A zoned span is read exactly, so it needs only to meet the declared window
    # (widened by a day): a two-day outage declared late starts long before it.
    return end - start <= _LONGEST and start <= last + _ZONED_REACH and end >= first - _ZONED_REACH
