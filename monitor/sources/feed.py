"""Parse RSS 2.0 / Atom status-history feeds into a Snapshot.

Many vendors only expose ``history.rss`` / ``history.atom``. Atlassian Statuspage
feeds hide the whole update timeline inside each item's HTML, one
``<p><small>Nov 14, 14:07 PST</small><br><strong>Resolved</strong> - text</p>``
block per update, newest first, with no year and often a local time zone. This
module recovers real UTC times from that so feed sources land in the same records
as the JSON API. Anything else that is a valid feed still yields one "unknown"
incident per item rather than nothing.

Statuspage dates each item by its *latest* update, so the item's published/updated
time is an upper bound for every update in it; that is what pins the missing year.
"""

from __future__ import annotations

import bisect
import calendar
import hashlib
import html
import io
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from monitor.errors import ParseError
from monitor.sources.records import IncidentRecord, MaintenanceRecord, Snapshot, UpdateRecord
from monitor.sources.xmlpayload import bad_reference, utf8_feed
from monitor.times import EARLIEST, LATEST

# Fixed offsets, in minutes: abbreviations are ambiguous in general (IST, CST), so
# we pin the meaning Statuspage pages use rather than guess from a tz database.
_TZ_MINUTES: dict[str, int] = {
    "UTC": 0, "GMT": 0, "Z": 0,
    "PST": -480, "PDT": -420, "MST": -420, "MDT": -360, "CST": -360, "CDT": -300,
    "EST": -300, "EDT": -240, "AKST": -540, "AKDT": -480, "HST": -600,
    "BST": 60, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180,
    "JST": 540, "KST": 540, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
    "IST": 330, "SGT": 480,
}  # fmt: skip
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# Slack on the item date when bounding update times, for a wrong zone on either side.
_BOUND_SLACK = timedelta(days=1)
_MAINTENANCE_STATUSES = frozenset({"scheduled", "in_progress", "verifying", "completed"})
_INCIDENT_STATUSES = frozenset({"investigating", "identified", "monitoring", "resolved"})

# Every pattern stays linear on hostile text: a tag's attributes stop at the next
# "<", and a <small> stamp at the next <small>, so text full of unclosed tags is
# not rescanned to its end from each one, which would be quadratic.
_SMALL = re.compile(r"<small\b[^<>]*>((?:(?!</?small\b).)*+)</small>", re.S | re.I)
_STRONG = re.compile(r"\s*(?:<br\s*/?>\s*)*<strong\b[^<>]*>(.*?)</strong>\s*-?\s*", re.S | re.I)
_STAMP = re.compile(
    r"(?P<mon>[A-Za-z]{3})[A-Za-z]*\.?\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?"
    r"\s*[,-]?\s*(?P<hh>\d{1,2}):(?P<mm>\d{2})(?:\s+(?P<tz>[A-Za-z]{1,5}))?"
)
_AFFECTED = re.compile(
    r"This (?:incident|scheduled maintenance) affected:\s*(?P<names>.*?)\s*\.?\s*(?=</p>|$)",
    re.S | re.I,
)
_INCIDENT_URL = re.compile(r"/incidents/(?P<code>[A-Za-z0-9]+)/?(?:[?#].*)?$")
_LINE_BREAK_TAGS = re.compile(r"<br\s*/?>|</?(?:p|div|li|ul|ol|h\d)\b[^<>]*>", re.I)
_ANY_TAG = re.compile(r"<[^<>]+>")
# Where a list of names may be cut, found at each candidate without consuming it.
_COMMA = re.compile(r"(?=(,\s*))")
_AND = re.compile(r"(?<!\s)(?=(\s+and\s+))")
_PARENTHESES = re.compile(r"[()]")
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html\b)", re.I | re.S)


def parse(payload: bytes) -> Snapshot:
    """Turn a fetched history feed into records; raise ParseError if it is not a usable feed."""
    import feedparser  # slow to import; only pay for it when a feed source is polled

    if not payload.strip():
        raise ParseError("empty payload: expected an RSS or Atom feed")
    document = utf8_feed(payload)
    try:
        # BytesIO, not the bare bytes: feedparser first tries bytes as a *file name*.
        result = feedparser.parse(io.BytesIO(document))
    except ValueError as exc:
        # Raised by feedparser's fallback parser, which runs only once the XML
        # parser has refused the document: a character reference to no character.
        why = bad_reference(document) or f"{type(exc).__name__}: {str(exc)[:160]}"
        raise ParseError(f"feed is not well-formed XML: {why}") from None
    _check_result(result, payload)
    notes: dict[str, None] = {}  # ordered set: one note per distinct problem
    incidents: list[IncidentRecord] = []
    maintenances: list[MaintenanceRecord] = []
    for entry in result.entries:
        record = _entry_record(entry, notes)
        if isinstance(record, MaintenanceRecord):
            maintenances.append(record)
        elif record is not None:
            incidents.append(record)
    return Snapshot(
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
        components=None,
        page_name=_text(result.feed.get("title")) or None,
        notes=tuple(notes),
    )


def _check_result(result: Any, payload: bytes) -> None:
    """Refuse anything but a complete feed: a partial one would make incidents look deleted.

    Encoding problems never get here: utf8_feed refused them or hands over UTF-8.
    """
    exc = result.get("bozo_exception") if result.get("bozo") else None
    if not result.get("version"):
        if _HTML_START.match(payload[:2048]):
            raise ParseError("expected an RSS or Atom feed, got an HTML page")
        if exc is not None:
            raise ParseError(f"expected an RSS or Atom feed, got something that is not XML: {exc}")
        raise ParseError("expected an RSS or Atom feed, got XML without an <rss> or <feed> root")
    if exc is None:
        return
    import xml.sax

    if isinstance(exc, xml.sax.SAXException):
        raise ParseError(f"feed is not well-formed XML (truncated?): {exc}")
    raise ParseError(f"feed could not be read: {type(exc).__name__}: {exc}")


def _entry_record(entry: Any, notes: dict[str, None]) -> IncidentRecord | MaintenanceRecord | None:
    """Build the record for one feed item, or None (with a note) if it has no usable time."""
    title = _text(entry.get("title")) or "(untitled)"
    link = _text(entry.get("link")) or None
    code = _INCIDENT_URL.search(link) if link else None
    external_id = code["code"] if code else _text(entry.get("id")) or link
    published_at, updated_at = _entry_time(entry, "published"), _entry_time(entry, "updated")
    published = published_at or updated_at
    latest = max(published_at, updated_at) if published_at and updated_at else published
    bound = latest + _BOUND_SLACK if latest is not None else None
    if not external_id:
        notes[f"skipped item {title!r}: it has no id or link"] = None
        return None
    description = _description(entry)
    components: list[str] = []
    for match in _AFFECTED.finditer(description):
        components.extend(n for n in _split_names(match["names"]) if n not in components)
    description = _AFFECTED.sub("", description)
    timeline = _timeline(description, published, bound, title, notes)
    if not timeline:
        if published is None:
            notes[f"skipped item {title!r}: no update times and no published date"] = None
            return None
        timeline = [("unknown", _html_to_text(description), published.astimezone(UTC))]
    updates = _update_records(external_id, timeline)
    if any(u.status in _MAINTENANCE_STATUSES for u in updates):
        started = min((u.created_at for u in updates if u.status == "in_progress"), default=None)
        completed = next((u.created_at for u in updates if u.status == "completed"), None)
        # The planned window is only in the prose; the "Scheduled" post's own time is
        # when it was announced, not when the work starts, so it must not stand in.
        return MaintenanceRecord(
            external_id=external_id,
            title=title,
            status=updates[0].status,
            impact="maintenance",
            scheduled_for=started,
            scheduled_until=completed,
            started_at=started,
            completed_at=completed,
            url=link,
            components=tuple(components),
            updates=updates,
        )
    earliest = min(u.created_at for u in updates)
    default = "unknown" if updates[0].status == "unknown" else "investigating"
    status = next((u.status for u in updates if u.status in _INCIDENT_STATUSES), default)
    resolved = next((u.created_at for u in updates if u.status == "resolved"), None)
    return IncidentRecord(
        external_id=external_id,
        title=title,
        status=status,
        impact=None,
        created_at=earliest,
        started_at=earliest,
        resolved_at=resolved if status == "resolved" else None,
        url=link,
        components=tuple(components),
        updates=updates,
    )


def _timeline(
    description: str,
    published: datetime | None,
    bound: datetime | None,
    title: str,
    notes: dict[str, None],
) -> list[tuple[str, str, datetime]]:
    """Split Statuspage HTML into (status, body, UTC time) per update, newest first.

    ``published`` supplies the offset for stamps without a known zone; ``bound`` is
    the latest time any update can have (item date plus slack), for the year.
    """
    smalls = list(_SMALL.finditer(description))
    found: list[tuple[str, str, datetime]] = []
    for index, small in enumerate(smalls):
        end = smalls[index + 1].start() if index + 1 < len(smalls) else len(description)
        rest = description[small.end() : end]
        strong = _STRONG.match(rest)
        word = _html_to_text(strong[1]) if strong else "update"
        body = rest[strong.end() :] if strong else rest
        stamp = _html_to_text(small[1]).replace("\n", " ")
        when = _stamp_time(stamp, published, bound, notes)
        if when is None:
            notes[f"item {title!r}: could not read update time {stamp!r}; update skipped"] = None
            continue
        status = re.sub(r"\s+", "_", word.lower()) or "update"
        found.append((status, _html_to_text(body), when))
    return found


def _stamp_time(
    stamp: str, published: datetime | None, bound: datetime | None, notes: dict[str, None]
) -> datetime | None:
    """Read "Nov 14, 14:07 PST" as UTC, taking the latest year that is not after ``bound``.

    An update cannot postdate the item (Statuspage dates an item by its latest
    update), so a stamp belongs to the most recent year that keeps it at or before
    the bound. A stamp that carries its own year is taken as written. Without a
    bound (the item has neither a published nor an updated date) a year-less stamp
    cannot be placed and yields None, so the caller skips that update with a note.
    """
    match = _STAMP.fullmatch(" ".join(stamp.split()))
    month = _MONTHS.get(match["mon"].lower()) if match else None
    if match is None or month is None:
        return None
    if match["year"]:
        years = [int(match["year"])]
    elif bound is not None:
        # Two years back so Feb 29, or an extreme zone offset near New Year, still
        # leaves a candidate at or before the bound; one ahead for the same offsets.
        years = list(range(bound.year - 2, bound.year + 2))
    else:
        return None
    tz = _zone(match["tz"], published, notes)
    candidates: list[datetime] = []
    for year in years:
        try:
            when = datetime(
                year, month, int(match["day"]), int(match["hh"]), int(match["mm"]), tzinfo=tz
            )
        except ValueError:  # Feb 29 in a non-leap candidate year, or 25:00
            continue
        # A written year is the page's word; monitor reads 1970-2999, and nearer the
        # calendar's ends the zone offset alone would overflow.
        if EARLIEST <= when < LATEST:
            candidates.append(when)
    if not candidates:
        return None
    if bound is not None and len(candidates) > 1:
        not_after = [c for c in candidates if c <= bound]
        # Nothing fits only if the page contradicts its own date: take the nearest.
        candidates = [max(not_after)] if not_after else [min(candidates)]
    return candidates[0].astimezone(UTC)


def _zone(abbr: str | None, published: datetime | None, notes: dict[str, None]) -> timezone:
    """Map an abbreviation to a fixed offset; otherwise trust the item's own published offset."""
    if abbr and abbr.upper() in _TZ_MINUTES:
        return timezone(timedelta(minutes=_TZ_MINUTES[abbr.upper()]))
    offset = published.utcoffset() if published is not None else None
    zone = timezone(offset) if offset is not None else UTC
    what = f"unknown time zone abbreviation {abbr!r}" if abbr else "no time zone abbreviation"
    source = "the item's published offset" if offset is not None else "no published offset known"
    notes[f"{what} in update times: assumed {zone.tzname(None)} ({source})"] = None
    return zone


def _update_records(
    incident_id: str, timeline: list[tuple[str, str, datetime]]
) -> tuple[UpdateRecord, ...]:
    """Give updates ids that survive re-parsing (feeds carry no update ids).

    Two updates with the same status and minute get a counter, counted from the
    oldest so that new updates arriving on top never renumber older ones.
    """
    seen: dict[str, int] = {}
    ids: list[str] = []
    for status, _body, when in reversed(timeline):
        key = f"{incident_id}|{status}|{when.isoformat()}"
        seen[key] = seen.get(key, 0) + 1
        suffix = f"|{seen[key]}" if seen[key] > 1 else ""
        ids.append(hashlib.sha1((key + suffix).encode(), usedforsecurity=False).hexdigest()[:12])
    return tuple(
        UpdateRecord(external_id=uid, status=status, body=body, created_at=when)
        for uid, (status, body, when) in zip(reversed(ids), timeline, strict=True)
    )


def _entry_time(entry: Any, key: str) -> datetime | None:
    """The item date in its own offset; the raw string keeps the page zone, struct_time drops it.

    A date outside the years monitor reads (1970-2999) counts as none: near the
    calendar's ends, adding slack or a zone offset would overflow.
    """
    # dict.get: FeedParserDict maps a missing "updated" to "published" with a DeprecationWarning.
    raw = dict.get(entry, key)
    parsed = _parse_date_text(raw) if isinstance(raw, str) else None
    if parsed is not None:
        parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        return parsed if EARLIEST <= parsed < LATEST else None
    struct = dict.get(entry, f"{key}_parsed")
    if struct is None:
        return None
    try:
        parsed = datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return parsed if EARLIEST <= parsed < LATEST else None


def _parse_date_text(raw: str) -> datetime | None:
    """Atom dates are ISO 8601, RSS dates RFC 822; anything else is left to feedparser."""
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None


def _description(entry: Any) -> str:
    """Atom puts the timeline in <content>, RSS in <description> (feedparser: summary)."""
    for content in entry.get("content") or ():
        value = content.get("value")
        if isinstance(value, str) and value.strip():
            return value
    return _text(entry.get("summary"))


def _split_names(names: str) -> list[str]:
    """Split "A, B (x, y) and C" into names; commas inside parentheses are part of a name."""
    text = html.unescape(_ANY_TAG.sub("", names)).strip()
    bounds = [0, *(at for cut in _cuts(_COMMA, text) for at in cut), len(text)]
    parts = [text[a:b].strip() for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
    parts = [p for p in parts if p]
    if len(parts) > 1 and parts[-1].lower().startswith("and "):
        parts[-1] = parts[-1][4:].strip()  # Oxford comma: "A, B, and C"
    elif parts and (ands := _cuts(_AND, parts[-1])):
        last = parts.pop()
        parts += [last[: ands[-1][0]], last[ands[-1][1] :]]
    return parts


def _cuts(separator: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """The (start, end) of each ``separator`` not inside parentheses, left to right.

    Inside means the next parenthesis after it closes one. This is what
    ``re.split(separator + r"(?![^()]*\\))")`` cuts at, but that lookahead
    rescans the rest of the text at every separator: quadratic in a long list.
    """
    parentheses = [(m.start(), m[0]) for m in _PARENTHESES.finditer(text)]
    positions = [at for at, _ in parentheses]
    cuts: list[tuple[int, int]] = []
    for match in separator.finditer(text):
        start, end = match.start(), match.start() + len(match[1])
        if cuts and start < cuts[-1][1]:
            continue  # overlaps the previous cut, which a split would have consumed
        after = bisect.bisect_left(positions, end)
        if after < len(parentheses) and parentheses[after][1] == ")":
            continue
        cuts.append((start, end))
    return cuts


def _html_to_text(fragment: str) -> str:
    """Plain text for storage: no tags, entities decoded, breaks kept as newlines."""
    text = html.unescape(_ANY_TAG.sub("", _LINE_BREAK_TAGS.sub("\n", fragment)))
    lines = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", lines).strip()


def _text(value: object) -> str:
    """feedparser fields are Any; keep only real, non-blank strings."""
    return value.strip() if isinstance(value, str) else ""
