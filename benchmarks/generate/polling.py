"""The service's own bookkeeping rows: the poll log, ETags, heartbeats.

A source is polled every ``interval_s`` while monitoring is up; a poll is
``ok`` (200) when something changed on the page since the last good poll
and ``not_modified`` (304) otherwise, and fails now and then (always while
the network is down). What changed is counted into the poll row, as
monitor.polling.poll does.
"""

from __future__ import annotations

import bisect
import random
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from benchmarks.generate.catalog import HOST, PROBE, SourceDef
from benchmarks.generate.scenario import Span
from benchmarks.generate.timefmt import db_text

HEARTBEAT_S = 30
POLL_ERROR_RATE = 0.002
EVENT_FIELDS = (
    "new_incidents",
    "updated_incidents",
    "new_updates",
    "component_changes",
    "maintenance_changes",
)
INSERT_POLL = (
    "INSERT INTO poll (source_id, probe, started_at, duration_ms, outcome, http_status, bytes, "
    "error, new_incidents, updated_incidents, new_updates, component_changes, "
    "maintenance_changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SpanIndex:
    """Is ``t`` inside any of these spans? Overlapping spans are merged first."""

    def __init__(self, spans: Sequence[Span]) -> None:
        merged: list[Span] = []
        for span in sorted(spans, key=lambda s: s.start):
            if merged and span.start <= merged[-1].end:
                last = merged[-1]
                merged[-1] = Span(last.start, max(last.end, span.end), last.kind, clean=last.clean)
            else:
                merged.append(span)
        self.spans = merged
        self._starts = [s.start for s in merged]

    def __contains__(self, t: int) -> bool:
        i = bisect.bisect_right(self._starts, t) - 1
        return i >= 0 and t in self.spans[i]


@dataclass
class Schedule:
    """When one source is polled: every interval from the start, except while monitoring is down."""

    start: int
    end: int
    interval: int
    offset: int
    down: SpanIndex

    def is_down(self, t: int) -> bool:
        return t in self.down

    def times(self) -> Iterator[int]:
        for t in range(self.start + self.offset, self.end, self.interval):
            if not self.is_down(t):
                yield t

    def seen_at(self, t: int) -> int:
        """When monitor learns of ``t``: the first poll at or after it (or the end of the range)."""
        k = max(0, -(-(t - self.start - self.offset) // self.interval))
        at = self.start + self.offset + k * self.interval
        while at < self.end and self.is_down(at):
            at += self.interval
        return min(at, self.end)


def write_polls(
    con: sqlite3.Connection,
    source: SourceDef,
    source_id: int,
    schedule: Schedule,
    events: list[tuple[int, str]],
    outages: SpanIndex,
    rng: random.Random,
) -> int:
    """One poll row per poll; ``events`` are (time, EVENT_FIELDS name), sorted."""
    rows: list[tuple[object, ...]] = []
    pending = dict.fromkeys(EVENT_FIELDS, 0)
    e = 0
    big = 52_000 if source.kind == "feed" else 36_000
    for t in schedule.times():
        while e < len(events) and events[e][0] <= t:
            pending[events[e][1]] += 1
            e += 1
        at = db_text(t, rng.randrange(1_000_000))
        offline = t in outages
        if offline or rng.random() < POLL_ERROR_RATE:
            error = "network unreachable: [Errno 101] Network is unreachable"
            if not offline:
                error = rng.choice(("timed out after 10s waiting for the response", "HTTP 503"))
            status = 503 if error == "HTTP 503" else None
            rows.append(
                (
                    source_id,
                    PROBE,
                    at,
                    rng.randrange(2, 10_000),
                    "error",
                    status,
                    0,
                    error,
                    0,
                    0,
                    0,
                    0,
                    0,
                )
            )
            continue
        counts = [pending[name] for name in EVENT_FIELDS]
        if any(counts):
            rows.append(
                (
                    source_id,
                    PROBE,
                    at,
                    rng.randrange(180, 900),
                    "ok",
                    200,
                    big + rng.randrange(4000),
                    None,
                    *counts,
                )
            )
            pending = dict.fromkeys(EVENT_FIELDS, 0)
        else:
            rows.append(
                (
                    source_id,
                    PROBE,
                    at,
                    rng.randrange(40, 250),
                    "not_modified",
                    304,
                    0,
                    None,
                    0,
                    0,
                    0,
                    0,
                    0,
                )
            )
    con.executemany(INSERT_POLL, rows)
    return len(rows)


def write_validators(
    con: sqlite3.Connection, source: SourceDef, source_id: int, rng: random.Random
) -> int:
    """The ETags the last good poll stored, one per endpoint polled."""
    if source.kind == "feed":
        urls = [source.url]
    else:
        urls = [
            f"{source.url}/api/v2/{name}.json"
            for name in ("summary", "incidents", "scheduled-maintenances")
        ]
    con.executemany(
        "INSERT INTO http_validator (source_id, url, etag, last_modified) VALUES (?, ?, ?, ?)",
        [(source_id, url, f'W/"{rng.getrandbits(128):032x}"', None) for url in urls],
    )
    return len(urls)


def write_heartbeats(
    con: sqlite3.Connection, start: int, end: int, down: SpanIndex, rng: random.Random
) -> int:
    """One row per service start; a stop is clean (stopped_at) or a crash (last_seen only)."""
    rows = []
    began = start
    for span in [*down.spans, None]:
        stop = span.start if span is not None else end
        last_seen = began + (stop - began) // HEARTBEAT_S * HEARTBEAT_S
        stopped = db_text(stop) if span is not None and span.clean else None
        rows.append(
            (
                PROBE,
                db_text(began, 250_000),
                db_text(last_seen, 260_000),
                rng.randrange(1000, 99_999),
                HOST,
                stopped,
            )
        )
        if span is not None:
            began = span.end
    con.executemany(
        "INSERT INTO heartbeat (probe, started_at, last_seen, pid, host, stopped_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)
