"""Feeds shaped like the real ones, then broken where XML and feedparser are weakest.

An XML declaration naming another encoding, or none, or no encoding at all; a
body re-encoded in UTF-16, UTF-32, EBCDIC or UTF-7; a byte order mark that
disagrees; a DTD with nested, huge, parameter or external entities; dates and
timeline stamps at the ends of the calendar.
"""

from __future__ import annotations

import encodings.aliases
import re
from collections.abc import Sequence

from hypothesis import strategies as st

from tests.fuzz_shapes import fixture
from tests.fuzzing import edit


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
