"""``python -m benchmarks``: measure the issue's figures, print a table, write RESULTS.md.

Figures come from the modules in ``MODULES``: each defines ``FIGURES`` (see
benchmarks.registry). To add figures, write a module and add one line here.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import report
from benchmarks.measure import Row
from benchmarks.registry import Context, Figure

DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
POSTGRES_KEYS = ("probes", "why-postgres")  # measured only with --postgres-url
FULL_REPEAT = 7
QUICK_REPEAT = 3

# The figure modules, in table order: one line each.
MODULES = (
    "benchmarks.ingest",
    "benchmarks.poll",
    "benchmarks.checks",
    "benchmarks.service",
    "benchmarks.api",
    "benchmarks.database",
    "benchmarks.charts",
    "benchmarks.why",
    "benchmarks.startup",
    "benchmarks.declared",
    "benchmarks.importing",
    "benchmarks.probes",
    "benchmarks.why_postgres",
    "benchmarks.notify",
)


def load_figures(modules: Sequence[str] = MODULES) -> tuple[Figure, ...]:
    """Every registered module's FIGURES, in order; a key used twice is an error."""
    figures = tuple(f for name in modules for f in importlib.import_module(name).FIGURES)
    keys = [f.key for f in figures]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"figure keys registered twice: {', '.join(duplicated)}")
    return figures


FIGURES = load_figures()
KEYS = tuple(f.key for f in FIGURES)

NOTES = (
    "measured = median of the repeats, (min - max) after it; the verdict after the target "
    "compares the median with it. Reference = the same work without monitor (see each "
    "figure's note), measured in the same run, median of as many repeats; ratio = measured "
    "median / reference median.",
    "wall = time.perf_counter(); CPU = time.process_time(), i.e. every thread of the "
    "benchmark process (the poller's worker threads included).",
    "the loopback server (tests.loopback.LoopbackServer) runs in a separate, spawned "
    "process, so its CPU is not in the CPU figures; it is shown on its own row. "
    "All traffic stays on 127.0.0.1.",
    "this machine has 2 cores and other work (other test runs) may share them: the load "
    "average above says how much there was at the start; timings, and the spread between "
    "min and max in particular, carry that noise.",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_REPEAT} repeats, shorter service figures, a week-long generated database",
    )
    parser.add_argument("--repeat", type=_positive, help=f"repeats per figure ({FULL_REPEAT})")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="Markdown results file (%(default)s)"
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="the database for the database figures: an existing file is used as it is, a "
        "missing one is generated there (default: benchmarks/.cache/year.db, generated once "
        "and reused; with --quick a week in a temporary folder)",
    )
    parser.add_argument(
        "--postgres-url",
        metavar="URL",
        help="a PostgreSQL server for the PostgreSQL figures, as a SQLAlchemy URL "
        "(postgresql+psycopg://user@127.0.0.1:5432/postgres); its user creates and drops the "
        "benchmark's own databases (monitor_bench_*) beside the one named. Without it those "
        "figures are listed as skipped",
    )
    parser.add_argument(
        "--probes-window",
        type=_positive,
        metavar="SECONDS",
        help="how long the probes figure measures (600; 20 with --quick)",
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


def run_figures(context: Context, chosen: Sequence[Figure] = FIGURES) -> list[Row]:
    """Every figure in order; one left out of ``chosen`` gets its target rows, marked skipped."""
    rows: list[Row] = []
    for figure in FIGURES:
        if figure not in chosen:
            rows += [Row(name, (), target_label=label) for name, label in figure.targets]
            continue
        times = context.repeat if figure.repeats else 1
        context.progress(f"running: {figure.key} (x{times})")
        began = time.perf_counter()
        rows += figure.run(context)
        context.progress(f"  {figure.key} took {time.perf_counter() - began:.1f} s")
    return rows


def all_notes() -> list[str]:
    """The general notes, then each figure's own (skipped figures' too: their rows are listed)."""
    return [*NOTES, *(note for figure in FIGURES for note in figure.notes)]


def main(argv: Sequence[str] | None = None, progress: Callable[[str], None] | None = None) -> int:
    args = parse_args(argv)
    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    chosen = selected(args.only, args.skip)
    env = report.environment()  # before the run: the date it started, the load it met
    context = Context(
        repeat,
        quick=args.quick,
        db=args.db,
        postgres_url=args.postgres_url,
        probes_window_s=args.probes_window,
    )
    if progress is not None:
        context.progress = progress
    with context.stack:
        rows = run_figures(context, chosen)
        database = context.data
    runs = f"{repeat} per figure, the service and database figures 1" + (
        " (--quick)" if args.quick else ""
    )
    left_out = [f.key for f in FIGURES if f not in chosen]
    if left_out:
        runs += f"; skipped: {', '.join(left_out)}"
    if database is not None:
        runs += f"; database: {report.describe_dataset(database)}"
    if args.postgres_url and any(f.key in POSTGRES_KEYS for f in chosen):
        from benchmarks.postgres import server_version  # psycopg: only with --postgres-url

        runs += f"; PostgreSQL {server_version(args.postgres_url)} on this machine"
    notes = all_notes()
    print()
    print("\n".join([*env.lines(), f"Runs: {runs}"]))
    print()
    print(report.text_table(rows))
    print()
    print("\n".join(f"* {note}" for note in notes))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.markdown(rows, env, notes, runs), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0
