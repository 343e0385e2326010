"""The ``monitor run`` children the service figures measure, read from /proc/<pid> (Linux)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.measure import BenchmarkError, child_env, expect
from benchmarks.server import ROOT

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
# api-authenticated runs only when this is set: a placeholder lets it run (on loopback).
API_KEY = {"ANTHROPIC_API_KEY": "bench-placeholder-not-a-key"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # /proc/<pid>/stat counts CPU time in these
Child = subprocess.Popen[bytes]
Reader = Callable[..., list[tuple[Any, ...]]]  # (sql, *parameters): rows of the service's data
T = TypeVar("T")


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


@contextmanager
def monitor_run(config: Path) -> Iterator[Child]:
    """``monitor --config <config> run`` as a child; its stderr goes to service.log beside it."""
    with (config.parent / "service.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=child_env(**API_KEY),
            cwd=ROOT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)


def stop(process: Child, config: Path) -> float:
    """SIGTERM, and the seconds until it exited; anything but exit status 0 is an error."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BenchmarkError(
            f"still running {STOP_TIMEOUT_S:g} s after SIGTERM" + log_tail(config)
        ) from None
    expect(code == 0, f"monitor run exited {code} after SIGTERM, not 0" + log_tail(config))
    return time.monotonic() - began


def alive(process: Child, config: Path) -> None:
    code = process.poll()
    expect(code is None, f"monitor run exited early with status {code}" + log_tail(config))


def wait_until(children: Sequence[tuple[Child, Path]], found: Callable[[], T | None]) -> T:
    """Poll ``found`` until it gives something (bounded), the children alive meanwhile."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for process, config in children:
            alive(process, config)
        if (value := found()) is not None:
            return value
        time.sleep(0.05)
    raise BenchmarkError(f"not done within {START_TIMEOUT_S:g} s" + log_tail(children[0][1]))


def log_tail(config: Path) -> str:
    try:
        text = (config.parent / "service.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return f"; its log ends:\n{text[-2000:]}" if text.strip() else "; its log is empty"


def query(database: Path) -> Reader:
    """Rows from a service's SQLite file, read-only; none before it exists or is migrated."""

    def read(sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        if not database.exists():
            return []
        uri = f"file:{database}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as connection:
            try:
                return connection.execute(sql, parameters).fetchall()
            except sqlite3.OperationalError:
                return []  # not migrated yet

    return read


def count(read: Reader, sql: str, *parameters: object) -> int:
    rows = read(sql, *parameters)
    return int(rows[0][0]) if rows else 0


def log_errors(config: Path) -> list[str]:
    """The ERROR and traceback lines of the service's log."""
    log = (config.parent / "service.log").read_text(encoding="utf-8", errors="replace")
    return [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]


def problems(configs: Sequence[Path], read: Reader) -> list[str]:
    """ERROR lines, failed or skipped check runs and failed polls, as sentences (none: all well).

    A job that raises records no row at all: APScheduler logs it, so the logs are read too.
    """
    failed = read(
        'SELECT c.name, r.failure_class, r.detail FROM check_result r JOIN "check" c '
        "ON c.id = r.check_id WHERE NOT r.ok OR r.skipped LIMIT 3"
    )
    errors = read(
        "SELECT s.name, p.outcome, p.error FROM poll p JOIN source s ON s.id = p.source_id "
        "WHERE p.outcome = 'error' LIMIT 3"
    )
    return [
        *(f"{c.parent.name} logged {line}" for c in configs for line in log_errors(c)),
        *([f"check runs failed or were skipped: {failed}"] if failed else []),
        *([f"polls failed: {errors}"] if errors else []),
    ]


def expect_clean(configs: Sequence[Path], read: Reader) -> None:
    """Every job ran cleanly: otherwise the figures measure something else."""
    found = problems(configs, read)
    expect(not found, "; ".join(found[:5]) + log_tail(configs[0]))
