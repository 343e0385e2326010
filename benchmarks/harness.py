"""``python -m benchmarks``: measure the issue's figures, print a table, write RESULTS.md."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import checks, ingest, poll, report
from benchmarks.measure import Row

DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
FULL_REPEAT = 7
QUICK_REPEAT = 3

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
)

Figure = Callable[[int], list[Row]]
FIGURES: tuple[tuple[str, Figure], ...] = (
    (ingest.FIGURE, ingest.run),
    (poll.FIGURE_304, poll.run_repeat_304),
    (poll.FIGURE_HUNDRED, poll.run_hundred),
    (checks.FIGURE_HTTP, checks.run_overhead),
    (checks.FIGURE_FIFTY, checks.run_fifty),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_REPEAT} repeats")
    parser.add_argument("--repeat", type=_positive, help=f"repeats per figure ({FULL_REPEAT})")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="Markdown results file (%(default)s)"
    )
    return parser.parse_args(argv)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def run_figures(repeat: int, progress: Callable[[str], None]) -> list[Row]:
    rows: list[Row] = []
    for name, figure in FIGURES:
        progress(f"running: {name} (x{repeat})")
        rows += figure(repeat)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    env = report.environment()  # before the run: the date it started, the load it met
    rows = run_figures(repeat, print)
    runs = f"{repeat} per figure" + (" (--quick)" if args.quick else "")
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
