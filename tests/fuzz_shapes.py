"""Inputs shaped like the real payloads, then broken: JSON trees and XML feeds.

Byte mutations (tests/fuzzing.py) mostly die in the JSON decoder or the XML
parser. These keep the document well-formed and break what the parsers read
next: a value of the wrong JSON type, a missing or repeated key, a number
past every limit, nesting past the recursion limit, a time at the edge of the
calendar; an XML declaration naming another or no encoding, a body in UTF-16,
a DTD with entities, a date or a timeline stamp nobody writes.
"""

from __future__ import annotations

import copy
import encodings.aliases
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.fuzzing import edit

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


# --- JSON -----------------------------------------------------------------------------


class Raw(str):
    """JSON text written as is: what json.dumps cannot produce (5000 digits, a lone surrogate)."""


class Pairs(list[tuple[str, Any]]):
    """An object written with its keys in this order, repeats allowed."""


def dump(value: Any) -> bytes:
    return _dump(value).encode("utf-8")


def _dump(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        value = Pairs(value.items())
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{json.dumps(k)}:{_dump(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, member in value.items():
            yield key
            yield from _keys(member)
    elif isinstance(value, list):
        for member in value:
            yield from _keys(member)


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, member in value.items():
            yield from _paths(member, (*prefix, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from _paths(member, (*prefix, index))


def _incident_as_maintenance(incident: dict[str, Any]) -> dict[str, Any]:
    """A scheduled maintenance in Statuspage's shape, made from a real incident."""
    entry = dict(incident, impact="maintenance", status="scheduled")
    return entry | {
        "scheduled_for": incident["created_at"],
        "scheduled_until": incident.get("resolved_at") or incident["created_at"],
    }


def _json_seeds() -> dict[str, list[Any]]:
    """Trimmed real documents per parser: small enough that a mutation is likely to matter."""
    summary = json.loads(fixture("github/summary-2026-07-31.json"))
    incidents = json.loads(fixture("github/incidents-2026-07-31.json"))
    claude = json.loads(fixture("claude/incidents-trimmed-2026-06.json"))
    bare = json.loads(fixture("github/incident-8vfyvq16hzh9-actions-critical.json"))
    quiet = json.loads(fixture("statusio-docker/status-operational-2022-04-23.json"))
    noisy = json.loads(fixture("statusio-docker/status-partial-disruption-2021-04-03.json"))
    some = [dict(i, incident_updates=i["incident_updates"][:3]) for i in incidents["incidents"][:3]]
    maintenance = _incident_as_maintenance(some[0])
    open_summary = summary | {"incidents": some[:1], "scheduled_maintenances": [maintenance]}
    windows = copy.deepcopy(noisy)
    incident = windows["result"]["incidents"][0]
    windows["result"]["maintenance"] = {
        "active": [incident | {"datetime_planned_start": incident["datetime_open"]}],
        "upcoming": [
            {k: v for k, v in incident.items() if k != "_id"}
            | {"id": "up-1", "datetime_planned_end": incident["datetime_open"]}
        ],
    }
    return {
        "summary": [summary, open_summary],
        "incidents": [claude, incidents | {"incidents": [*some, maintenance]}],
        "maintenances": [{"page": incidents["page"], "scheduled_maintenances": [maintenance]}],
        "incident": [bare, {"incident": some[1]}],
        "statusio": [quiet, noisy, windows],
    }


JSON_SEEDS = _json_seeds()
KNOWN_KEYS = sorted({k for docs in JSON_SEEDS.values() for doc in docs for k in _keys(doc)})
PATHS = {id(doc): list(_paths(doc)) for docs in JSON_SEEDS.values() for doc in docs}

# Times at the edges: the calendar's ends shifted out of range by an offset, days
# that do not exist, forms fromisoformat half-accepts, and plain nonsense.
EDGE_TIMES = (
    "", " ", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59.999999Z", "2026-02-30T00:00:00Z", "2026-07-30T24:00:00Z",
    "2026-07-30T10:12:15.489z", "2026-07-30", "20260730T101215Z", "2026-W31-4",
    "2026-07-30T10:12:15+23:59", "2026-07-30T10:12:15-23:59:59.999999", "2026-07-30 10:12",
    "1970-01-01T00:00:00Z", "now", "null", "1785400000", "T", "+00:00",
    "2026-07-30T10:12:15.4891234567Z", "２０２６-07-30T10:12:15Z",
)  # fmt: skip
EDGE_RAW = (
    Raw("1" * 5000), Raw("1e999"), Raw("-1e999"), Raw("NaN"), Raw("-Infinity"), Raw("-0"),
    Raw("1" + "0" * 400), Raw("0." + "0" * 400 + "1"), Raw('"\\ud800"'), Raw('"a\\udfffb"'),
    Raw('"\\u0000"'), Raw('"' + "\\n" * 50 + '"'), Raw('"' + " " * 5000 + '"'),
    Raw('"' + "x" * 100_000 + '"'),
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(100, 600),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(EDGE_TIMES),
    st.sampled_from(EDGE_RAW),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


@st.composite
def reshaped(draw: st.DrawFn, seeds: Sequence[Any], most: int = 6) -> bytes:
    """A real document with 1..``most`` nodes replaced, dropped, repeated, wrapped or nested."""
    original = draw(st.sampled_from(seeds))
    paths = PATHS[id(original)]
    doc = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, most))):
        path = draw(st.sampled_from(paths))
        doc = _apply(draw, doc, path)
    return dump(doc)


def _apply(draw: st.DrawFn, doc: Any, path: tuple[str | int, ...]) -> Any:
    """Edit the node at ``path``; a path an earlier edit broke is left alone."""
    parent: Any = None
    node = doc
    for step in path:
        if not isinstance(node, dict | list) or isinstance(node, Pairs):
            return doc
        try:
            parent, node = node, node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return doc
    kind = draw(st.sampled_from(("replace", "replace", "drop", "repeat", "wrap", "nest")))
    if kind == "replace" and _is_time(path):
        new = draw(st.sampled_from(EDGE_TIMES) | JSON_VALUES)
    elif kind == "replace":
        new = draw(JSON_VALUES)
    elif kind == "wrap":
        new = draw(st.sampled_from(([node], {"value": node}, {"data": node})))
    elif kind == "nest":
        depth = draw(st.sampled_from((2, 50, 900, 5000, 100_000)))
        new = Raw("[" * depth + _dump(node) + "]" * depth)
    else:
        new = node
    if parent is None:
        return new
    key = path[-1]
    if kind == "drop":
        del parent[key]
    elif kind == "repeat" and isinstance(parent, dict):
        # The key written twice, once with another value: JSON parsers keep the last.
        pairs = Pairs(parent.items())
        pairs.insert(draw(st.integers(0, len(pairs))), (str(key), draw(JSON_VALUES)))
        return _put(doc, path[:-1], pairs)
    else:
        parent[key] = new
    return doc


def _is_time(path: tuple[str | int, ...]) -> bool:
    key = path[-1] if path else ""
    return isinstance(key, str) and key.endswith(_TIME_KEYS)


_TIME_KEYS = ("_at", "datetime", "_for", "_until", "_start", "_end", "updated")


def _put(doc: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """``doc`` with the node at ``path`` replaced by ``value`` (the root: ``value`` itself)."""
    if not path:
        return value
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


# --- XML ------------------------------------------------------------------------------


def _trim(feed: bytes, keep: int = 2) -> bytes:
    """The feed with only its first ``keep`` items: mutations land in less text."""
    starts = [m.start() for m in re.finditer(rb"<(?:entry|item)[\s>]", feed)]
    ends = [m.end() for m in re.finditer(rb"</(?:entry|item)>", feed)]
    if len(starts) <= keep:
        return feed
    return feed[: starts[keep]] + feed[ends[-1] :]


FEEDS = [
    fixture("saucelabs/us-west-1-history.atom"),
    fixture("digitalocean/history.atom"),
    fixture("digitalocean/history.rss"),
]
SMALL_FEEDS = [_trim(feed) for feed in FEEDS]

# Every name Python has a codec for (text codecs, byte-to-byte ones like
# zlib_codec, Python's own like punycode), plus names that are no codec.
DECLARED = (
    *sorted(set(encodings.aliases.aliases.values())),
    "utf-32", "UTF-32", "utf-16", "UTF-16LE", "utf-8-sig", "UTF-8", "bogus", "", "x-mac-roman",
    "idna", "punycode", "undefined", "unicode_escape", "raw_unicode_escape", "utf-8\x00",
    "ebcdic-cp-us", "windows-1252", "iso-10646-ucs-4", "ucs-2",
)  # fmt: skip
REENCODE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be", "cp037", "utf-7", "latin-1")
BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
DATE_TAG = re.compile(rb"<(pubDate|published|updated|lastBuildDate)>([^<]*)</")
STAMP = re.compile(rb"&lt;small&gt;(.*?)&lt;/small&gt;")
# Item dates and timeline stamps nobody writes: calendar ends, offsets that push
# them past the ends, days and hours that do not exist, unknown zones.
EDGE_DATES = (
    b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-14:00", b"0001-01-01T00:00:00Z",
    b"Mon, 01 Jan 0001 00:00:00 +1400", b"Fri, 31 Dec 9999 23:59:59 -1400", b"",
    b"Tue, 30 Feb 2021 25:61:00 +0000", b"yesterday", b"2020-11-02", b"1e9", b"-1",
    b"Mon, 02 Nov 2020 10:00:00 XYZ", b"Sat, 01 Jan 0000 00:00:00 GMT", b"2020-13-45T99:99:99Z",
)  # fmt: skip
EDGE_STAMPS = (
    b"Jan 1, 0001 00:00 JST", b"Dec 31, 9999 23:59 PST", b"Feb 29, 10:00 UTC", b"Feb 30, 10:00",
    b"Nov 14, 25:99 PST", b"Nov 14, 14:07 XYZ", b"Nov 99, 14:07", b"Xyz 1, 10:00", b"",
    b"Jan 1, 0000 00:00 UTC", b"Nov 14, 14:07", b"&lt;b&gt;Nov 14&lt;/b&gt;, 14:07 PST",
)  # fmt: skip


def _dtds(path: str) -> tuple[bytes, ...]:
    laughs = [b'<!ENTITY l0 "lol">'] + [
        b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 9)
    ]
    return (
        b"<!DOCTYPE rss [\n" + b"\n".join(laughs) + b"\n]>\n",
        b"<!DOCTYPE rss [" + b"".join(laughs) + b"]>",
        b'<!DOCTYPE rss [\n<!ENTITY big "' + b"A" * 20_000 + b'">\n]>\n',
        b'<!DOCTYPE rss [\n<!ENTITY ext SYSTEM "file://' + path.encode() + b'">\n]>\n',
        b'<!DOCTYPE rss SYSTEM "file://' + path.encode() + b'">\n',
        b'<!DOCTYPE rss [\n<!ENTITY % p SYSTEM "file://' + path.encode() + b'">\n%p;\n]>\n',
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://127.0.0.1:9/rss-0.91.dtd">\n',
        b'<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n]>\n',
    )


DTDS = _dtds("/nonexistent/monitor-fuzz-secret")
ENTITY_REFS = (b"&l8;", b"&big;" * 2000, b"&ext;", b"&nbsp;", b"&bogus;", b"&#0;", b"&#x110000;")


@st.composite
def odd_feed(draw: st.DrawFn, seeds: Sequence[bytes], most: int = 3) -> bytes:
    """A real feed with XML-level edits: encodings, BOMs, DTDs, entities, dates, stamps."""
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, most))):
        kind = draw(st.sampled_from(("declare", "reencode", "bom", "dtd", "date", "stamp", "byte")))
        data = draw(_XML_EDITS[kind](data, seeds))
    return data


@st.composite
def _declare(draw: st.DrawFn, data: bytes, seeds: Sequence[bytes]) -> bytes:
    """Name another encoding in the declaration, or drop the declaration."""
    name = draw(st.sampled_from(DECLARED)).encode("latin-1")
    body = re.sub(rb"^<\?xml[^>]*\?>", b"", data)
    if draw(st.booleans()) and name:
        return b'<?xml version="1.0" encoding="' + name + b'"?>' + body
    return body if not name else b"<?xml version='1.0' encoding='" + name + b"'?>\n" + body


@st.composite
def _reencode(draw: st.DrawFn, data: bytes, seeds: Sequence[bytes]) -> bytes:
    """The same text in another encoding, declared truthfully or not."""
    codec = draw(st.sampled_from(REENCODE))
    text = data.decode("utf-8", "replace")
    if draw(st.booleans()):
        text = re.sub(r"encoding=[\"'][^\"']*[\"']", f'encoding="{codec}"', text, count=1)
    return text.encode(codec, "replace")


@st.composite
def _bom(draw: st.DrawFn, data: bytes, seeds: Sequence[bytes]) -> bytes:
    return draw(st.sampled_from(BOMS)) + data


@st.composite
def _dtd(draw: st.DrawFn, data: bytes, seeds: Sequence[bytes]) -> bytes:
    """Put a DTD after the declaration, and a reference to its entity into the title."""
    dtd = draw(st.sampled_from(DTDS))
    declaration = re.match(rb"^<\?xml[^>]*\?>\s*", data)
    at = declaration.end() if declaration else 0
    data = data[:at] + dtd + data[at:]
    ref = draw(st.sampled_from(ENTITY_REFS))
    return re.sub(rb"<title>", b"<title>" + ref, data, count=1)


@st.composite
def _date(draw: st.DrawFn, data: bytes, seeds: Sequence[bytes]) -> bytes:
    found = list(DATE_TAG.finditer(data))
    if not found:
        return data
    match = draw(st.sampled_from(found))
    new = draw(st.sampled_from(EDGE_DATES) | st.binary(max_size=30).map(_xml_safe))
    return data[: match.start(2)] + new + data[match.end(2) :]


@st.composite
def _stamp(draw: st.DrawFn, data: bytes, seeds: Sequence[bytes]) -> bytes:
    found = list(STAMP.finditer(data))
    if not found:
        return data
    match = draw(st.sampled_from(found))
    new = draw(st.sampled_from(EDGE_STAMPS) | st.binary(max_size=30).map(_xml_safe))
    return data[: match.start(1)] + new + data[match.end(1) :]


def _xml_safe(raw: bytes) -> bytes:
    return raw.replace(b"<", b"").replace(b"&", b"")


_XML_EDITS = {
    "declare": _declare,
    "reencode": _reencode,
    "bom": _bom,
    "dtd": _dtd,
    "date": _date,
    "stamp": _stamp,
    "byte": edit,
}

# Chunks that, repeated thousands of times, find work that grows faster than
# the input: unclosed tags in a timeline, lists of component names, whitespace,
# nesting, escapes.
AMPLIFIERS = (
    b"&lt;small&gt;", b"&lt;", b"&lt;p ", b"&lt;br", b"&lt;strong&gt;", b"   ", b"(",
    b"This incident affected: a, ", b"This incident affected: a and ", b"[", b'{"a":', b'"\\u',
    b"\\ud800", b"&amp;", b"&#0;",
)  # fmt: skip


@st.composite
def amplified(draw: st.DrawFn, seeds: Sequence[bytes], budget: int = 300_000) -> bytes:
    """A seed with one chunk (its own or a known troublemaker) repeated up to ``budget`` bytes."""
    data = draw(st.sampled_from(seeds))
    # Anywhere, or at the end of an item's text or a JSON string, where nothing
    # that closes what the chunk opens follows.
    ends = [m.start() for m in re.finditer(rb'</(?:content|description|summary)>|"[,}\]]', data)]
    at = draw(st.sampled_from(ends or [0]) if draw(st.booleans()) else st.integers(0, len(data)))
    own = data[at : at + draw(st.integers(1, 32))]
    chunk = (draw(st.sampled_from(AMPLIFIERS)) if draw(st.integers(0, 3)) else own) or b"x"
    # Sizes from a list: drawn as integers, Hypothesis would mostly try small ones.
    size = draw(st.sampled_from((budget // 10, budget // 2, budget)))
    return data[:at] + chunk * max(1, size // len(chunk)) + data[at:]
