"""for_terminal, for_xml and for_terminal_json: outside text shown, never obeyed; documents stay valid."""

from __future__ import annotations

import json
import random
import re
import unicodedata
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as xml_escape

import pytest

from monitor.escape import REPLACEMENT, for_terminal, for_terminal_json, for_xml

# What a terminal must never receive raw; U+200C and U+200D are kept (emoji, scripts).
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
KEPT_FORMAT = {"\u200c", "\u200d"}
ESCAPE = re.compile(r"\\(?:\\|t|n|r|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def unsafe(char: str) -> bool:
    return unicodedata.category(char) in UNSAFE_CATEGORIES and char not in KEPT_FORMAT


def read_back(shown: str) -> str:
    """The reading for_terminal promises: its escapes decoded, any other backslash literal."""

    def decode(match: re.Match[str]) -> str:
        escape = match.group()
        named = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
        return named.get(escape) or chr(int(escape[2:], 16))

    return ESCAPE.sub(decode, shown)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("\x1b[2J\x1b[H", r"\x1b[2J\x1b[H", id="clear-screen"),
        pytest.param("\x1b]0;pwned\x07", r"\x1b]0;pwned\x07", id="osc-window-title"),
        # The string terminator's backslash ends the text: it cannot read as an escape.
        pytest.param("\x1b]8;;https://e\x1b\\", "\\x1b]8;;https://e\\x1b\\", id="osc-link"),
        pytest.param("a\nverdict: local", r"a\nverdict: local", id="line-feed"),
        pytest.param("ok\rFAIL", r"ok\rFAIL", id="carriage-return"),
        pytest.param("a\tb", r"a\tb", id="tab"),
        pytest.param("\x00\x07\x08\x0b\x0c\x1f", r"\x00\x07\x08\x0b\x0c\x1f", id="other-c0"),
        pytest.param("\x7f", r"\x7f", id="del"),
        pytest.param("\x9b2J", r"\x9b2J", id="c1-csi"),
        pytest.param("a\x85b", r"a\x85b", id="c1-next-line"),
        pytest.param("\x80\x9f", r"\x80\x9f", id="c1-range-ends"),
        pytest.param("admin\u202egnp.exe", r"admin\u202egnp.exe", id="right-to-left-override"),
        pytest.param("\u202a\u202b\u202c\u202d", r"\u202a\u202b\u202c\u202d", id="embeddings"),
        pytest.param("\u2066\u2067\u2068\u2069", r"\u2066\u2067\u2068\u2069", id="isolates"),
        pytest.param("\u200e\u200f\u061c", r"\u200e\u200f\u061c", id="marks"),
        pytest.param("a\u2028b\u2029c", r"a\u2028b\u2029c", id="line-paragraph-separators"),
        pytest.param("ap\u200bi", r"ap\u200bi", id="zero-width-space"),
        pytest.param("\ufeffapi\u2060", r"\ufeffapi\u2060", id="bom-word-joiner"),
        pytest.param("\xadx", r"\xadx", id="soft-hyphen"),
        pytest.param("t\U000e0041\U000e007f", r"t\U000e0041\U000e007f", id="tag-characters"),
        pytest.param("x\ud800y", r"x\ud800y", id="lone-surrogate"),
    ],
)
def test_it_shows_each_unsafe_character_as_an_escape(text: str, shown: str) -> None:
    assert for_terminal(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Elevated errors on Claude Opus 4 – resolved",
        "Störung: “Anmeldung” fehlgeschlagen …",
        "接続エラー",
        "خطأ في الخدمة",  # right-to-left text itself is fine; only the controls are escaped
        "family 👨\u200d👩\u200d👧, flag 🇩🇪, ✔\ufe0f",
        "می\u200cخواهم",  # zero-width non-joiner, needed in Persian
        "non\xa0breaking",
        "",
    ],
)
def test_it_leaves_ordinary_text_alone(text: str) -> None:
    assert for_terminal(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param(r"{\"type\":\"error\"}", r"{\"type\":\"error\"}", id="json-quotes-kept"),
        pytest.param(r"C:\Program Files", r"C:\Program Files", id="other-letters-kept"),
        pytest.param("ends with \\", "ends with \\", id="trailing-kept"),
        pytest.param(r"C:\Users\new", r"C:\\Users\\new", id="before-u-and-n"),
        pytest.param(r"typed \x1b[2J", r"typed \\x1b[2J", id="literal-escape"),
        pytest.param(r"a\\b", r"a\\\b", id="double"),
        pytest.param("\\\x1b", r"\\\x1b", id="before-an-escaped-character"),
        pytest.param(r"\t\r\u00e9\U0001f600", r"\\t\\r\\u00e9\\U0001f600", id="all-escape-letters"),
    ],
)
def test_it_doubles_a_backslash_only_where_it_would_read_as_an_escape(
    text: str, shown: str
) -> None:
    assert for_terminal(text) == shown
    assert read_back(shown) == text


def test_a_vendor_cannot_forge_the_escape_of_a_real_control_character() -> None:
    assert for_terminal("\x1b") != for_terminal(r"\x1b")
    assert for_terminal("\n") != for_terminal(r"\n")


def test_it_escapes_exactly_the_unsafe_characters_of_this_unicode_version() -> None:
    """Cc, Cf, Cs, Zl and Zp but U+200C/U+200D; past them, only code points this Python
    does not know yet (the ranges follow a newer Unicode)."""
    missed, extra = [], []
    for code in range(0x110000):
        char = chr(code)
        escaped = for_terminal(char) != char
        if unsafe(char) and not escaped:
            missed.append(f"U+{code:04X}")
        elif escaped and not unsafe(char) and unicodedata.category(char) != "Cn":
            extra.append(f"U+{code:04X}")
    assert missed == []
    assert extra == []


def random_text(rng: random.Random, size: int) -> str:
    """Text rich in what makes escaping hard: backslashes, escape letters, hex, controls."""
    tricky = (
        "\\\\\\xuUtnr0a1bf\x1b\n\r\t\x07\x7f\x85\x9b\u202e\u2028\u200b\u200d\ud800\U000e0041é😀 "
    )
    return "".join(rng.choice(tricky) for _ in range(size))


def test_its_output_reads_back_to_the_exact_text_and_holds_nothing_unsafe() -> None:
    rng = random.Random(20260414)
    for _ in range(3000):
        text = random_text(rng, rng.randrange(0, 24))
        shown = for_terminal(text)
        assert read_back(shown) == text, (text, shown)
        assert not any(unsafe(c) for c in shown), shown


def test_text_without_backslashes_is_escaped_once_and_then_left_alone() -> None:
    text = "Outage\x1b[2J on\u202e the API\nverdict: local"
    shown = for_terminal(text)
    assert for_terminal(shown.replace("\\", "/")) == shown.replace("\\", "/")


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        pytest.param("abcdef", 6, "abcdef", id="fits"),
        pytest.param("abcdefgh", 3, "abc…[+5 chars]", id="plain"),
        pytest.param("abcd", 3, "abc…[+1 char]", id="one-char"),
        pytest.param("ab\x1bcd", 5, r"ab…[+3 chars]", id="an-escape-is-never-split"),
        pytest.param("ab\x1bcd", 6, r"ab\x1b…[+2 chars]", id="an-escape-that-fits"),
        pytest.param("\x1b" * 100, 8, r"\x1b\x1b…[+98 chars]", id="counts-characters-of-the-text"),
        pytest.param("abc", 0, "…[+3 chars]", id="nothing-kept"),
    ],
)
def test_it_cuts_a_long_value_with_a_marker_saying_how_much(
    text: str, limit: int, shown: str
) -> None:
    assert for_terminal(text, limit=limit) == shown


def test_a_cut_value_begins_as_the_whole_one_does() -> None:
    rng = random.Random(7)
    for _ in range(500):
        text = random_text(rng, 40)
        whole = for_terminal(text)
        limit = rng.randrange(0, 60)
        cut = for_terminal(text, limit=limit)
        if len(whole) <= limit:
            assert cut == whole
            continue
        kept, marker = cut.rsplit("…", 1)
        assert len(kept) <= limit
        assert whole.startswith(kept)
        counted = re.fullmatch(r"\[\+(\d+) chars?\]", marker)
        assert counted is not None
        assert read_back(kept) == text[: len(text) - int(counted.group(1))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a\x1b[2Jb", "a\ufffd[2Jb", id="esc"),
        pytest.param("\x00\x08\x0b\x0c\x0e\x1f", "\ufffd" * 6, id="c0"),
        pytest.param("t\tl\nc\r", "t\tl\nc\r", id="tab-lf-cr-kept"),
        pytest.param("\ufffe\uffff", "\ufffd\ufffd", id="bmp-noncharacters"),
        pytest.param("x\ud800\udfff", "x\ufffd\ufffd", id="lone-surrogates"),
        pytest.param("\x7f\x85\x9b", "\ufffd\ufffd\ufffd", id="del-and-c1"),
        pytest.param("\ufdd0\U0001fffe\U0010ffff", "\ufffd" * 3, id="other-noncharacters"),
        pytest.param("rtl\u202eltr \u200b😀 “q” &<>", "rtl\u202eltr \u200b😀 “q” &<>", id="kept"),
    ],
)
def test_for_xml_replaces_what_xml_and_html_may_not_hold(text: str, expected: str) -> None:
    assert for_xml(text) == expected
    assert for_xml(expected) == expected


def test_for_xml_makes_any_text_parse_as_xml() -> None:
    every = "".join(chr(code) for code in range(0x110000))
    safe = for_xml(every)
    root = ET.fromstring(f"<t>{xml_escape(safe)}</t>".encode())  # noqa: S314 (built here)
    # XML reads a CR as a line feed; everything else arrives as written.
    assert root.text == safe.replace("\r", "\n")
    assert REPLACEMENT in safe


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "\x1b[2J\x1b]0;t\x07 \u202e\x85\x9b\u2028\x7f",
        "tag\U000e0041 emoji 😀 é \ud800",
        {"nested": ["\u2066x\u2069", "line\nverdict: local"]},
    ],
)
def test_for_terminal_json_is_the_same_json_value_with_nothing_unsafe_raw(value: object) -> None:
    document = for_terminal_json(json.dumps(value, indent=2, ensure_ascii=False))
    assert json.loads(document) == value
    assert not any(unsafe(c) for c in document.replace("\n", ""))


def test_for_terminal_json_leaves_readable_text_readable() -> None:
    document = json.dumps({"title": "Störung – 接続 😀"}, ensure_ascii=False)
    assert for_terminal_json(document) == document
