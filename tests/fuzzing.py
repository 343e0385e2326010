"""Shared pieces of the fuzz suite: how many inputs, what a parser may do, byte-level inputs.

The property every source parser must keep, whatever bytes arrive: return
records whose times are aware UTC and whose text can be stored, or raise
ParseError with a one-line, bounded, printable reason. Anything else (another
exception, a hang, a naive time) would reach the poll log as "internal
error" with a traceback, or stall the service.

``MONITOR_FUZZ_EXAMPLES`` sets the examples per property (default
``DEFAULT_EXAMPLES``: about 2,000 inputs in all, 5-15 s on two cores; a few
slow properties take a quarter). ``MONITOR_FUZZ_EXAMPLES=1000`` is a deep
local run of about 26,000 inputs. Under ``CI`` the inputs are derandomized so
a red build reproduces; locally every run tries new ones. No example database
is kept: a failure prints the ``@reproduce_failure`` blob to replay it.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from monitor.errors import ParseError
from monitor.sources.records import (
    AffectedComponent,
    ComponentState,
    IncidentRecord,
    MaintenanceRecord,
    Snapshot,
    UpdateRecord,
)

DEFAULT_EXAMPLES = 80
EXAMPLES = int(os.environ.get("MONITOR_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)
# A reason is printed in one table cell and stored per poll: one short line.
MAX_REASON = 300
# Deadline per input: a real payload parses in ~40 ms and the largest fuzzed
# one (300 kB) in under a second, so five seconds is an input the parser
# handles super-linearly (an entity bomb, a pattern gone quadratic), not a slow
# machine. HANG_AFTER stops one that never returns.
DEADLINE = timedelta(seconds=5)
HANG_AFTER = 30.0

settings.register_profile(
    "monitor-fuzz",
    database=None,
    deadline=DEADLINE,
    derandomize=bool(os.environ.get("CI")),
    print_blob=True,
    # Inputs are mutated copies of payloads of up to 330 kB, by design.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

F = TypeVar("F", bound=Callable[..., Any])


def fuzz(share: float = 1.0) -> Callable[[F], F]:
    """Hypothesis settings for one property: ``share`` of EXAMPLES (a slow parser takes less)."""
    count = max(1, round(EXAMPLES * share))
    return settings(settings.get_profile("monitor-fuzz"), max_examples=count)


class Hung(Exception):
    """A parser ran past HANG_AFTER seconds on one input."""


@contextmanager
def no_hang(seconds: float = HANG_AFTER) -> Iterator[None]:
    """Fail the input instead of stalling the run; the deadline only measures returns."""

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"no answer after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- the property ---------------------------------------------------------------------


def parse_or_refuse(parse: Callable[[bytes], Any], payload: bytes) -> Any:
    """Run ``parse``; check a refusal's reason, return the result (None when refused).

    Any exception other than ParseError propagates: that is the failure.
    """
    with no_hang():
        try:
            return parse(payload)
        except ParseError as exc:
            refused = exc
    assert_readable(refused.reason)
    assert str(refused) == refused.reason
    return None


def assert_readable(reason: str) -> None:
    """One printable line, bounded, with no traceback in it."""
    assert isinstance(reason, str)
    assert reason.strip(), "empty reason"
    assert len(reason) <= MAX_REASON, f"reason of {len(reason)} characters: {reason[:120]!r}…"
    assert reason.isprintable(), f"reason not one printable line: {reason!r}"
    assert "Traceback" not in reason


def assert_snapshot(snapshot: Snapshot) -> None:
    assert isinstance(snapshot, Snapshot)
    for incident in snapshot.incidents:
        assert_incident(incident)
    for maintenance in snapshot.maintenances:
        assert_maintenance(maintenance)
    if snapshot.components is not None:
        for state in snapshot.components:
            assert isinstance(state, ComponentState)
            assert_text(state.name, state.status)
    assert_text(snapshot.page_name, snapshot.page_status, *snapshot.notes, optional=True)


def assert_incident(record: IncidentRecord) -> None:
    assert isinstance(record, IncidentRecord)
    assert_text(record.external_id, record.title, record.status, *record.components)
    assert_text(record.impact, record.url, optional=True)
    assert_utc(record.created_at)
    assert_utc(record.started_at, record.resolved_at, optional=True)
    assert_updates(record.updates)


def assert_maintenance(record: MaintenanceRecord) -> None:
    assert isinstance(record, MaintenanceRecord)
    assert_text(record.external_id, record.title, record.status, *record.components)
    assert_text(record.impact, record.url, optional=True)
    times = (record.scheduled_for, record.scheduled_until, record.started_at, record.completed_at)
    assert_utc(*times, optional=True)
    assert_updates(record.updates)


def assert_updates(updates: Sequence[UpdateRecord]) -> None:
    for update in updates:
        assert isinstance(update, UpdateRecord)
        assert_text(update.external_id, update.status, update.body)
        assert_utc(update.created_at)
        for affected in update.affected:
            assert isinstance(affected, AffectedComponent)
            assert_text(affected.name)
            assert_text(affected.old_status, affected.new_status, optional=True)


def assert_utc(*values: datetime | None, optional: bool = False) -> None:
    for value in values:
        if value is None and optional:
            continue
        assert isinstance(value, datetime), f"expected a datetime, got {value!r}"
        assert value.tzinfo is not None, f"naive datetime {value!r}"
        assert value.utcoffset() == timedelta(0), f"not UTC: {value!r}"


def assert_text(*values: str | None, optional: bool = False) -> None:
    """A string the store can write: SQLite refuses text that is not valid UTF-8."""
    for value in values:
        if value is None and optional:
            continue
        assert isinstance(value, str), f"expected a string, got {value!r:.80}"
        assert value.encode("utf-8", "replace").decode("utf-8") == value, (
            f"text SQLite cannot store (a lone surrogate?): {value!r:.80}"
        )


# --- byte mutations -------------------------------------------------------------------

# Byte strings that break parsers in known ways: invalid UTF-8 (a lone
# continuation byte, a truncated sequence, an encoded surrogate, an overlong
# slash, a code point past U+10FFFF), NULs, JSON and XML syntax, escapes.
TOKENS: tuple[bytes, ...] = (
    b"\xff", b"\x80", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x00",
    b"\r", b"\n", b"\t", b'"', b"'", b"\\", b"{", b"}", b"[", b"]", b",", b":", b"null", b"true",
    b"-0", b"1e999", b"-1e999", b"NaN", b"Infinity", b"9" * 400, b"\\u0000", b"\\ud800",
    b"\\udc00", b"<", b">", b"&", b"&amp;", b"&#0;", b"&#xD800;", b"&#x110000;", b"&bogus;",
    b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?xml", b"?>", b"\xef\xbb\xbf", b"\xfe\xff",
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[bytes], most: int = 4) -> bytes:
    """A seed after 1..``most`` byte-level edits: flips, cuts, splices, repeats, tokens."""
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, most))):
        data = draw(edit(data, seeds))
    return data


@st.composite
def edit(draw: st.DrawFn, data: bytes, seeds: Sequence[bytes]) -> bytes:
    at = draw(st.integers(0, len(data)))
    span = draw(st.integers(0, min(64, len(data) - at)))
    kind = draw(
        st.sampled_from(("flip", "byte", "cut", "delete", "repeat", "splice", "token", "bytes"))
    )
    if kind == "flip" and at < len(data):
        bit = 1 << draw(st.integers(0, 7))
        return data[:at] + bytes([data[at] ^ bit]) + data[at + 1 :]
    if kind == "byte" and at < len(data):
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if kind == "cut":
        return data[:at]
    if kind == "delete":
        return data[:at] + data[at + span :]
    if kind == "repeat":
        return data[: at + span] + data[at : at + span] * draw(st.integers(1, 50)) + data[at:]
    if kind == "splice":
        other = draw(st.sampled_from(seeds))
        start = draw(st.integers(0, len(other)))
        return data[:at] + other[start : start + draw(st.integers(0, 512))] + data[at + span :]
    if kind == "token":
        return data[:at] + draw(st.sampled_from(TOKENS)) + data[at:]
    return data[:at] + draw(st.binary(max_size=16)) + data[at:]


# What a response body could be: anything, or anything behind a plausible start.
PREFIXES = (
    b"", b"{", b"[", b'{"incidents": ', b'{"result": ', b"<?xml version='1.0'?>",
    b'<rss version="2.0"><channel>', b'<feed xmlns="http://www.w3.org/2005/Atom">',
    b"\xef\xbb\xbf", b"\xff\xfe", b"\x00\x00\xfe\xff", b"<!DOCTYPE html>", b"<html>",
)  # fmt: skip
ANY_BYTES = st.builds(
    lambda prefix, rest: prefix + rest, st.sampled_from(PREFIXES), st.binary(max_size=2048)
)


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
