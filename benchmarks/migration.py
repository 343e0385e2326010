"""Migration 0010 on a database in the old layout: what converting a million check runs costs.

A SQLite file is migrated to 0009 (monitor's own migrations, so the old
layout is exactly what users have), then filled with plain ``sqlite3``
with synthetic runs shaped like the real checks': 12 checks every 30 s
on one probe, HTTP checks carrying their phases in both the old columns
and ``facts["phases_ms"]`` (with ``total``), DNS and TCP checks with
``dns`` (and ``connect``) in the facts only, a port, a clock and a
credentials check with facts of their own, and about 1 % failures with a
failure class, a detail text, a request id and the server's date. Then
``monitor.store.migrate.upgrade`` converts it, timed whole: the batched
copy, the swap (old table dropped, new one renamed and indexed) and the
VACUUM that gives the old table's pages back.

Reference, measured in the same run on the same rows: plain ``sqlite3``
copying them with one INSERT ... SELECT into a bare table of the compact
layout (its key, WITHOUT ROWID, no foreign keys or secondary indexes) in
a fresh file, converting the time to milliseconds and the durations to
microseconds on the way: the floor of just copying the rows, without the
facts rewritten, the usual compared, the batches, the index builds or
the file's free pages reclaimed.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.measure import Reference, Row, expect, timed
from benchmarks.registry import Context, Figure

FIGURE = "migration to the compact layout, per million runs"
TARGET_S = 4.0
FULL_RUNS = 1_000_000
QUICK_RUNS = 200_000
CHECKS = 12
EVERY = timedelta(seconds=30)
FAILURE_RATE = 0.01
START = datetime(2026, 1, 1, tzinfo=UTC)
PROBE = "laptop"
VARIANTS = 2048  # passing runs drawn per check, reused at random

# A check's kind, and what its passing runs look like (see monitor/checks).
SHAPES = (
    ("anthropic-api", "http", "api.anthropic.com", 401),
    ("anthropic-console", "http", "console.anthropic.com", 200),
    ("github-api", "http", "api.github.com", 200),
    ("npm-registry", "http", "registry.npmjs.org", 200),
    ("pypi", "http", "pypi.org", 200),
    ("anthropic-oauth", "oauth", "console.anthropic.com", 400),
    ("clock", "clock", "www.google.com", 200),
    ("anthropic-dns", "dns", "api.anthropic.com", 0),
    ("github-dns", "dns", "api.github.com", 0),
    ("github-ssh", "tcp", "github.com", 22),
    ("callback-port", "port", "127.0.0.1", 54545),
    ("claude-credentials", "credentials", "~/.claude/.credentials.json", 0),
)
FAILURES = (
    ("server_error", 503, "HTTP 503, expected 200: upstream connect error or disconnect/reset"),
    ("timeout", None, "no answer within 10s (read timeout)"),
    ("connect_refused", None, "connection refused by {host}:443"),
    ("dns_failure", None, "{host}: Name or service not known"),
    ("rate_limited", 429, 'HTTP 429, expected 200: {"error":{"type":"rate_limit_error"}}'),
    ("tls_error", None, "TLS handshake failed: certificate verify failed (self-signed)"),
)


def _ms(rng: random.Random, median: float) -> float:
    """A latency in ms, as the checks round them (two decimals)."""
    return round(rng.lognormvariate(0, 0.35) * median, 2)


def _passing(kind: str, host: str, status: int, rng: random.Random) -> tuple[object, ...]:
    """(duration_ms, http_status, connect, tls, ttfb, detail, facts) of one passing run."""
    if kind == "http":
        connect, tls, ttfb = _ms(rng, 15), _ms(rng, 30), _ms(rng, 120)
        total = round(connect + tls + ttfb + _ms(rng, 2.5), 2)
        phases = {"connect": connect, "tls": tls, "ttfb": ttfb, "total": total}
        meaning = " (the API is up and its auth layer answers)" if status == 401 else ""
        detail = f"HTTP {status} as expected{meaning}"
        return round(total + 0.07, 2), status, connect, tls, ttfb, detail, {"phases_ms": phases}
    if kind == "oauth":
        return _ms(rng, 160), status, None, None, None, "token endpoint answers (HTTP 400)", {}
    if kind == "clock":
        trip = _ms(rng, 160)
        facts = {
            "url": f"https://{host}/",
            "http_status": 200,
            "round_trip_ms": trip,
            "skew_s": round(rng.uniform(-0.9, 0.9), 3),
            "max_skew_s": 30.0,
        }
        return round(trip + 1.3, 2), 200, None, None, None, "clock within 1s of the server's", facts
    if kind == "dns":
        elapsed = _ms(rng, 15)
        facts = {
            "host": host,
            "addresses": ["160.79.104.10"],
            "elapsed_ms": elapsed,
            "phases_ms": {"dns": elapsed},
        }
        detail = f"{host} resolved to 160.79.104.10 in {elapsed:.0f} ms"
        return round(elapsed + 0.05, 2), None, None, None, None, detail, facts
    if kind == "tcp":
        dns, connect = _ms(rng, 2), _ms(rng, 15)
        facts = {
            "target": f"{host}:{status}",
            "address": f"140.82.121.4:{status}",
            "connect_ms": connect,
            "dns_ms": dns,
            "phases_ms": {"dns": dns, "connect": connect},
        }
        detail = f"connected to {host}:{status} in {connect:.0f} ms"
        return round(dns + connect + 0.2, 2), None, connect, None, None, detail, facts
    if kind == "port":
        facts = {"ports": str(status), "free": True}
        return _ms(rng, 0.6), None, None, None, None, f"port {status} is free on {host}", facts
    age, left = rng.randrange(60, 28_800), rng.randrange(600, 28_800)
    facts = {
        "path": host,
        "mode": "0600",
        "age_s": age,
        "access_token_fp": f"{rng.getrandbits(48):012x}",
        "has_refresh_token": True,
        "expired": False,
        "seconds_to_expiry": left,
    }
    detail = f"access token valid for {left // 3600}h{left % 3600 // 60}m; file mode 0600"
    return _ms(rng, 1.6), None, None, None, None, detail, facts


def _variants(rng: random.Random) -> list[list[tuple[object, ...]]]:
    """Per check, ``VARIANTS`` passing runs' values, the facts already as JSON text."""
    return [
        [
            (*values[:-1], json.dumps(values[-1]))  # SQLAlchemy's JSON type: default separators
            for values in (_passing(kind, host, status, rng) for _ in range(VARIANTS))
        ]
        for _, kind, host, status in SHAPES
    ]


def _rows(runs: int, seed: int = 17) -> Iterator[tuple[object, ...]]:
    """``runs`` old-layout rows (check_result's columns after id), in time order.

    Passing runs are drawn from a pool of variants per check (generating each
    afresh would take longer than the migration being measured); times, request
    ids and failures are drawn per run.
    """
    rng = random.Random(seed)
    pools = _variants(rng)
    base = START.replace(tzinfo=None)
    minute, second = "", 0
    for n in range(runs):
        index = n % CHECKS
        if index == 0:  # a new round of the checks, every 30 s: its time text, once
            tick = base + EVERY * (n // CHECKS)
            minute, second = tick.strftime("%Y-%m-%d %H:%M:"), tick.second
        _, kind, host, status = SHAPES[index]
        offset = rng.randrange(2_000_000)  # µs after the round's start
        at = f"{minute}{second + offset // 1_000_000:02d}"
        duration, http, connect, tls, ttfb, detail, facts = rng.choice(pools[index])
        ok, failure, request_id, server_date = 1, None, None, None
        if kind in ("http", "oauth", "clock"):
            server_date = f"{at}.000000"
            request_id = f"req_011C{rng.getrandbits(80):020x}" if status != 200 else None
        if rng.random() < FAILURE_RATE:
            failure, http, text = rng.choice(FAILURES)
            ok, detail, connect, tls, ttfb = 0, text.replace("{host}", host), None, None, None
            facts = json.dumps({"url": f"https://{host}/"})
            request_id = f"req_011C{rng.getrandbits(80):020x}" if http else None
        yield (
            index + 1,
            PROBE,
            f"{at}.{offset % 1_000_000:06d}",
            duration,
            ok,
            0,
            failure,
            http,
            connect,
            tls,
            ttfb,
            request_id,
            server_date,
            detail,
            facts,
        )


def build_old(path: Path, runs: int) -> None:
    """A database at 0009 holding ``runs`` check runs (the schema by monitor, rows by sqlite3)."""
    from monitor.store.engine import create_db_engine
    from monitor.store.migrate import upgrade

    engine = create_db_engine(f"sqlite:///{path}")
    try:
        upgrade(engine, "0009")
    finally:
        engine.dispose()
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        # The build is not what is timed: no journal, no syncs, a large cache, and
        # the time indexes built once the rows are in (the migration meets them built).
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -262144")  # 256 MiB
        indexes = con.execute(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name = 'check_result'"
        ).fetchall()
        for name, _ in indexes:
            con.execute(f"DROP INDEX {name}")
        con.execute("BEGIN")
        con.executemany(
            'INSERT INTO "check" (id, name, kind, role, target, depends_on_components, '
            "created_at) VALUES (?, ?, ?, 'vendor', ?, '[]', '2026-01-01 00:00:00.000000')",
            [(i + 1, name, kind, host) for i, (name, kind, host, _) in enumerate(SHAPES)],
        )
        con.executemany(
            "INSERT INTO check_result (check_id, probe, started_at, duration_ms, ok, skipped, "
            "failure_class, http_status, connect_ms, tls_ms, ttfb_ms, request_id, server_date, "
            "detail, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _rows(runs),
        )
        con.execute("COMMIT")
        for _, sql in indexes:
            con.execute(sql)
        con.execute("PRAGMA journal_mode = WAL")  # as monitor opens it


# The compact table as models.CheckRun declares it, for the reference's bare copy.
COMPACT_DDL = """
CREATE TABLE check_result (
    check_id INTEGER NOT NULL, probe_id INTEGER NOT NULL, started_ms BIGINT NOT NULL,
    outcome SMALLINT NOT NULL, failure_class SMALLINT, http_status SMALLINT,
    duration_us INTEGER NOT NULL, dns_us INTEGER, connect_us INTEGER, tls_us INTEGER,
    ttfb_us INTEGER, request_id VARCHAR(128), server_date_ms BIGINT, detail TEXT, facts TEXT,
    CONSTRAINT pk_check_result PRIMARY KEY (check_id, probe_id, started_ms)
) WITHOUT ROWID
"""
PLAIN_COPY = """
INSERT INTO check_result SELECT check_id, 1,
    CAST(round((julianday(substr(started_at, 1, 23)) - 2440587.5) * 86400000) AS INTEGER),
    CASE WHEN skipped THEN 2 WHEN ok THEN 0 ELSE 1 END, NULL, http_status,
    CAST(round(duration_ms * 1000) AS INTEGER), NULL, CAST(round(connect_ms * 1000) AS INTEGER),
    CAST(round(tls_ms * 1000) AS INTEGER), CAST(round(ttfb_ms * 1000) AS INTEGER),
    request_id, NULL, detail, facts
FROM old.check_result ORDER BY id
"""


def plain_copy(source: Path, target: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of copying ``source``'s runs into a bare compact table in ``target``."""
    with closing(sqlite3.connect(target, isolation_level=None)) as con:
        con.execute(COMPACT_DDL)
        con.execute("ATTACH DATABASE ? AS old", (f"file:{source}?mode=ro",))
        with timed() as span:
            con.execute("BEGIN")
            copied = con.execute(PLAIN_COPY).rowcount
            con.execute("COMMIT")
        con.execute("DETACH DATABASE old")
    expect(copied > 0, "the reference copied nothing")
    return span.wall, span.cpu


class Phases(logging.Handler):
    """The migration's own account of its phases (its log records' ``fields``)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and "phase" in fields:
            self.seconds[str(fields["phase"])] = float(fields["seconds"])


def migrate(path: Path) -> tuple[float, float, dict[str, float]]:
    """(wall, CPU, seconds by phase) of monitor upgrading ``path`` from 0009 to head."""
    from monitor.store.engine import create_db_engine
    from monitor.store.migrate import HEAD_REVISION, current_revision, upgrade

    phases = Phases()
    logger = logging.getLogger("monitor.store.migrate")
    level = logger.level
    logger.addHandler(phases)
    logger.setLevel(logging.INFO)
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        with timed() as span:
            upgrade(engine)
        expect(current_revision(engine) == HEAD_REVISION, "the upgrade did not reach head")
    finally:
        engine.dispose()
        logger.removeHandler(phases)
        logger.setLevel(level)
    return span.wall, span.cpu, phases.seconds


def _bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def run(context: Context) -> list[Row]:
    runs = QUICK_RUNS if context.quick else FULL_RUNS
    per_million = 1_000_000 / runs
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as folder:
        path = Path(folder) / "old.db"
        context.progress(f"  building a 0009 database of {runs:,} check runs")
        build_old(path, runs)
        before = _bytes(path)
        context.progress("  reference: plain sqlite3 copy into a bare compact table")
        plain_wall, plain_cpu = plain_copy(path, Path(folder) / "plain.db")
        context.progress("  migrating to the compact layout")
        wall, cpu, phases = migrate(path)
        after = _bytes(path)
    expect("copy" in phases and "vacuum" in phases, f"the migration skipped a phase: {phases}")
    reference = Reference("plain INSERT ... SELECT, bare table", (plain_wall * per_million,))
    return [
        Row(
            FIGURE,
            (wall * per_million,),
            "s",
            target=TARGET_S,
            target_label=f"<= {TARGET_S:g} s",
            reference=reference,
        ),
        Row(
            "  CPU, per million runs",
            (cpu * per_million,),
            "s",
            reference=Reference("plain copy, CPU", (plain_cpu * per_million,)),
        ),
        *(
            Row(f"  of which {label}, per million runs", (phases[key] * per_million,), "s")
            for key, label in (
                ("copy", "the batched copy"),
                ("swap", "the drop, rename and index builds"),
                ("vacuum", "the VACUUM"),
            )
            if key in phases
        ),
        Row("  the VACUUM's share", (phases["vacuum"] / wall,), "%"),
        Row("  bytes per run before (0009, with its indexes)", (before / runs,), "B"),
        Row("  bytes per run after (compact, vacuumed)", (after / runs,), "B"),
        Row("  check runs migrated", (float(runs),), "n"),
    ]


FIGURES = (
    Figure(
        "migration",
        run,
        ((FIGURE, f"<= {TARGET_S:g} s"),),
        repeats=False,
        notes=(
            f"migration: {FULL_RUNS:,} synthetic check runs ({QUICK_RUNS:,} with --quick) in "
            "the 0009 layout, 12 checks every 30 s on one probe, shaped like the real checks' "
            "rows (HTTP phases in columns and facts, DNS/TCP phases in facts, ~1 % failures "
            "with detail, request id and server date), built by plain sqlite3 in a file "
            "migrated to 0009 by monitor; then monitor.store.migrate.upgrade to head, timed "
            "whole (wall and CPU), once, scaled to a million runs. The phases are the "
            "migration's own log records: the batched copy, the swap (DROP of the old table, "
            "rename, both index builds) and the VACUUM with its WAL checkpoint. Bytes = file "
            "plus WAL. Reference: plain sqlite3 copying the same rows (ATTACHed read-only) "
            "with one INSERT ... SELECT into a bare table of the compact DDL in a fresh file "
            "(default settings, its key only, times and durations converted, facts and detail "
            "copied as they are): the floor of just copying.",
        ),
    ),
)
