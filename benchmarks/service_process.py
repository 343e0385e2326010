"""``monitor run`` children (and idle reference processes), read from /proc/<pid> (Linux)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select, text

from benchmarks.measure import BenchmarkError, child_env, expect
from benchmarks.server import ROOT
from monitor.store import Store
from monitor.store.models import CheckRun, Heartbeat, Probe

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


def idle_rss(*imports: Sequence[str]) -> list[int]:
    """VmRSS of ``python -c 'import ...; sleep'``, one process per list of imports, started
    together and read half a second after the last said its imports were done."""
    with ExitStack() as stack:
        children = []
        for names in imports:
            code = f"import time{''.join(', ' + n for n in names)}\nprint('ready', flush=True)"
            argv = [sys.executable, "-c", code + "\ntime.sleep(600)"]
            child = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            stack.callback(child.wait)  # after the kill below
            stack.callback(child.kill)
            children.append(child)
        for child in children:
            assert child.stdout is not None
            with child.stdout:
                line = child.stdout.readline()
            expect(line.strip() == b"ready", f"a reference process did not start: {line!r}")
        time.sleep(0.5)
        return [rss_bytes(child.pid) for child in children]


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
            f"alive {STOP_TIMEOUT_S:g} s after SIGTERM" + log_tail(config)
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
        uri = f"file:{database}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as connection:
            try:
                return connection.execute(sql, parameters).fetchall()
            except sqlite3.OperationalError:
                return []  # not migrated yet

    return lambda sql, *parameters: read(sql, *parameters) if database.exists() else []


def count(read: Reader, sql: str, *parameters: object) -> int:
    rows = read(sql, *parameters)
    return int(rows[0][0]) if rows else 0


def problems(configs: Sequence[Path], read: Reader) -> list[str]:
    """Each ERROR or traceback line of the logs (a job that raises records no row at all), then
    failed or skipped check runs and failed polls: none when all is well."""
    found = [
        f"{c.parent.name} logged {line}"
        for c in configs
        for line in (c.parent / "service.log").read_text(errors="replace").splitlines()
        if " ERROR " in line or "Traceback" in line
    ]
    failed = read(
        "SELECT c.name, r.failure_class, coalesce(r.detail, c.usual_detail) "
        'FROM check_result r JOIN "check" c ON c.id = r.check_id '
        "WHERE r.outcome <> 0 LIMIT 3"  # failed or skipped (runcodes: 0 is a pass)
    )
    errors = read(
        "SELECT s.name, p.outcome, p.error FROM poll p JOIN source s ON s.id = p.source_id "
        "WHERE p.outcome = 'error' LIMIT 3"
    )
    found += [f"check runs failed or were skipped: {failed}"] if failed else []
    return found + ([f"polls failed: {errors}"] if errors else [])


@dataclass(frozen=True, slots=True)
class Window:
    """What ``monitor run`` children, one per probe, did over a window."""

    cpu_s: tuple[float, ...]  # each child's CPU seconds in the window
    startup_cpu: tuple[float, ...]  # each child's CPU until every start-up round was seen
    runs: tuple[int, ...]  # check runs each probe recorded in the window
    heartbeat_age: tuple[float, ...]  # each probe's newest heartbeat's age at the end, seconds
    other_cpu: float | None  # other processes' CPU seconds (the database server's), all probes
    stop_s: tuple[float, ...]  # SIGTERM to exit 0, each
    stopped: dict[str, datetime]  # each probe's SIGTERM
    wall: float
    errors: list[str]  # see ``problems``

    @property
    def cpu(self) -> tuple[float, ...]:
        """Each child's CPU share of a core over the window."""
        return tuple(seconds / self.wall for seconds in self.cpu_s)


def measure_window(
    store: Store,
    configs: dict[str, Path],
    checks: int,
    interval_s: float,
    window_s: float,
    other_cpu: Callable[[], dict[int, float]] = dict,
) -> Window:
    """A ``monitor run`` per probe (``configs``: probe -> config) on the migrated ``store``; the
    window opens half an interval after every one recorded ``checks`` runs; then SIGTERM each."""

    def runs() -> list[int]:
        with store.read() as session:
            query = (
                select(Probe.name, func.count())
                .join(CheckRun, CheckRun.probe_id == Probe.id)
                .group_by(Probe.name)
            )
            found: dict[str, int] = dict(session.execute(query).tuples().all())
        return [int(found.get(p, 0)) for p in configs]

    with ExitStack() as stack:
        children = [(stack.enter_context(monitor_run(c)), c) for c in configs.values()]
        first = wait_until(children, lambda: time.monotonic() if min(runs()) >= checks else None)
        startup = [cpu_seconds(p.pid) for p, _ in children]
        time.sleep(max(0.0, first + interval_s / 2 - time.monotonic()))
        other0, runs0, wall0 = other_cpu(), runs(), time.monotonic()
        cpu0 = [cpu_seconds(p.pid) for p, _ in children]
        while (left := wall0 + window_s - time.monotonic()) > 0:
            time.sleep(min(left, 5.0))
            for process, config in children:
                alive(process, config)
        cpu1, wall = [cpu_seconds(p.pid) for p, _ in children], time.monotonic() - wall0
        other1, runs1, now = other_cpu(), runs(), datetime.now(UTC)
        with store.read() as session:
            query = select(Heartbeat.probe, func.max(Heartbeat.last_seen)).group_by(Heartbeat.probe)
            beats = dict(session.execute(query).tuples().all())
        stopped, took = {}, []
        for probe, (process, config) in zip(configs, children, strict=True):
            stopped[probe] = datetime.now(UTC)  # no runs of this probe after it
            took.append(stop(process, config))
    both = set(other0) & set(other1)  # the processes there at both ends

    def rows(sql: str) -> list[tuple[Any, ...]]:
        with store.read() as session:
            return [tuple(row) for row in session.execute(text(sql))]

    return Window(
        cpu_s=tuple(b - a for a, b in zip(cpu0, cpu1, strict=True)),
        startup_cpu=tuple(startup),
        runs=tuple(b - a for a, b in zip(runs0, runs1, strict=True)),
        heartbeat_age=tuple(
            (now - beats[p]).total_seconds() if p in beats else float("inf") for p in configs
        ),
        other_cpu=sum(other1[p] - other0[p] for p in both) if both else None,
        stop_s=tuple(took),
        stopped=stopped,
        wall=wall,
        errors=problems(list(configs.values()), rows),
    )
