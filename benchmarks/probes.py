"""Several probes, one database: four real ``monitor run`` children writing to PostgreSQL,
beside the same four writing into one SQLite file (the reference)."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from benchmarks import postgres
from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.service_config import http_checks, service_config
from benchmarks.service_process import Window, measure_window
from monitor.store import open_store
from monitor.store.models import CheckRun, Probe
from monitor.store.runcodes import from_ms

PROBES = tuple(f"probe-{n}" for n in range(1, 5))
CHECKS, INTERVAL_S = 20, 10
JITTER = 0.1  # the scheduler's jitter: up to a tenth of the interval, added to each fire time
SLACK_S = 1.0  # how late a run may start after its fire time (thread pool, a busy CPU)
WINDOW_S, WINDOW_QUICK_S = 600, 20
DATABASE = "monitor_bench_probes"  # the PostgreSQL database, recreated empty for each run
FIGURE = f"service CPU per probe, 4 probes x {CHECKS} checks at {INTERVAL_S} s into PostgreSQL"
TARGET = "<= 1.5x SQLite"


def lost_runs(started: Sequence[datetime], until: datetime) -> int:
    """Fire times the schedule had between a series' runs (and after its last) with no run:
    consecutive runs are at most 1.1 intervals (and a little latency) apart, and a longer gap
    held as many fire times as whole such spans fit in it."""
    longest = INTERVAL_S * (1 + JITTER) + SLACK_S
    times = [*sorted(started), until]
    return sum(math.floor((b - a).total_seconds() / longest) for a, b in itertools.pairwise(times))


def fleet(
    home: Path, url: str, check_url: str, window_s: float, pg: str = ""
) -> tuple[Window, int]:
    """The probes on database ``url`` (migrated once first: concurrent first migrations race),
    measured over the window; and the runs they lost over their whole lives."""
    checks = http_checks(CHECKS, check_url, INTERVAL_S)
    configs = {p: service_config(home / p, url, probe=p, check=checks) for p in PROBES}
    store = open_store(url)
    try:
        backends = (lambda: postgres.backends_cpu(pg, DATABASE)) if pg else dict
        window = measure_window(store, configs, CHECKS, INTERVAL_S, window_s, backends)
        series: dict[tuple[str, int], list[datetime]] = defaultdict(list)
        with store.read() as session:
            query = select(Probe.name, CheckRun.check_id, CheckRun.started_ms).join(
                Probe, Probe.id == CheckRun.probe_id
            )
            for probe, check_id, started_ms in session.execute(query):
                series[(probe, check_id)].append(from_ms(started_ms))
    finally:
        store.close()
    missing = len(PROBES) * CHECKS - len(series)
    expect(missing == 0, f"{missing} (probe, check) series recorded no run at all")
    return window, sum(lost_runs(times, window.stopped[p]) for (p, _), times in series.items())


def _rows(window: Window, lost: int, prefix: str) -> list[Row]:
    low = CHECKS * math.floor(window.wall / (INTERVAL_S * (1 + JITTER)))
    high = CHECKS * math.ceil(window.wall / INTERVAL_S)
    errors = (len(window.errors),)
    return [
        Row(f"  {prefix}runs per probe in the window (schedule: {low}-{high})", window.runs, "n"),
        Row(f"  {prefix}lost runs, all probes, start to stop", (lost,), "n", 0, "0"),
        Row(f"  {prefix}errors (failed runs or polls, ERROR lines)", errors, "n", 0, "0"),
        Row(
            f"  {prefix}heartbeat age at the end, each probe",
            window.heartbeat_age,
            "s",
            60,
            "<= 60 s",
        ),
    ]


def run(context: Context) -> list[Row]:
    """The fleet on PostgreSQL, then the same fleet on one SQLite file (the reference)."""
    if (url := context.postgres_url) is None:
        context.progress("  skipped: no --postgres-url given (see --help)")
        return [Row(FIGURE, (), target_label=TARGET)]
    window = context.probes_window_s or (WINDOW_QUICK_S if context.quick else WINDOW_S)
    check_url, home = context.loopback({"/ok": b"{}"}).url + "/ok", context.folder()
    pg, pg_lost = fleet(home / "pg", postgres.recreate(url, DATABASE), check_url, window, url)
    lite, lite_lost = fleet(home / "lite", f"sqlite:///{home / 'lite.db'}", check_url, window)
    reference = Reference("the same 4 probes into one SQLite file", lite.cpu)
    rows = [
        Row(FIGURE, pg.cpu, "%", 1.5 * (reference.median or 0), TARGET, reference=reference),
        Row(f"  window: {pg.wall:.0f} s (PostgreSQL), {lite.wall:.0f} s (SQLite)", (pg.wall,), "s"),
    ]
    if pg.other_cpu is not None:
        backends = pg.other_cpu / pg.wall / len(PROBES)
        rows.append(Row("  PostgreSQL server backends' CPU, per probe", (backends,), "%"))
    return [*rows, *_rows(pg, pg_lost, ""), *_rows(lite, lite_lost, "SQLite: ")]


NOTES = (
    "probes: 4 real `python -m monitor --config <probe>/config.toml run` children, "
    f"probe-1..probe-4, each with {CHECKS} http checks every {INTERVAL_S} s (jitter up "
    "to a tenth) on one loopback route answering 200, all with the same database.url: "
    "a fresh PostgreSQL database on the --postgres-url server (without it the figure is "
    "skipped), migrated once by the benchmark before the probes start. The window opens "
    "half an interval after every probe recorded its start-up round and lasts "
    f"{WINDOW_S} s ({WINDOW_QUICK_S} s with --quick; --probes-window SECONDS). The "
    "samples are the four children's CPU shares of a core over it (utime+stime, "
    "/proc/<pid>/stat), so min/median/max are across probes. Reference: the same four "
    "probes writing into one SQLite file (WAL) right after: the same work and contention "
    "between writers, only the database differs; the target is 1.5x its median. The "
    "PostgreSQL server's backends (connected to the database at both ends of the window, "
    "when the server runs on this machine) have their own row, per probe.",
    "probes checks: runs per probe in the window against the schedule (a check fires "
    "1 to 1.1 intervals after its previous fire time); lost runs = fire times with no "
    "run, over each probe's and check's life from its first run to its SIGTERM (a gap "
    "longer than 1.1 intervals plus 1 s counts the whole such spans in it); errors = "
    "failed or skipped runs, failed polls, ERROR or traceback lines in the logs; "
    "heartbeat age = now minus each probe's newest heartbeat at the end of the window "
    "(it beats every 30 s). Then SIGTERM: each must exit 0.",
)
FIGURES = (Figure("probes", run, ((FIGURE, TARGET),), repeats=False, notes=NOTES),)
