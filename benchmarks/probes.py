"""Several probes, one database: four real ``monitor run`` processes writing to PostgreSQL.

Each probe is its own ``python -m monitor --config <probe>/config.toml run``
child with its own ``[monitor] probe`` name, 20 http checks every 10 s on one
loopback route, and the same ``database.url``. The database is migrated once
by the benchmark before they start (first-time migration is not what is
measured, and concurrent first migrations on a server race).

Measured over a window (10 min; --quick 20 s; --probes-window) opened half an
interval after every probe recorded its start-up round: each child's CPU
(utime + stime from /proc), runs lost against the schedule, failed runs and
ERROR lines, and how old each probe's heartbeat is at the end. The reference
is the same four probes writing into one SQLite file, measured right after.
"""

from __future__ import annotations

import itertools
import math
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from subprocess import Popen
from typing import Any

from sqlalchemy import func, select, text

from benchmarks import postgres
from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.server import RemoteLoopback
from benchmarks.service import monitor_run, write_toml
from benchmarks.service_process import (
    START_TIMEOUT_S,
    alive,
    cpu_seconds,
    database_problems,
    log_errors,
    stop,
)
from monitor.store import Store, open_store
from monitor.store.models import CheckRun, Heartbeat

PROBES = 4
CHECKS = 20
INTERVAL_S = 10
JITTER = 0.1  # the scheduler's jitter: up to a tenth of the interval, added to each fire time
SLACK_S = 1.0  # how late a run may start after its fire time (thread pool, a busy CPU)
WINDOW_S = 600.0
WINDOW_QUICK_S = 20.0
HEARTBEAT_FRESH_S = 60.0  # the service beats every 30 s
TARGET_RATIO = 1.5
DATABASE = "monitor_bench_probes"  # the PostgreSQL database, recreated empty for each run

FIGURE_PG = (
    f"service CPU per probe, {PROBES} probes x {CHECKS} checks at {INTERVAL_S} s into PostgreSQL"
)
TARGET_LABEL = f"<= {TARGET_RATIO:g}x SQLite"


@dataclass(frozen=True, slots=True)
class FleetRun:
    """What one fleet of probes did, for one database."""

    cpu: tuple[float, ...]  # each probe's CPU share of a core over the window
    window_runs: tuple[int, ...]  # check runs each probe recorded in the window
    lost: int  # fire times the schedule had that no run answered, all probes, whole life
    errors: int  # failed or skipped runs, failed polls, ERROR lines in the logs
    heartbeat_age: tuple[float, ...]  # each probe's heartbeat age at the end, seconds
    server_cpu: float | None  # the database server's backends, CPU share per probe
    window_s: float


def probe_name(index: int) -> str:
    return f"probe-{index + 1}"


def write_fleet(folder: Path, url: str, server_url: str) -> list[Path]:
    """One config per probe, each in its own folder (its log beside it)."""
    configs = []
    for index in range(PROBES):
        home = folder / probe_name(index)
        home.mkdir(parents=True)
        raw = {
            "monitor": {"probe": probe_name(index)},
            "database": {"url": url},
            "check": [
                {
                    "name": f"check{i:02}",
                    "kind": "http",
                    "url": f"{server_url}/ok",
                    "interval": f"{INTERVAL_S}s",
                    "timeout": "10s",
                }
                for i in range(CHECKS)
            ],
        }
        configs.append(write_toml(home / "config.toml", raw))
    return configs


def _rows(store: Store, query: str) -> list[tuple[Any, ...]]:
    with store.read() as session:
        return [tuple(row) for row in session.execute(text(query))]


def _runs_by_probe(store: Store) -> dict[str, int]:
    with store.read() as session:
        rows = session.execute(select(CheckRun.probe, func.count()).group_by(CheckRun.probe))
        return {str(row[0]): int(row[1]) for row in rows}


def _wait_for_first_rounds(store: Store, processes: Sequence[tuple[Popen[bytes], Path]]) -> float:
    """Wait (bounded) until every probe recorded its start-up round; when it was seen."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for process, config in processes:
            alive(process, config)
        counts = _runs_by_probe(store)
        if all(counts.get(probe_name(i), 0) >= CHECKS for i in range(PROBES)):
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"not every probe ran its {CHECKS} checks within {START_TIMEOUT_S:g} s")


def lost_runs(started: Sequence[datetime], until: datetime) -> int:
    """Fire times the schedule had between a series' runs (and after its last) with no run.

    The scheduler fires each check at the previous (jittered) fire time plus
    the interval plus up to a tenth of it: consecutive runs are at most
    1.1 intervals (and a little start latency) apart. A longer gap held as many
    fire times as whole such spans fit in it.
    """
    longest = INTERVAL_S * (1 + JITTER) + SLACK_S
    times = [*sorted(started), until]
    return sum(
        math.floor((later - earlier).total_seconds() / longest)
        for earlier, later in itertools.pairwise(times)
    )


def _lost(store: Store, stopped: dict[str, datetime]) -> int:
    """Lost runs over every probe's and check's whole life, up to that probe's SIGTERM.

    A (probe, check) series with no run at all is an error, not a count.
    """
    series: dict[tuple[str, int], list[datetime]] = defaultdict(list)
    with store.read() as session:
        for probe, check_id, started_at in session.execute(
            select(CheckRun.probe, CheckRun.check_id, CheckRun.started_at)
        ):
            series[(probe, check_id)].append(started_at)
    missing = PROBES * CHECKS - len(series)
    expect(missing == 0, f"{missing} (probe, check) series recorded no run at all")
    return sum(lost_runs(times, stopped[probe]) for (probe, _check), times in series.items())


def _heartbeat_ages(store: Store, now: datetime) -> tuple[float, ...]:
    with store.read() as session:
        rows = session.execute(
            select(Heartbeat.probe, func.max(Heartbeat.last_seen)).group_by(Heartbeat.probe)
        )
        seen = {str(row[0]): row[1] for row in rows}
    ages = []
    for index in range(PROBES):
        last = seen.get(probe_name(index))
        ages.append(math.inf if last is None else (now - last).total_seconds())
    return tuple(ages)


@contextmanager
def _fleet(configs: Sequence[Path]) -> Iterator[list[tuple[Popen[bytes], Path]]]:
    with ExitStack() as stack:
        yield [(stack.enter_context(monitor_run(config)), config) for config in configs]


def run_fleet(
    configs: Sequence[Path],
    url: str,
    window_s: float,
    server_pids: Callable[[], set[int]] | None = None,
) -> FleetRun:
    """Migrate ``url`` once, start the probes, measure over the window, stop them (exit 0)."""
    store = open_store(url)  # migrates the empty database, before any probe starts
    try:
        with _fleet(configs) as processes:
            first = _wait_for_first_rounds(store, processes)
            time.sleep(max(0.0, first + INTERVAL_S / 2 - time.monotonic()))
            pids = [process.pid for process, _config in processes]
            backends = server_pids() if server_pids else set()
            server0 = postgres.local_cpu(backends)
            cpu0, wall0 = [cpu_seconds(pid) for pid in pids], time.monotonic()
            runs0 = _runs_by_probe(store)
            while (left := wall0 + window_s - time.monotonic()) > 0:
                time.sleep(min(left, 5.0))
                for process, config in processes:
                    alive(process, config)
            cpu1, wall1 = [cpu_seconds(pid) for pid in pids], time.monotonic()
            server1 = postgres.local_cpu(backends)
            runs1 = _runs_by_probe(store)
            ages = _heartbeat_ages(store, datetime.now(UTC))
            stopped = {}
            for index, (process, config) in enumerate(processes):
                stopped[probe_name(index)] = datetime.now(UTC)  # its SIGTERM: no runs after
                stop(process, config)
        wall = wall1 - wall0
        problems = database_problems(lambda query: _rows(store, query))
        lines = sum(len(log_errors(config)) for config in configs)
        lost = _lost(store, stopped)
    finally:
        store.close()
    same = sorted(set(server0) & set(server1))
    server = (
        sum(server1[p] - server0[p] for p in same) / wall / PROBES if server_pids and same else None
    )
    return FleetRun(
        cpu=tuple((after - before) / wall for before, after in zip(cpu0, cpu1, strict=True)),
        window_runs=tuple(
            runs1.get(probe_name(i), 0) - runs0.get(probe_name(i), 0) for i in range(PROBES)
        ),
        lost=lost,
        errors=len(problems) + lines,
        heartbeat_age=ages,
        server_cpu=server,
        window_s=wall,
    )


def _schedule(window_s: float) -> str:
    """The runs a probe's schedule fits in a window: between 1.1 and 1 intervals apart."""
    low = CHECKS * math.floor(window_s / (INTERVAL_S * (1 + JITTER)))
    high = CHECKS * math.ceil(window_s / INTERVAL_S)
    return f"{low}-{high}"


def _checks_rows(run: FleetRun, prefix: str) -> list[Row]:
    return [
        Row(
            f"  {prefix}runs per probe in the window (schedule: {_schedule(run.window_s)})",
            tuple(map(float, run.window_runs)),
            unit="n",
        ),
        Row(f"  {prefix}lost runs, all probes, start to stop", (float(run.lost),), "n", 0, "0"),
        Row(
            f"  {prefix}errors (failed runs or polls, ERROR lines)",
            (float(run.errors),),
            "n",
            0,
            "0",
        ),
        Row(
            f"  {prefix}heartbeat age at the end, each probe",
            run.heartbeat_age,
            unit="s",
            target=HEARTBEAT_FRESH_S,
            target_label=f"<= {HEARTBEAT_FRESH_S:g} s",
        ),
    ]


def run_probes(context: Context) -> list[Row]:
    """The fleet on PostgreSQL, then the same fleet on one SQLite file (the reference)."""
    url = context.postgres_url
    if url is None:
        context.progress("  skipped: no --postgres-url given (see --help)")
        return [Row(FIGURE_PG, (), target_label=TARGET_LABEL)]
    window = context.probes_window_s or (WINDOW_QUICK_S if context.quick else WINDOW_S)
    with tempfile.TemporaryDirectory(prefix="monitor-probes-") as name:
        tmp = Path(name)
        with RemoteLoopback({"/ok": b"{}"}) as server:
            target = postgres.recreate(url, DATABASE)
            on_server = postgres.is_local(url)
            pg = run_fleet(
                write_fleet(tmp / "postgres", target, server.url),
                target,
                window,
                (lambda: postgres.backend_pids(url, DATABASE)) if on_server else None,
            )
            sqlite_url = f"sqlite:///{tmp / 'monitor.db'}"
            lite = run_fleet(
                write_fleet(tmp / "sqlite", sqlite_url, server.url), sqlite_url, window
            )
    reference = Reference("the same 4 probes into one SQLite file", lite.cpu)
    rows = [
        Row(
            FIGURE_PG,
            pg.cpu,
            unit="%",
            target=TARGET_RATIO * (reference.median or 0.0),
            target_label=TARGET_LABEL,
            reference=reference,
        ),
        Row(
            f"  window: {pg.window_s:.0f} s (PostgreSQL), {lite.window_s:.0f} s (SQLite)",
            (pg.window_s,),
            "s",
        ),
    ]
    if pg.server_cpu is not None:
        rows.append(Row("  PostgreSQL server backends' CPU, per probe", (pg.server_cpu,), "%"))
    return [*rows, *_checks_rows(pg, ""), *_checks_rows(lite, "SQLite: ")]


FIGURES = (
    Figure(
        "probes",
        run_probes,
        ((FIGURE_PG, TARGET_LABEL),),
        repeats=False,
        notes=(
            f"probes: {PROBES} real `python -m monitor --config <probe>/config.toml run` "
            f"children, probes named probe-1..probe-{PROBES}, each with {CHECKS} http checks "
            f"every {INTERVAL_S} s (jitter up to a tenth) on one loopback route answering 200, "
            "all with the same database.url: a fresh PostgreSQL database (given by "
            "--postgres-url; without it the figure is listed as skipped), migrated once by the "
            "benchmark before the probes start. The window opens half an interval after every "
            f"probe recorded its start-up round and lasts {WINDOW_S:g} s ({WINDOW_QUICK_S:g} s "
            "with --quick; --probes-window SECONDS). The figure's samples are the four "
            "children's CPU shares of a core over the window (utime+stime from /proc/<pid>/stat, "
            "all threads), so min/median/max are across probes. Reference: the same four "
            "probes, same checks, writing into one SQLite file (WAL), measured right after: "
            "the same work and the same contention between writers, only the database "
            "differs; a single probe into SQLite would not contend. The target is "
            f"{TARGET_RATIO:g}x the reference's median. With PostgreSQL part of the work moves "
            "into the server's processes: their CPU (the backends connected to the database at "
            "both ends of the window, when the server runs on this machine) is its own row, "
            "per probe, not in the figure.",
            "probes checks: runs per probe in the window, against the schedule (a check fires "
            "1 to 1.1 intervals after its previous fire time); lost runs = fire times the "
            "schedule had with no run recorded, over each probe's and check's whole life from "
            "its first run to the SIGTERM: every gap between consecutive runs longer than 1.1 "
            "intervals plus 1 s counts the whole such spans in it; errors = failed or skipped "
            "runs, failed polls and ERROR or traceback lines in the four logs; heartbeat age = "
            "now minus each probe's newest heartbeat.last_seen at the end of the window "
            "(it beats every 30 s). Then SIGTERM: each must exit 0.",
        ),
    ),
)
