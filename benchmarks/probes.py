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
from benchmarks.service import Window, measure_window
from benchmarks.service_config import http_checks, service_config
from monitor.store import open_store
from monitor.store.models import CheckRun

PROBES = tuple(f"probe-{n}" for n in range(1, 5))
CHECKS = 20
INTERVAL_S = 10
JITTER = 0.1  # the scheduler's jitter: up to a tenth of the interval, added to each fire time
SLACK_S = 1.0  # how late a run may start after its fire time (thread pool, a busy CPU)
WINDOW_S, WINDOW_QUICK_S = 600.0, 20.0
TARGET_RATIO = 1.5
DATABASE = "monitor_bench_probes"  # the PostgreSQL database, recreated empty for each run
FIGURE = f"service CPU per probe, 4 probes x {CHECKS} checks at {INTERVAL_S} s into PostgreSQL"
TARGET_LABEL = f"<= {TARGET_RATIO:g}x SQLite"


def lost_runs(started: Sequence[datetime], until: datetime) -> int:
    """Fire times the schedule had between a series' runs (and after its last) with no run.

    Consecutive runs are at most 1.1 intervals (and a little start latency) apart: a longer
    gap held as many fire times as whole such spans fit in it.
    """
    longest = INTERVAL_S * (1 + JITTER) + SLACK_S
    times = [*sorted(started), until]
    return sum(math.floor((b - a).total_seconds() / longest) for a, b in itertools.pairwise(times))


def fleet(
    folder: Path, url: str, check_url: str, window_s: float, pg: str | None = None
) -> tuple[Window, int]:
    """The probes on database ``url`` (migrated once first: concurrent first migrations race),
    measured over the window; and the runs they lost over their whole lives."""
    checks = http_checks(CHECKS, check_url, INTERVAL_S)
    configs = {p: service_config(folder / p, url, probe=p, check=checks) for p in PROBES}
    store = open_store(url)
    try:
        other = (lambda: postgres.backends_cpu(pg, DATABASE)) if pg else None
        window = measure_window(store, configs, CHECKS, INTERVAL_S, window_s, other)
        series: dict[tuple[str, int], list[datetime]] = defaultdict(list)
        with store.read() as session:
            for probe, check_id, started_at in session.execute(
                select(CheckRun.probe, CheckRun.check_id, CheckRun.started_at)
            ):
                series[(probe, check_id)].append(started_at)
    finally:
        store.close()
    missing = len(PROBES) * CHECKS - len(series)
    expect(missing == 0, f"{missing} (probe, check) series recorded no run at all")
    return window, sum(lost_runs(times, window.stopped[p]) for (p, _), times in series.items())


def _rows(window: Window, lost: int, prefix: str) -> list[Row]:
    low = CHECKS * math.floor(window.wall / (INTERVAL_S * (1 + JITTER)))
    high = CHECKS * math.ceil(window.wall / INTERVAL_S)
    return [
        Row(f"  {prefix}runs per probe in the window (schedule: {low}-{high})", window.runs, "n"),
        Row(f"  {prefix}lost runs, all probes, start to stop", (lost,), "n", 0, "0"),
        Row(
            f"  {prefix}errors (failed runs or polls, ERROR lines)",
            (len(window.errors),),
            "n",
            0,
            "0",
        ),
        Row(
            f"  {prefix}heartbeat age at the end, each probe",
            window.heartbeat_age,
            unit="s",
            target=60.0,  # the service beats every 30 s
            target_label="<= 60 s",
        ),
    ]


def run(context: Context) -> list[Row]:
    """The fleet on PostgreSQL, then the same fleet on one SQLite file (the reference)."""
    url = context.postgres_url
    if url is None:
        context.progress("  skipped: no --postgres-url given (see --help)")
        return [Row(FIGURE, (), target_label=TARGET_LABEL)]
    window = context.probes_window_s or (WINDOW_QUICK_S if context.quick else WINDOW_S)
    check_url = context.loopback({"/ok": b"{}"}).url + "/ok"
    home = context.folder()
    target = postgres.recreate(url, DATABASE)
    pg, pg_lost = fleet(home / "postgres", target, check_url, window, url)
    sqlite_url = f"sqlite:///{home / 'monitor.db'}"
    lite, lite_lost = fleet(home / "sqlite", sqlite_url, check_url, window)
    reference = Reference(f"the same {len(PROBES)} probes into one SQLite file", lite.cpu)
    rows = [
        Row(
            FIGURE,
            pg.cpu,
            unit="%",
            target=TARGET_RATIO * (reference.median or 0.0),
            target_label=TARGET_LABEL,
            reference=reference,
        ),
        Row(f"  window: {pg.wall:.0f} s (PostgreSQL), {lite.wall:.0f} s (SQLite)", (pg.wall,), "s"),
    ]
    if pg.server_cpu is not None:
        rows.append(Row("  PostgreSQL server backends' CPU, per probe", (pg.server_cpu,), "%"))
    return [*rows, *_rows(pg, pg_lost, ""), *_rows(lite, lite_lost, "SQLite: ")]


FIGURES = (
    Figure(
        "probes",
        run,
        ((FIGURE, TARGET_LABEL),),
        repeats=False,
        notes=(
            f"probes: {len(PROBES)} real `python -m monitor --config <probe>/config.toml run` "
            f"children, probes named {PROBES[0]}..{PROBES[-1]}, each with {CHECKS} http checks "
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
            "differs. The target is "
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
