"""Decode a feed's bytes before feedparser sees them, refusing what it would misread.

feedparser guesses: when the bytes do not follow the encoding a feed
declares it quietly reads them in another, and a name that is no encoding
(bytes that are not even ASCII) crashes it. Its fallback parser, which runs
on any feed that is not well-formed, expands the entities a DTD declares with
no limit: a 130 kB feed can ask for gigabytes. So the feed is decoded here,
by its byte order mark and its declaration as the XML spec says, with a
reason when they disagree; entities that could grow without bound are
refused; and feedparser gets UTF-8 that leaves it nothing to guess.
"""

from __future__ import annotations

import codecs
import re

from monitor.errors import ParseError

# Byte order marks; UTF-32's first, since UTF-32-LE's starts with UTF-16-LE's.
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# "<?xm" without a mark (XML 1.0, appendix F): the encoding family the
# declaration itself is written in. Anything else is read as ASCII-compatible.
_SNIFF = {
    b"\x00\x00\x00<": "utf-32-be",
    b"<\x00\x00\x00": "utf-32-le",
    b"\x00<\x00?": "utf-16-be",
    b"<\x00?\x00": "utf-16-le",
    b"Lo\xa7\x94": "cp037",
}
_DECLARATION = re.compile(r"<\?xml\s[^>]*>")
_ENCODING = re.compile(r"<\?xml\s[^>]*?\bencoding\s*=\s*([\"'])(?P<name>[^\"'>]*)\1")
_ENCODING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")  # EncName, XML 1.0 section 4.3.3
# Tried in turn on a feed that is UTF-8 by default or by declaration but has stray
# bytes: servers that say UTF-8 and send Windows-1252 are common, and these read them.
_UTF8_FALLBACKS = ("windows-1252", "iso-8859-2")
UTF8_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
_CHAR_REFERENCE = re.compile(rb"&#(?:[xX](?P<hex>[0-9a-fA-F]+)|(?P<dec>[0-9]+));")
_CHAR_REFERENCE_TEXT = re.compile(r"&#(?:[xX][0-9a-fA-F]+|[0-9]+);")
# An internal general entity; each value ends at the next quote, so a scan is linear.
_ENTITY_START = re.compile(r"<!ENTITY\b")
_SAFE_ENTITY = re.compile(
    r"<!ENTITY\s+(?P<name>[^\s%\"'<>]+)\s+(?:\"(?P<value>[^\"]*)\"|'(?P<value1>[^']*)')\s*>"
)
_REFERENCE = re.compile(r"&([^\s&;<>]+);")
MAX_EXPANSION = 1_000_000  # characters all entity references may add up to
_XML_CHARS = ((0x9, 0xA), (0xD, 0xD), (0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))


def utf8_feed(payload: bytes) -> bytes:
    """``payload`` as UTF-8 under a declaration saying so; ParseError when it cannot be read.

    Refused: a declared encoding that is no encoding, or that the bytes do not
    follow (a feed that declares UTF-8 and holds a stray Windows-1252 byte is
    read as Windows-1252, as feedparser always did); and entities that could
    expand without bound (see ``_check_entities``).
    """
    text = _decode(payload)
    if "<!ENTITY" in text:
        _check_entities(text)
    head = _DECLARATION.match(text)
    return (UTF8_DECLARATION + text[head.end() if head else 0 :]).encode("utf-8")


def _check_entities(text: str) -> None:
    """Allow only entities that are plain text or one character, used in moderation.

    That is what feedparser keeps (``<!ENTITY nbsp "&#160;">`` in an old RSS
    feed), and it cannot grow beyond MAX_EXPANSION characters. An entity made
    of other entities (the billion laughs), a parameter entity or an external
    one (never fetched) is refused, as is a literal one referenced so often
    that its copies would pass the bound.
    """
    values: dict[str, str] = {}
    for match in _ENTITY_START.finditer(text):
        entity = _SAFE_ENTITY.match(text, match.start())
        if entity is None:
            raise ParseError(
                "the feed declares a parameter or external entity: refused, "
                "since monitor never fetches what a feed points to"
            )
        value = entity["value"] if entity["value"] is not None else entity["value1"]
        if ("&" in value and not _CHAR_REFERENCE_TEXT.fullmatch(value)) or "%" in value:
            raise ParseError(
                f"the feed declares entity {entity['name'][:40]!r} in terms of others: "
                "refused, since nesting them is how a small feed expands to gigabytes"
            )
        name = entity["name"]  # declared twice: the longer value bounds either reading
        values[name] = max(values.get(name, ""), value, key=len)
    expansion = sum(len(values.get(ref[1], "")) for ref in _REFERENCE.finditer(text))
    if expansion > MAX_EXPANSION:
        raise ParseError(
            f"the feed's entities would expand to {expansion:,} characters: refused "
            f"(at most {MAX_EXPANSION:,})"
        )


def _decode(payload: bytes) -> str:
    for bom, encoding in _BOMS:
        if payload.startswith(bom):
            # The mark is the bytes' own word; a declaration cannot overrule it.
            return _read(payload[len(bom) :], encoding, f"starts with a {encoding} byte order mark")
    family = _SNIFF.get(payload[:4], "latin-1")
    found = _ENCODING.match(payload[:1024].decode(family, "replace"))
    if found is None:  # UTF-8 unless its first bytes are "<?xm" in another family
        if family == "latin-1":
            return _read(payload, "utf-8", "is UTF-8 by default")
        return _read(payload, family, f"starts like {family} text")
    name = found["name"]
    if not _ENCODING_NAME.fullmatch(name):
        raise ParseError(f"the feed declares encoding {name[:40]!r}, which is not an encoding name")
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise ParseError(
            f"the feed declares encoding {name[:40]!r}, which is not one known here"
        ) from None
    if codec in ("utf-16", "utf-32") and family.startswith(codec):
        codec = family  # the declaration names the width; its bytes gave the byte order
    codec = "gb18030" if codec == "gb2312" else codec  # a superset, as feedparser reads it
    text = _read(payload, codec, f"declares encoding {name!r}", name)
    if not text.startswith("<?xml"):
        # Decodable, but the declaration does not read back: the bytes are another encoding.
        raise ParseError(f"the feed declares encoding {name!r} but its bytes are not {name}")
    return text


def _read(data: bytes, codec: str, said: str, name: str | None = None) -> str:
    """``data`` decoded; ``said`` is how the feed named ``codec``, for the reason."""
    tries = (codec, *_UTF8_FALLBACKS) if codecs.lookup(codec).name == "utf-8" else (codec,)
    for encoding in tries:
        try:
            text = data.decode(encoding)
            text.encode("utf-8")  # a decoder such as UTF-7 can yield unpaired surrogates
        except LookupError:  # a codec, but not a text encoding: rot13, zlib, base64
            raise ParseError(f"the feed {said}, which is not a character encoding") from None
        except UnicodeError:
            continue
        return text
    raise ParseError(f"the feed {said} but its bytes are not {name or codec}")


def bad_reference(document: bytes) -> str | None:
    """Name the first character reference XML forbids (``&#0;``, ``&#xD800;``, ``&#x110000;``).

    For a reason only: run once a parser has refused the document.
    """
    for match in _CHAR_REFERENCE.finditer(document):
        digits = (match["hex"] or match["dec"]).lstrip(b"0")
        if len(digits) > 8:  # past U+10FFFF however it is written
            return f"character reference {match[0][:20].decode()}… names no character"
        code = int(digits or b"0", 16 if match["hex"] else 10)
        if not any(low <= code <= high for low, high in _XML_CHARS):
            return f"character reference {match[0].decode()} names no character XML allows"
    return None
