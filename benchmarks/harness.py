"""``python -m benchmarks``: measure the issue's figures, print a table, write RESULTS.md."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import checks, ingest, poll, report, service
from benchmarks.measure import Row

DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
FULL_REPEAT = 7
QUICK_REPEAT = 3
_SHIPPED = service.shipped_shape()
_TEN_MINUTES = service.shipped_runs_per_ten_minutes()

NOTES = (
    "median/min/max over the repeats; the verdict compares the median with the target.",
    "wall = time.perf_counter(); CPU = time.process_time(), i.e. every thread of the "
    "benchmark process (the poller's worker threads included).",
    "the loopback server (tests.loopback.LoopbackServer) runs in a separate, spawned "
    "process, so its CPU is not in the CPU figures; it is shown on its own row. "
    "All traffic stays on 127.0.0.1.",
    "figures 1 and 2 run one uncounted warm-up first; each round of figure 3 starts from "
    "an empty SQLite file and a new httpx client (built outside the timer).",
    "parse + upsert: parse_incidents, then apply_snapshot and commit in one write "
    "transaction, on a fresh SQLite file (WAL) per round.",
    "repeat poll: one statuspage source (3 endpoints) already polled once, so all three "
    "requests are conditional and answered 304; the httpx client is built beforehand.",
    "check run overhead: CPU of one run_checks(store, config, context, [name]) call for one "
    "check (check row sync, thread pool, the check itself - for http a new client and the "
    "request - and the SQLite write of its result); the server's CPU is in its own process "
    "and network wait is not CPU, so this is the overhead excluding network wait. "
    f"{checks.RUNS_PER_REPEAT} runs per repeat, each after a gc.collect() outside the timer, "
    "as in a scheduled run; 'back to back' repeats them with nothing in between.",
    f"{checks.FIFTY} checks: one run_checks call for {checks.FIFTY} http checks on one "
    f"loopback server, {checks.FIFTY - 1} answered at once and the last one after a "
    f"{checks.SLOW_DELAY_S:g} s server-side delay (timeouts {checks.TIMEOUT}); the figure is "
    "the call's wall time minus the slowest check's own duration_ms. The slow check is "
    "last in config order, so it waits for one of run_checks' 32 workers (the worst case); "
    "'slow check started' is how long after the call began its run did.",
    "service figures: one run each, whatever --repeat says (each is one long measurement "
    "of a real `python -m monitor --config <tmp>/config.toml run` child process, read from "
    "/proc/<pid>), so median = min = max on their main rows. Its loopback server runs in "
    "another process; the only DNS question asked is for localhost.",
    f"service memory: the shipped config.toml's {_SHIPPED}, every URL rewritten to the loopback "
    "server (statuspage sources serve the github fixtures, the feed the saucelabs Atom "
    "fixture; the http checks are answered 401/200/204, the token endpoint 400 invalid_grant, "
    "the clock check's URL 200) and ANTHROPIC_API_KEY set to a placeholder so "
    "api-authenticated runs rather than skips; credentials_file reads a placeholder file "
    "in the temp folder, local_port a free port, dns resolves localhost. Intervals are "
    "COMPRESSED so that ten minutes of work happens in far less time: a shipped minute "
    f"became a second, at most {service.MAX_COMPRESSED_S} s (1m -> 1s, 2m -> 2s, 5m/10m/15m "
    f"-> 5s). Ten minutes at the shipped intervals is {_TEN_MINUTES} job runs (each job at "
    f"start, then per interval); the run lasts {service.MEMORY_RUN_S:g} s "
    f"({service.MEMORY_RUN_QUICK_S:g} s with --quick) from the child's start and does the "
    "number of job runs in its row, i.e. several times that. RSS = VmRSS from "
    "/proc/<pid>/status, sampled every second once every job had run once; the figure is "
    "the last sample, the sub-row gives the spread, VmHWM the kernel's peak. MB = 10^6 "
    "bytes (100 MB = 95.4 MiB). The database starts empty, so the start-up migration "
    "runs (Alembic and Mako get imported and stay resident); a restart on an up-to-date "
    "database skips them and settles lower. Not compressed: the heartbeat (every 30 s) and the "
    "retention pass (first after 5 min, then daily), which therefore never runs here. "
    "Every check run must pass and every poll succeed, else the harness stops.",
    f"service CPU: {service.CPU_CHECKS} http checks, interval {service.CPU_INTERVAL} (jitter "
    "up to 3 s), all on one loopback route answering 200. The window opens "
    f"{service.CPU_WINDOW_OFFSET_S:g} s after the start-up round is recorded (imports and "
    "that round are excluded) and lasts "
    f"{service.CPU_WINDOW_S:g} s ({service.CPU_WINDOW_QUICK_S:g} s with --quick); the figure "
    "is utime+stime of the child (all threads, from /proc/<pid>/stat, 10 ms ticks) over "
    "the window's wall time. The full window holds two rounds of 20 runs; the --quick one "
    "holds one round in 20 s, so it overstates the 30 s average by about 1.5x. APScheduler 3 "
    "adds each jitter to the previous jittered fire time, so a 30 s check really runs every "
    "~31.5 s on average: two rounds per 60 s overstate the long-run average a little too. "
    "Then SIGTERM: the service must exit 0.",
)


@dataclass(frozen=True, slots=True)
class Figure:
    """One measurement: ``run(repeat, quick)`` gives its rows.

    ``targets`` are the (figure, target) rows it reports, listed as skipped when
    ``--skip``/``--only`` leaves it out, so a results file always names every figure.
    """

    key: str
    run: Callable[[int, bool], list[Row]]
    targets: tuple[tuple[str, str], ...]
    repeats: bool = True  # False: one long run, whatever --repeat says


def _repeated(run: Callable[[int], list[Row]]) -> Callable[[int, bool], list[Row]]:
    return lambda repeat, _quick: run(repeat)


def _once(run: Callable[[bool], list[Row]]) -> Callable[[int, bool], list[Row]]:
    return lambda _repeat, quick: run(quick)


FIGURES: tuple[Figure, ...] = (
    Figure("ingest", _repeated(ingest.run), ((ingest.FIGURE, "<= 50 ms"),)),
    Figure("poll-304", _repeated(poll.run_repeat_304), ((poll.FIGURE_304, "<= 5 ms CPU"),)),
    Figure("poll-hundred", _repeated(poll.run_hundred), ((poll.FIGURE_HUNDRED, "<= 3 s"),)),
    Figure(
        "check-overhead",
        _repeated(checks.run_overhead),
        tuple((figure, "<= 5 ms CPU") for figure, _ in checks.KINDS),
    ),
    Figure("check-fifty", _repeated(checks.run_fifty), ((checks.FIGURE_FIFTY, "<= 1 s"),)),
    Figure(
        "service-memory",
        _once(service.run_memory),
        ((service.FIGURE_MEMORY, "<= 100 MB"),),
        repeats=False,
    ),
    Figure(
        "service-cpu",
        _once(service.run_cpu),
        ((service.FIGURE_CPU, "< 2 % of a core"),),
        repeats=False,
    ),
)
KEYS = tuple(f.key for f in FIGURES)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_REPEAT} repeats, shorter service figures"
    )
    parser.add_argument("--repeat", type=_positive, help=f"repeats per figure ({FULL_REPEAT})")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="Markdown results file (%(default)s)"
    )
    names = ", ".join(KEYS)
    parser.add_argument(
        "--only",
        action="append",
        type=_selector,
        metavar="NAME",
        help=f"measure only these figures (repeatable); NAME is one of {names}, or a "
        "prefix before '-' (service: both service figures)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        type=_selector,
        metavar="NAME",
        help="leave these figures out (repeatable; same names); they are listed as skipped",
    )
    return parser.parse_args(argv)


def _matches(key: str, name: str) -> bool:
    return key == name or key.startswith(f"{name}-")


def _selector(name: str) -> str:
    if not any(_matches(key, name) for key in KEYS):
        raise argparse.ArgumentTypeError(f"no figure {name!r}: one of {', '.join(KEYS)}")
    return name


def selected(only: Sequence[str] | None, skip: Sequence[str] | None) -> list[Figure]:
    return [
        f
        for f in FIGURES
        if (not only or any(_matches(f.key, n) for n in only))
        and not any(_matches(f.key, n) for n in skip or ())
    ]


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def run_figures(
    repeat: int,
    progress: Callable[[str], None],
    *,
    quick: bool = False,
    chosen: Sequence[Figure] = FIGURES,
) -> list[Row]:
    """Every figure in order; one left out of ``chosen`` gets its target rows, marked skipped."""
    rows: list[Row] = []
    for figure in FIGURES:
        if figure not in chosen:
            rows += [Row(name, (), target_label=label) for name, label in figure.targets]
            continue
        times = repeat if figure.repeats else 1
        progress(f"running: {figure.key} (x{times})")
        rows += figure.run(repeat, quick)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    chosen = selected(args.only, args.skip)
    env = report.environment()  # before the run: the date it started, the load it met
    rows = run_figures(repeat, print, quick=args.quick, chosen=chosen)
    runs = f"{repeat} per figure, the service figures 1" + (" (--quick)" if args.quick else "")
    left_out = [f.key for f in FIGURES if f not in chosen]
    if left_out:
        runs += f"; skipped: {', '.join(left_out)}"
    print()
    print("\n".join([*env.lines(), f"Runs: {runs}"]))
    print()
    print(report.text_table(rows))
    print()
    print("\n".join(f"* {note}" for note in NOTES))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.markdown(rows, env, NOTES, runs), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0
