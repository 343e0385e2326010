"""Bulk import of observed failures: ``monitor import`` of 100,000 JSONL lines, a new process."""

from __future__ import annotations

import json
import random
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

from benchmarks.measure import Reference, Row, clocked, expect, monitor_command, timed
from benchmarks.registry import Context, Figure
from benchmarks.service_config import service_config
from monitor.observed import ObservedLine, parse_jsonl

FIGURE = "`monitor import` of 100,000 observed failures (JSONL), a new process"
LINES, LINES_QUICK = 100_000, 2_000
ERRORS = (
    'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
    '"message":"Invalid authentication credentials"}}',
    "OAuth error: Request failed with status code 500",
    "connect ETIMEDOUT 160.79.104.10:443",
    "Error: getaddrinfo ENOTFOUND api.anthropic.com",
    "socket hang up",
    "Request timed out.",
)
INSERT = (
    "INSERT INTO observed_event (fingerprint, at, source, target, failure_class, error, origin, "
    "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def run(context: Context) -> list[Row]:
    lines, home = LINES_QUICK if context.quick else LINES, context.folder()
    log, rng = home / "observed.jsonl", random.Random(7)
    start = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
    with log.open("w", encoding="utf-8") as out:  # one failure every 2 s
        for n in range(lines):
            at = f"{start + timedelta(seconds=2 * n):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"
            record = {"at": at, "error": rng.choice(ERRORS), "target": "api.anthropic.com"}
            out.write(json.dumps(record) + "\n")
    now, as_app = datetime.now(UTC), "%Y-%m-%d %H:%M:%S.%f"
    with log.open(encoding="utf-8") as opened:
        parsed = [p for p in parse_jsonl(opened, tz=UTC, now=now) if isinstance(p, ObservedLine)]
    tail = (str(log), f"{now:{as_app}}")  # origin, imported_at
    rows = [
        (p.fingerprint, f"{p.at:{as_app}}", "claude", p.target, p.failure_class, p.error, *tail)
        for p in parsed
    ]
    source = {"name": "claude", "kind": "statuspage", "url": "https://status.claude.com"}

    def one(n: int) -> tuple[float, float]:
        """Each into a fresh database at head (migrated outside the timer)."""
        config = service_config(
            home / f"{n}", context.empty_database(home / f"{n}.db"), source=[source]
        )
        command = monitor_command(
            config, "import", str(log), "--source", "claude", "--json", printed='"new"'
        )
        span, printed = clocked(command)
        report = json.loads(printed)
        expect(report["unreadable"] == 0 and report["new"] > 0, f"monitor import said {report}")
        floor = context.empty_database(home / f"floor{n}.db").removeprefix("sqlite:///")
        with timed() as plain, closing(sqlite3.connect(floor)) as connection, connection:
            connection.executemany(INSERT, rows)
        return span.wall, plain.wall

    walls, floors = zip(*[one(n) for n in range(context.repeat)], strict=True)
    reference = Reference("plain sqlite3 executemany of the parsed rows", floors)
    return [Row(FIGURE.replace("100,000", f"{lines:,}"), walls, "s", reference=reference)]


NOTES = (
    "import: `python -m monitor import FILE --source claude --json` as a new process "
    f"into an empty database already at the head revision, {LINES:,} JSONL lines "
    f"({LINES_QUICK:,} with --quick), one failure every 2 s, six real error texts "
    "(401 authentication_error, OAuth 500, connect ETIMEDOUT, getaddrinfo ENOTFOUND, "
    "socket hang up, timeout): process start, reading, classifying, redacting, "
    "fingerprinting and the batched INSERT ... ON CONFLICT DO NOTHING. Reference: the "
    "same rows, parsed beforehand, inserted with one sqlite3 executemany in one "
    "transaction into an equally fresh database (same table and indexes).",
)
FIGURES = (Figure("import", run, ((FIGURE, "none set (informational)"),), notes=NOTES),)
