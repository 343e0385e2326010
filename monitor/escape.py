"""Outside text is data: shown escaped on a terminal, valid in XML.

Incident titles, component names, error texts from the user's logs, check
details and URLs are written by someone else. Printed raw, ``ESC[2J`` clears
the user's screen, ``ESC]0;...BEL`` retitles the window, U+202E reverses
what follows, and a newline starts a line the program never wrote, such as
a fake verdict. Written raw into an SVG or HTML page, one control character
makes the whole document invalid and the browser refuses it.

Nothing is changed where it is stored: the database and ``--json`` keep the
exact text. These functions run where text is shown, once.
"""

from __future__ import annotations

import re
from functools import cache

# What a terminal must never receive raw. Written out, not derived from
# unicodedata at import (that walks every code point on every command); the
# ranges follow Unicode 15.1 and tests/test_escape.py checks them against the
# running Python's database:
#  - Cc: C0 controls (ESC, BEL, CR, LF, TAB ...), DEL and the C1 controls
#    (U+0080-U+009F: U+009B is a one-character CSI, U+0085 a line break);
#  - Zl, Zp: U+2028 and U+2029 break the line like LF;
#  - Cf, the invisible format characters: bidi marks, embeddings, overrides
#    and isolates (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069),
#    which reorder what follows on screen, and zero-width ones (U+200B,
#    U+2060, U+FEFF, the U+E0000 tags that hide ASCII), which make two
#    different names look identical;
#  - Cs: a lone surrogate, which cannot even be encoded to UTF-8.
# Kept: U+200C and U+200D (zero-width non-joiner and joiner). Emoji
# sequences and several scripts (Persian, Indic) need them, and a name
# spoofed with them is no more convincing than one spoofed with look-alike
# letters, which no escaping can catch.
_C0 = r"\x00-\x1f"
_OTHER_UNSAFE = (
    r"\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    r"\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff"
    r"\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_UNSAFE = _C0 + _OTHER_UNSAFE
# An unsafe character, or a backslash that would otherwise read as the start
# of an escape: one before \, x, u, U, t, n, r or an escaped character.
# The patterns are compiled on first use, not at import: the three take some
# 8 ms, which every command would pay, most of them printing nothing outside.


@cache
def _shown() -> re.Pattern[str]:
    return re.compile(rf"[{_UNSAFE}]|\\(?=[\\xuUtnr{_UNSAFE}])")


_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def for_terminal(text: str, *, limit: int | None = None) -> str:
    r"""``text`` made safe to print: nothing in it can move the cursor, start a line or reorder.

    Each unsafe character (C0 and C1 controls, DEL, U+2028/U+2029, bidi and
    other invisible format characters, lone surrogates) is shown as the
    escape Python would write for it: ``\t``, ``\n``, ``\r``, else ``\xHH``,
    ``\uHHHH`` or ``\UHHHHHHHH`` (lower-case hex), so ``ESC[2J`` reads
    ``\x1b[2J``. A backslash is doubled only where it would otherwise read
    as one of those escapes (before ``\``, ``x``, ``u``, ``U``, ``t``,
    ``n``, ``r`` or an escaped character); elsewhere (``C:\Program Files``,
    ``{\"type\": ...}``) it stays single, so the usual text reads as it was.
    Read back with those rules the result gives ``text`` exactly: a literal
    ``\x1b`` typed by a vendor prints as ``\\x1b``, never like an ESC.

    Not idempotent, by design: a second pass would show the first one's
    escapes as the text they now are. It belongs where text is printed, once.

    With ``limit``, at most ``limit`` characters of the result are kept
    (an escape is never split) and ``…[+N chars]`` says how many characters
    of ``text`` were left out.
    """
    shown = _shown().sub(_escape, text) if "\\" in text or not text.isprintable() else text
    if limit is None or len(shown) <= limit:
        return shown
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``for_terminal(text)`` and the cut marker."""
    pieces: list[str] = []
    room, at = limit, 0
    for match in _shown().finditer(text):
        plain = text[at : match.start()]
        if len(plain) >= room:
            break
        pieces.append(plain)
        room -= len(plain)
        at = match.start()
        piece = _escape(match)
        if len(piece) > room:
            room = 0
            break
        pieces.append(piece)
        room -= len(piece)
        at = match.end()
    kept = text[at : at + room] if room else ""
    pieces.append(kept)
    at += len(kept)
    left_out = len(text) - at
    return "".join(pieces) + f"…[+{left_out} char{'' if left_out == 1 else 's'}]"


# Not allowed in an XML 1.0 document: C0 controls but TAB, LF and CR; lone
# surrogates; U+FFFE and U+FFFF. Also replaced, because the same text goes
# into the HTML page, where they are parse errors, and XML 1.0 discourages
# them: DEL, the C1 controls and the noncharacters (U+FDD0-U+FDEF, the last
# two code points of every plane).
@cache
def _not_xml() -> re.Pattern[str]:
    return re.compile(
        "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
        + "".join(
            f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17)
        )
        + "]"
    )


REPLACEMENT = "\ufffd"


def for_xml(text: str) -> str:
    """``text`` with every character an XML or HTML document may not hold replaced by U+FFFD.

    U+FFFD (the replacement character, drawn as a diamond with a question
    mark) says that something was there without drawing a control code in a
    chart, and every font the charts use has it. The exact text stays in the
    database and in ``--json``. Idempotent; bidi and zero-width characters are
    valid XML and are kept (a browser confines their effect to the element).
    """
    return _not_xml().sub(REPLACEMENT, text)


# In a JSON document, an unsafe character can only sit inside a string, where
# ``\uHHHH`` means that same character: written so, the document decodes to
# the same value and prints safely. C0 controls are left alone: json.dumps
# escapes those inside strings, and the newlines between values are its own.
@cache
def _raw_in_json() -> re.Pattern[str]:
    return re.compile(f"[{_OTHER_UNSAFE}]")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"


def for_terminal_json(document: str) -> str:
    r"""A ``json.dumps`` document with the unsafe characters it left raw written as ``\u`` escapes.

    ``json.dumps(..., ensure_ascii=False)`` (kept so that accents and CJK stay
    readable) escapes only C0 controls: DEL, C1 controls, U+2028, U+2029, the bidi
    and other format characters would reach the terminal raw. Escaped, the
    JSON value is exactly the same; characters outside the BMP are written as
    their surrogate pair, as JSON requires.
    """
    return _raw_in_json().sub(_json_escape, document)
