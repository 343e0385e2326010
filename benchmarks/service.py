"""A real ``monitor run`` child on the loopback server: its resident memory, and its CPU.

``measure_window`` (one child or a fleet of probes, shared with benchmarks.probes) reads
each child's CPU over a window opened half an interval after every one recorded its
start-up round, so that the window holds whole scheduling rounds and none of the start-up.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.service_config import (
    MAX_COMPRESSED_S,
    http_checks,
    service_config,
    shipped_runs_per_ten_minutes,
    shipped_service,
    shipped_shape,
)
from benchmarks.service_process import (
    START_TIMEOUT_S,
    alive,
    count,
    cpu_seconds,
    expect_clean,
    log_tail,
    monitor_run,
    problems,
    query,
    rss_bytes,
    stop,
    wait_until,
)
from monitor.store import Store, open_store
from monitor.store.models import CheckRun, Heartbeat

FIGURE_MEMORY = "service resident memory after warm-up"
FIGURE_CPU = "service CPU, 20 checks at 30 s against 127.0.0.1"
MEMORY_S = 90.0
LIBRARIES = ("httpx", "sqlalchemy.orm", "pydantic", "apscheduler.schedulers.background")
CHECKS = 20
CPU_INTERVAL_S, CPU_WINDOW_S = 30, 60.0  # the window holds rounds 1 and 2: [15, 75] s
QUICK_INTERVAL_S, QUICK_WINDOW_S = 2, 2.0  # [1, 3] s holds round 1


def idle_rss(*imports: Sequence[str]) -> list[int]:
    """VmRSS of ``python -c 'import ...; sleep'``, one process per list of imports, started
    together and read half a second after the last said its imports were done."""
    with ExitStack() as stack:
        children = []
        for names in imports:
            code = f"import time{''.join(', ' + n for n in names)}\nprint('ready', flush=True)"
            argv = [sys.executable, "-c", code + "\ntime.sleep(600)"]
            child = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            assert child.stdout is not None
            stack.callback(child.stdout.close)
            stack.callback(child.wait)
            stack.callback(child.kill)
            children.append(child)
        for child in children:
            line = child.stdout.readline() if child.stdout else b""
            expect(line.strip() == b"ready", f"a reference process did not start: {line!r}")
        time.sleep(0.5)
        return [rss_bytes(child.pid) for child in children]


def run_memory(context: Context) -> list[Row]:
    """The shipped config's shape on loopback, compressed intervals, RSS every second."""
    duration = 0.0 if context.quick else MEMORY_S  # --quick: until 3 samples after warm-up
    plan = shipped_service(context.folder(), context.loopback({}).url)
    context.loopback(plan.routes)
    read = query(plan.config.parent / "monitor.db")
    every_job = (
        "SELECT (SELECT count(DISTINCT check_id) FROM check_result) >= ? "
        "AND (SELECT count(DISTINCT source_id) FROM poll) >= ?"
    )
    samples: list[int] = []
    warm_at, tick = None, 0
    with monitor_run(plan.config) as process:
        started = time.monotonic()
        while warm_at is None or len(samples) < 3 or tick <= duration:
            time.sleep(max(0.0, started + tick - time.monotonic()))
            alive(process, plan.config)
            expect(
                bool(warm_at) or tick < START_TIMEOUT_S, "not every job ran" + log_tail(plan.config)
            )
            if warm_at is None and count(read, every_job, plan.checks, plan.sources):
                warm_at = time.monotonic() - started
            if warm_at is not None:
                samples.append(rss_bytes(process.pid))
            tick += 1
        peak, ran = rss_bytes(process.pid, "VmHWM"), time.monotonic() - started
        stop(process, plan.config)
    expect_clean([plan.config], read)
    runs = count(read, "SELECT count(*) FROM check_result")
    polls = count(read, "SELECT count(*) FROM poll")
    libraries, bare = idle_rss(LIBRARIES, ())
    return [
        Row(
            FIGURE_MEMORY,
            (float(samples[-1]),),
            unit="MB",
            target=100e6,  # "at most 100 MB", read as 10^6 bytes: the stricter reading
            target_label="<= 100 MB",
            reference=Reference("idle python + the same libraries", (float(libraries),)),
        ),
        Row("  RSS each second after warm-up", tuple(map(float, samples)), unit="MB"),
        Row("  peak RSS (VmHWM, kernel-tracked)", (float(peak),), unit="MB"),
        Row("  warm-up: until every job had run once", (warm_at or 0.0,), unit="s"),
        Row(f"  job runs done in {ran:.0f} s (checks + polls)", (runs + polls,), unit="n"),
        Row("  of which polls", (polls,), unit="n"),
        Row("  job runs 10 min at shipped intervals does", (shipped_runs_per_ten_minutes(),), "n"),
        Row("  an idle plain python process (no imports)", (float(bare),), unit="MB"),
    ]


@dataclass(frozen=True, slots=True)
class Window:
    """What a fleet of ``monitor run`` children (one per probe) did over the window."""

    cpu: tuple[float, ...]  # each child's CPU share of a core over the window
    cpu_s: tuple[float, ...]  # the same in CPU seconds
    startup_cpu: tuple[float, ...]  # each child's CPU until its start-up round was seen
    runs: tuple[int, ...]  # check runs each probe recorded in the window
    heartbeat_age: tuple[float, ...]  # each probe's newest heartbeat's age at the end, seconds
    server_cpu: float | None  # CPU share of other processes (the database server's), per probe
    stop_s: tuple[float, ...]  # SIGTERM to exit 0, each
    stopped: dict[str, datetime]  # each probe's SIGTERM
    wall: float
    errors: list[str]


def rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    with store.read() as session:
        return [tuple(row) for row in session.execute(text(sql))]


def runs_by_probe(store: Store, probes: Sequence[str]) -> list[int]:
    with store.read() as session:
        query = select(CheckRun.probe, func.count()).group_by(CheckRun.probe)
        found = dict(session.execute(query).tuples().all())
    return [int(found.get(p, 0)) for p in probes]


def measure_window(
    store: Store,
    configs: dict[str, Path],
    checks: int,
    interval_s: float,
    window_s: float,
    other_cpu: Callable[[], dict[int, float]] | None = None,
) -> Window:
    """Start a ``monitor run`` per probe (``configs``: probe -> config) on the migrated ``store``,
    measure from half an interval after every one recorded ``checks`` runs, then SIGTERM each."""
    probes = list(configs)
    with ExitStack() as stack:
        children = [(stack.enter_context(monitor_run(c)), c) for c in configs.values()]
        first = wait_until(
            children,
            lambda: time.monotonic() if min(runs_by_probe(store, probes)) >= checks else None,
        )
        startup = [cpu_seconds(p.pid) for p, _ in children]
        time.sleep(max(0.0, first + interval_s / 2 - time.monotonic()))
        other0 = other_cpu() if other_cpu else {}
        cpu0, runs0, wall0 = (
            [cpu_seconds(p.pid) for p, _ in children],
            runs_by_probe(store, probes),
            time.monotonic(),
        )
        while (left := wall0 + window_s - time.monotonic()) > 0:
            time.sleep(min(left, 5.0))
            for process, config in children:
                alive(process, config)
        cpu1, wall = [cpu_seconds(p.pid) for p, _ in children], time.monotonic() - wall0
        other1 = other_cpu() if other_cpu else {}
        runs1 = runs_by_probe(store, probes)
        with store.read() as session:
            query = select(Heartbeat.probe, func.max(Heartbeat.last_seen)).group_by(Heartbeat.probe)
            beats = dict(session.execute(query).tuples().all())
        now = datetime.now(UTC)
        stopped, took = {}, []
        for probe, (process, config) in zip(probes, children, strict=True):
            stopped[probe] = datetime.now(UTC)  # no runs of this probe after it
            took.append(stop(process, config))
    both = set(other0) & set(other1)
    used = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    return Window(
        cpu=tuple(u / wall for u in used),
        cpu_s=tuple(used),
        startup_cpu=tuple(startup),
        runs=tuple(b - a for a, b in zip(runs0, runs1, strict=True)),
        heartbeat_age=tuple(
            (now - beats[p]).total_seconds() if p in beats else float("inf") for p in probes
        ),
        server_cpu=sum(other1[p] - other0[p] for p in both) / wall / len(probes) if both else None,
        stop_s=tuple(took),
        stopped=stopped,
        wall=wall,
        errors=problems(list(configs.values()), lambda sql: rows(store, sql)),
    )


def run_cpu(context: Context) -> list[Row]:
    """20 http checks at 30 s; the service's CPU share over whole rounds."""
    interval, window_s = (
        (QUICK_INTERVAL_S, QUICK_WINDOW_S) if context.quick else (CPU_INTERVAL_S, CPU_WINDOW_S)
    )
    home = context.folder()
    url = f"sqlite:///{home / 'monitor.db'}"
    checks = http_checks(CHECKS, f"{context.loopback({'/ok': b'{}'}).url}/ok", interval)
    config = service_config(home, url, check=checks)
    store = open_store(url)  # migrated before the child starts, as for the probes
    try:
        window = measure_window(store, {"bench": config}, CHECKS, interval, window_s)
    finally:
        store.close()
    expect(not window.errors, "; ".join(window.errors[:5]))
    expected = CHECKS * int((interval / 2 + window_s) // interval)
    return [
        Row(
            FIGURE_CPU,
            (window.cpu[0] * interval / CPU_INTERVAL_S,),  # --quick: scaled to a 30 s interval
            unit="%",
            target=0.02,
            target_label="< 2 % of a core",
            strict=True,
        ),
        Row(f"  check runs in the {window_s:g} s window (expected {expected})", window.runs, "n"),
        Row("  same window, CPU seconds", window.cpu_s, unit="s"),
        Row("  start-up: imports and first round (CPU)", window.startup_cpu, unit="s"),
        Row("  SIGTERM to exit (status 0)", window.stop_s, unit="s"),
    ]


FIGURES = (
    Figure(
        "service-memory",
        run_memory,
        ((FIGURE_MEMORY, "<= 100 MB"),),
        repeats=False,
        notes=(
            "service figures: one run each, whatever --repeat says (each is one long measurement "
            "of a real `python -m monitor --config <tmp>/config.toml run` child process, read "
            "from /proc/<pid>), so median = min = max on their main rows. The only DNS question "
            "asked is for localhost.",
            f"service memory: the shipped config.toml's {shipped_shape()}, every URL rewritten "
            "to the loopback server (statuspage sources serve the github fixtures, the feed the "
            "saucelabs Atom fixture; the http checks are answered 401/200/204, the token "
            "endpoint 400 invalid_grant, the clock check's URL 200) and ANTHROPIC_API_KEY set to "
            "a placeholder so api-authenticated runs rather than skips; credentials_file reads a "
            "placeholder file in the temp folder, local_port a free port, dns resolves "
            "localhost. Intervals are COMPRESSED: a shipped minute became a second, at most "
            f"{MAX_COMPRESSED_S} s (1m -> 1s, 2m -> 2s, 5m/10m/15m -> 5s). Ten minutes at the "
            f"shipped intervals is {shipped_runs_per_ten_minutes()} job runs (each job at start, "
            f"then per interval); the run lasts {MEMORY_S:g} s from the child's start (--quick: "
            "until three samples after warm-up) and does the job runs in its row, several times "
            "that. RSS = VmRSS from /proc/<pid>/status, sampled every second once every job had "
            "run once; the figure is the last sample, the sub-row gives the spread, VmHWM the "
            "kernel's peak. MB = 10^6 bytes (100 MB = 95.4 MiB). The database starts empty, so "
            "the start-up migration runs (Alembic and Mako get imported and stay resident); a "
            "restart on an up-to-date database skips them and settles lower. Not compressed: "
            "the heartbeat (every 30 s) and the retention pass (first after 5 min), which "
            "therefore never runs here. Every check run must pass and every poll succeed, else "
            "the harness stops. Reference: VmRSS of `python -c 'import "
            f"{', '.join(LIBRARIES)}; sleep'` (the third-party libraries the service imports at "
            "top level) half a second after its imports finished, right after the service run; "
            "the sub-row is the same for a plain python process importing nothing (both start "
            "together). The difference to the figure is monitor's own code and data (its "
            "modules, Alembic for the migration, the scheduler's threads, caches).",
        ),
    ),
    Figure(
        "service-cpu",
        run_cpu,
        ((FIGURE_CPU, "< 2 % of a core"),),
        repeats=False,
        notes=(
            f"service CPU: {CHECKS} http checks, interval {CPU_INTERVAL_S}s (jitter up to a "
            "tenth of it), all on one loopback route answering 200, on a database the benchmark "
            "migrated before the child started. The window opens half an interval after the "
            f"start-up round is recorded and lasts {CPU_WINDOW_S:g} s; the figure is "
            "utime+stime of the child (all threads, from /proc/<pid>/stat, 10 ms ticks) over "
            "the window's wall time. The window holds two rounds of 20 runs; APScheduler 3 adds "
            "each jitter to the previous jittered fire time, so a 30 s check really runs every "
            "~31.5 s on average, and two rounds per 60 s overstate the long-run average a "
            f"little. With --quick the checks run every {QUICK_INTERVAL_S} s and the window is "
            f"{QUICK_WINDOW_S:g} s (one round); the share is multiplied by "
            f"{QUICK_INTERVAL_S / CPU_INTERVAL_S:.3f} to stand for a 30 s interval, which also "
            "scales the idle service's own ticks down: an estimate, not the figure. Then "
            "SIGTERM: the service must exit 0. No reference: an idle process's CPU is zero, and "
            "a bare loop of the same requests is the check-overhead figure's reference.",
        ),
    ),
)
