"""Bulk import of observed failures: ``monitor import`` of 100,000 JSONL lines.

Reference, in the same run: the same rows (already parsed, classified and
fingerprinted) written by plain ``sqlite3`` ``executemany`` into the same
table, created by the same migrations: what storing them costs with nothing
else around it.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.measure import Reference, Row, expect, timed
from benchmarks.registry import Context, Figure
from monitor.observed import ObservedLine, parse_jsonl
from monitor.store import open_store

FIGURE = "`monitor import` of 100,000 observed failures (JSONL), a new process"
LINES = 100_000
QUICK_LINES = 5_000
ERRORS = (
    'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
    '"message":"Invalid authentication credentials"}}',
    "OAuth error: Request failed with status code 500",
    "connect ETIMEDOUT 160.79.104.10:443",
    "Error: getaddrinfo ENOTFOUND api.anthropic.com",
    "socket hang up",
    "Request timed out.",
)
START = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)


def write_log(path: Path, lines: int, seed: int = 7) -> None:
    """A JSONL log of ``lines`` failures, one every 2 s, errors as real tools print them."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            at = START + timedelta(seconds=2 * n)
            record = {
                "at": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "error": rng.choice(ERRORS),
                "target": "api.anthropic.com",
            }
            out.write(json.dumps(record) + "\n")


def fresh_database(folder: Path, name: str) -> tuple[Path, Path]:
    """An empty database at head (migrations run outside the timer) and a config naming it."""
    db = folder / f"{name}.db"
    open_store(f"sqlite:///{db}").close()
    config = folder / f"{name}.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n\n[[source]]\nname = "claude"\n'
        'kind = "statuspage"\nurl = "https://status.claude.com"\n',
        encoding="utf-8",
    )
    return db, config


def import_once(log: Path, folder: Path, name: str) -> Callable[[], None]:
    _, config = fresh_database(folder, name)
    command = [
        sys.executable,
        "-m",
        "monitor",
        "--config",
        str(config),
        "import",
        str(log),
        "--source",
        "claude",
        "--json",
    ]

    def run() -> None:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        expect(done.returncode == 0, f"monitor import failed: {done.stderr[-500:]}")
        report = json.loads(done.stdout)
        expect(report["unreadable"] == 0, f"unreadable lines: {report['unreadable']}")
        expect(report["new"] > 0, "nothing imported")

    return run


def executemany_once(log: Path, folder: Path, name: str) -> Callable[[], None]:
    """The floor: the parsed rows, inserted by plain sqlite3 in one transaction."""
    db, _ = fresh_database(folder, name)
    now = datetime.now(UTC)
    with log.open(encoding="utf-8") as lines:
        parsed = [p for p in parse_jsonl(lines, tz=UTC, now=now) if isinstance(p, ObservedLine)]
    text = "%Y-%m-%d %H:%M:%S.%f"
    rows = [
        (
            p.fingerprint,
            p.at.replace(tzinfo=None).strftime(text),
            "claude",
            p.target,
            p.failure_class,
            p.error,
            str(log),
            now.replace(tzinfo=None).strftime(text),
        )
        for p in parsed
    ]

    def run() -> None:
        with closing(sqlite3.connect(db)) as connection, connection:
            connection.executemany(
                "INSERT INTO observed_event (fingerprint, at, source, target, failure_class, "
                "error, origin, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    return run


def run(context: Context) -> list[Row]:
    lines = QUICK_LINES if context.quick else LINES
    walls: list[float] = []
    floors: list[float] = []
    with tempfile.TemporaryDirectory(prefix="monitor-import-") as name:
        folder = Path(name)
        log = folder / "observed.jsonl"
        write_log(log, lines)
        for n in range(context.repeat):
            for action, into in (
                (import_once(log, folder, f"import{n}"), walls),
                (executemany_once(log, folder, f"floor{n}"), floors),
            ):
                with timed() as span:
                    action()
                into.append(span.wall)
    label = FIGURE if lines == LINES else FIGURE.replace("100,000", f"{lines:,}")
    return [
        Row(
            label,
            tuple(walls),
            unit="s",
            reference=Reference("plain sqlite3 executemany of the parsed rows", tuple(floors)),
        )
    ]


FIGURES = (
    Figure(
        "import",
        run,
        ((FIGURE, "none set (informational)"),),
        notes=(
            f"import: `python -m monitor import FILE --source claude --json` as a new process "
            f"into an empty database already at the head revision, {LINES:,} JSONL lines "
            f"({QUICK_LINES:,} with --quick), one failure every 2 s, six real error texts "
            "(401 authentication_error, OAuth 500, connect ETIMEDOUT, getaddrinfo ENOTFOUND, "
            "socket hang up, timeout): process start, reading, classifying, redacting, "
            "fingerprinting and the batched INSERT ... ON CONFLICT DO NOTHING. Reference: "
            "the same rows, parsed beforehand, inserted with one sqlite3 executemany in one "
            "transaction into an equally fresh database (same table and indexes).",
        ),
    ),
)
