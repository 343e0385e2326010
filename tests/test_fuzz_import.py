"""Fuzz the reading of the user's logs: every line is an observation or a rejection, never a crash.

``monitor import`` reads files it has never seen, written by tools we do not
know. One line that raises would end the import of every line after it, so
the property is per line: each one that is not blank or a comment yields
exactly one ObservedLine (aware UTC, storable text, a known class) or one
RejectedLine with a short readable reason. Counts: tests/fuzzing.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from monitor.cli.importer import _decoded, _Tally
from monitor.failures import Failure
from monitor.observed import (
    MAX_ERROR,
    ObservedLine,
    ParsedLine,
    RejectedLine,
    detect_format,
    parse_jsonl,
    parse_text,
)
from tests.fuzz_shapes import EDGE_RAW, EDGE_TIMES, Pairs, dump
from tests.fuzzing import TOKENS, assert_readable, assert_text, assert_utc, fuzz, no_hang

NOW = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)
ZONES: tuple[tzinfo | None, ...] = (
    None,  # this machine's zone, as the CLI does without --tz
    UTC,
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("Pacific/Kiritimati"),  # +14:00, pushes early dates before year 1
    ZoneInfo("America/St_Johns"),  # -03:30
    timezone(timedelta(hours=-12)),
)
Parse = Callable[..., Iterator[ParsedLine]]


def read(parse: Parse, lines: list[str], tz: tzinfo | None, at: datetime | None = None) -> None:
    """The property, for one file's lines."""
    with no_hang():
        parsed = list(parse(lines, tz=tz, now=NOW, at=at))
    wanted = [n for n, line in enumerate(lines, start=1) if _counted(line)]
    if parse is parse_text:
        # A line continuing the entry above it (a stack frame) is that entry's;
        # every other line is an entry of its own.
        numbers = [item.line for item in parsed]
        assert numbers == sorted(set(numbers))
        assert set(numbers) <= set(wanted)
        assert not wanted or numbers[:1] == wanted[:1]
        for number in set(wanted) - set(numbers):
            assert _continues(lines[number - 1], lines[: number - 1]), lines[number - 1]
    else:
        assert [item.line for item in parsed] == wanted
    for item in parsed:
        if isinstance(item, RejectedLine):
            assert_readable(item.reason)
            continue
        assert isinstance(item, ObservedLine)
        assert_utc(item.at)
        assert item.at <= NOW + timedelta(days=1)
        assert_text(item.error, item.fingerprint)
        assert_text(item.target, optional=True)
        assert 0 < len(item.error) <= MAX_ERROR
        assert item.failure_class in set(Failure)


CONTINUATIONS = (
    "Caused by:",
    "Suppressed:",
    "Wrapped by:",
    "... ",
    "Traceback (most recent call last):",
    "During handling of the above exception",
    "The above exception was the direct cause",
)


JAVA_EXCEPTION = re.compile(
    r"(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)(?::\s.*)?\s*", re.DOTALL
)


# A syslog or journald line: its stamp, its writer (host prog[pid]) and its message.
SYSLOG = re.compile(
    r"(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\S+) "
    r"(?P<writer>\S+ \S+?): ?(?P<message>.*)",
    re.DOTALL,
)


def _exception_shaped(text: str) -> bool:
    """A Python exception's line: a dotted name, or one ending as exceptions' names do.

    A bare ``Error: ...`` (Node's, or any word and a colon) is not one.
    """
    name, colon, rest = text.strip().partition(":")
    if not re.fullmatch(r"[A-Za-z_][\w.]*", name) or (colon and rest[:1] not in ("", " ")):
        return False
    if "." in name or name.endswith(("Exception", "ExceptionGroup", "Iteration")):
        return True
    return any(
        name.endswith(end) and name != end for end in ("Error", "Interrupt", "Exit", "Warning")
    )


def _continues(line: str, before: list[str]) -> bool:
    """Indented, opening as a stack trace's lines do, a Java exception's name, a Python
    exception's line after a traceback, or, stamped anew by its writer, a piece of a
    traceback: never a stamped line with no traceback opened above it."""
    stamped = SYSLOG.match(line)
    if stamped is not None:
        writer, message = stamped["writer"], stamped["message"]
        piece = (
            message[:1] in (" ", "\t")
            or message.startswith(
                ('File "', "Traceback (most recent", "During handling", "The above exception")
            )
            or _exception_shaped(message)
        )
        return (
            piece
            and any("Traceback (most recent" in earlier for earlier in before)
            and any(
                (earlier_match := SYSLOG.match(earlier)) is not None
                and earlier_match["writer"] == writer
                for earlier in before
            )
        )
    return (
        line[:1] in (" ", "\t")
        or line.startswith(CONTINUATIONS)
        or JAVA_EXCEPTION.fullmatch(line) is not None
        or (_exception_shaped(line) and any("Traceback (most recent" in e for e in before))
    )


def _counted(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def read_file(raw: bytes, tz: tzinfo | None) -> None:
    """Bytes as ``monitor import`` reads them: its line decoder, then the detected format."""
    lines = list(_decoded(io.BytesIO(raw), None, _Tally()))
    first = next((line for line in lines if _counted(line)), "")
    file_format = detect_format(first)
    assert file_format in ("jsonl", "text")
    read(parse_jsonl if file_format == "jsonl" else parse_text, lines, tz)


# --- inputs ---------------------------------------------------------------------------

TZS = st.sampled_from(ZONES)
# Error text the classifier and the redactor have rules for, and text they do not.
ERRORS = st.sampled_from(
    (
        "API Error: 401 Invalid authentication credentials",
        "HTTP 503 Service Unavailable from https://api.example.com/v1/messages?key=sk-abc",
        "getaddrinfo ENOTFOUND api.anthropic.com",
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2ln",
        "connect ETIMEDOUT 1.2.3.4:443 port 503 500ms",
        "dial tcp: lookup [::1 on 127.0.0.53:53: no such host",
        "http://[unclosed/path",
        "",
        " \t ",
        "\u2028\x1c",
    )
) | st.text(max_size=300)
STAMPS = st.builds(
    lambda when, sep, frac, zone, bracket: (
        ("[" if bracket else "")
        + when.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
        + frac
        + zone
        + ("]" if bracket else "")
    ),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(("T", " ")),
    st.sampled_from(("", ".123", ",5", ".1234567")),
    st.sampled_from(("", "Z", "+00:00", "+14:00", "-12:00", "+0530", " +0100", " UTC", "+99")),
    st.booleans(),
)
TEXT_LINES = st.lists(
    st.builds(
        lambda stamp, sep, error: stamp + sep + error,
        STAMPS | st.sampled_from(EDGE_TIMES),
        st.sampled_from((" ", " ERROR ", " - ", ": ", " | ", "\t", "")),
        ERRORS,
    )
    | st.text(max_size=80),
    max_size=12,
)
AT = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EDGE_TIMES),
    STAMPS,
    st.sampled_from(EDGE_RAW),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
STATUS = st.one_of(
    st.integers(),
    st.sampled_from(("503", " 401 ", "²", "٣", "1" * 5000, "", "0x1f5", "-1")),
    st.booleans(),
    st.floats(),
    st.none(),
)
ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
FIELD_VALUES = {
    "at": AT,
    "time": AT,
    "timestamp": AT,
    "error": ERRORS | ANYTHING | st.sampled_from(EDGE_RAW),
    "message": ERRORS | ANYTHING,
    "target": ERRORS | ANYTHING | st.sampled_from(EDGE_RAW),
    "status": STATUS,
}


@st.composite
def jsonl_line(draw: st.DrawFn) -> str:
    """One object with any of the fields a line may carry, each of any type; or a damaged one."""
    keys = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=5))
    pairs = Pairs((key, draw(FIELD_VALUES[key])) for key in keys)
    text = dump(pairs).decode("utf-8")
    damage = draw(st.sampled_from(("none", "none", "none", "nest", "cut", "token")))
    if damage == "nest":
        depth = draw(st.sampled_from((10, 900, 100_000)))
        return "[" * depth + text + "]" * depth
    at = draw(st.integers(0, len(text)))
    if damage == "cut":
        return text[:at]
    if damage == "token":
        return text[:at] + draw(st.sampled_from(TOKENS)).decode("latin-1") + text[at:]
    return text


JSONL_LINES = st.lists(jsonl_line() | st.text(max_size=40), max_size=10)
# A file: any bytes, or lines of either format, maybe behind a BOM (the reader drops one).
FILE_BYTES = st.builds(
    lambda bom, body: bom + body,
    st.sampled_from((b"", b"\xef\xbb\xbf")),
    st.one_of(
        st.binary(max_size=2000),
        st.lists(jsonl_line(), max_size=6).map(lambda ls: "\n".join(ls).encode("utf-8", "replace")),
        TEXT_LINES.map(lambda ls: "\r\n".join(ls).encode("utf-8", "replace")),
    ),
)


# --- properties -----------------------------------------------------------------------


@fuzz()
@given(lines=st.lists(st.text(max_size=200), max_size=20), tz=TZS)
def test_the_text_reader_survives_arbitrary_lines(lines: list[str], tz: tzinfo | None) -> None:
    read(parse_text, lines, tz)


@fuzz()
@given(lines=TEXT_LINES, tz=TZS)
def test_the_text_reader_survives_timestamps_at_the_calendars_edges(
    lines: list[str], tz: tzinfo | None
) -> None:
    read(parse_text, lines, tz)


# Lines as stack traces and syslog write them, with stray text among them.
TRACE_LINES = st.lists(
    st.sampled_from(
        (
            "Apr 14 11:45:01 host claude[123]: API Error: 401",
            "Feb 29 00:00:00 host x[1]: socket hang up",
            "Dec 31 23:59:59 host x: connect ETIMEDOUT",
            "Jan  1 00:00:00 host x: getaddrinfo ENOTFOUND api.example.com",
            "Apr 14 25:61:00 host x: bad clock",
            "2026-04-14T11:45:01+0000 host prog[1]: OAuth error 500",
            "    at f (cli.js:1:1)",
            "\tat java.base/java.net.Socket.connect(Socket.java:1)",
            "Caused by: java.net.SocketTimeoutException: connect timed out",
            "java.net.ConnectException: Connection refused",
            "\t... 5 more",
            "Traceback (most recent call last):",
            '  File "x.py", line 1, in <module>',
            "    client.get(url, timeout=5)",
            "httpx.ConnectTimeout: timed out",
            "During handling of the above exception, another exception occurred:",
            "KeyboardInterrupt",
            "  Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2ln",
            # journald and rsyslog tracebacks; Node's bare Error; Go's stamp; a date unread
            "Apr 14 11:45:01 host claude[123]: Traceback (most recent call last):",
            'Apr 14 11:45:01 host claude[123]:   File "x.py", line 1, in <module>',
            "Apr 14 11:45:01 host claude[123]:     client.get(url, timeout=5)",
            "Apr 14 11:45:02 host claude[123]: RuntimeError: boom",
            "Apr 14 11:45:02 host claude[124]: RuntimeError: boom",
            "                                  RuntimeError: boom",
            "Error: 500 Internal Server Error",
            "Error: connect ECONNREFUSED 127.0.0.1:443",
            "2026/04/13 09:00:00 API error: 503",
            "14.04.2026 09:00 API error: 503",
        )
    )
    | st.text(max_size=60),
    max_size=15,
)
AT_GIVEN = st.none() | st.sampled_from(
    (NOW, NOW - timedelta(days=400), datetime(1970, 1, 1, tzinfo=UTC), NOW + timedelta(days=3))
)


@fuzz()
@given(lines=TRACE_LINES, tz=TZS, at=AT_GIVEN)
@example(  # a failure of its own after an unclosed traceback: never swallowed
    lines=[
        "Error: connect ECONNREFUSED 127.0.0.1:443",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "Error: 500 Internal Server Error",
    ],
    tz=UTC,
    at=NOW,
)
def test_the_text_reader_survives_stack_traces_syslog_and_a_given_time(
    lines: list[str], tz: tzinfo | None, at: datetime | None
) -> None:
    read(parse_text, lines, tz, at)


@fuzz()
@given(lines=st.lists(st.text(max_size=200), max_size=20), tz=TZS)
def test_the_jsonl_reader_survives_arbitrary_lines(lines: list[str], tz: tzinfo | None) -> None:
    read(parse_jsonl, lines, tz)


@fuzz()
@given(lines=JSONL_LINES, tz=TZS)
def test_the_jsonl_reader_survives_fields_of_every_type(
    lines: list[str], tz: tzinfo | None
) -> None:
    read(parse_jsonl, lines, tz)


@fuzz()
@given(raw=FILE_BYTES, tz=TZS)
def test_a_whole_file_of_any_bytes_is_read_line_by_line(raw: bytes, tz: tzinfo | None) -> None:
    read_file(raw, tz)


@fuzz()
@given(first=st.text())
def test_the_format_is_always_one_the_importer_knows(first: str) -> None:
    assert detect_format(first) in ("jsonl", "text")
