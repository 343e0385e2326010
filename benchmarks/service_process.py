"""The ``monitor run`` child process the service figures measure, and what it recorded.

It runs ``python -m monitor --config <config> run`` with the placeholder API
key set, reads its memory and CPU time from /proc/<pid> (Linux), and reads
its SQLite file read-only to see what it did.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.measure import BenchmarkError, expect

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
LOG_TAIL_CHARS = 2000
ROOT = Path(__file__).resolve().parent.parent
# api-authenticated runs only when this is set: a placeholder lets it run (on loopback).
API_KEY_VARIABLE = "ANTHROPIC_API_KEY"
PLACEHOLDER_KEY = "bench-placeholder-not-a-key"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # /proc/<pid>/stat counts CPU time in these


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """Resident memory from /proc/<pid>/status (VmRSS now, VmHWM its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024  # the kernel says kB and means KiB
    raise BenchmarkError(f"no {field} in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat[stat.rindex(")") + 2 :].split()  # from field 3 (state) on
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15


def _child_env() -> dict[str, str]:
    """This environment, minus proxies (loopback must stay direct), plus the placeholder key."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env[API_KEY_VARIABLE] = PLACEHOLDER_KEY
    return env


@contextmanager
def monitor_run(config: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``monitor --config <config> run`` as a child; its stderr goes to service.log beside it."""
    log_path = config.parent / "service.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=_child_env(),
            cwd=ROOT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)


def stop(process: subprocess.Popen[bytes], config: Path) -> float:
    """SIGTERM, and the seconds until it exited; anything but exit status 0 is an error."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BenchmarkError(
            f"monitor run did not exit within {STOP_TIMEOUT_S:g} s of SIGTERM" + log_tail(config)
        ) from None
    expect(code == 0, f"monitor run exited {code} after SIGTERM, not 0" + log_tail(config))
    return time.monotonic() - began


def alive(process: subprocess.Popen[bytes], config: Path) -> None:
    code = process.poll()
    expect(code is None, f"monitor run exited early with status {code}" + log_tail(config))


def log_tail(config: Path) -> str:
    try:
        text = (config.parent / "service.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return f"; its log ends:\n{text[-LOG_TAIL_CHARS:]}" if text.strip() else "; its log is empty"


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows from the service's SQLite file, read-only; none before it exists or is migrated."""
    if not database.exists():
        return []
    uri = f"file:{database}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as connection:
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []  # not migrated yet


def count_rows(database: Path, sql: str) -> int:
    rows = query(database, sql)
    return int(rows[0][0]) if rows else 0


def wait_for(
    process: subprocess.Popen[bytes], config: Path, database: Path, sql: str, wanted: int
) -> float:
    """Wait (bounded) until ``sql`` counts ``wanted``; the monotonic time it was seen."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        alive(process, config)
        if count_rows(database, sql) >= wanted:
            return time.monotonic()
        time.sleep(0.1)
    raise BenchmarkError(f"not {wanted} rows of {sql!r} within {START_TIMEOUT_S:g} s")


Reader = Callable[[str], list[tuple[Any, ...]]]  # rows of a query on the service's database


def expect_all_ok(config: Path, read: Reader | None = None) -> None:
    """Every job ran cleanly, every check passed, every poll succeeded.

    Otherwise the figures measure something else. A job that raises records no
    row at all: APScheduler logs it, so the log is read too. ``read`` queries
    the service's database (default: its SQLite file beside the config).
    """
    expect_clean_log(config)
    for problem in database_problems(read or partial(query, config.parent / "monitor.db")):
        raise BenchmarkError(problem)


def log_errors(config: Path) -> list[str]:
    """The ERROR and traceback lines of the service's log."""
    log = (config.parent / "service.log").read_text(encoding="utf-8", errors="replace")
    return [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]


def expect_clean_log(config: Path) -> None:
    broken = log_errors(config)
    expect(not broken, f"monitor run logged errors: {broken[:3]}" + log_tail(config))


def database_problems(read: Reader) -> list[str]:
    """Failed or skipped check runs and failed polls, as sentences (none: all is well)."""
    failed = read(
        'SELECT c.name, r.failure_class, r.detail FROM check_result r JOIN "check" c '
        "ON c.id = r.check_id WHERE NOT r.ok OR r.skipped LIMIT 3"
    )
    errors = read(
        "SELECT s.name, p.outcome, p.error FROM poll p JOIN source s ON s.id = p.source_id "
        "WHERE p.outcome = 'error' LIMIT 3"
    )
    return [
        *([f"check runs failed or were skipped: {failed}"] if failed else []),
        *([f"polls failed: {errors}"] if errors else []),
    ]
