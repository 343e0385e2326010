"""``python -m benchmarks``: measure the issue's figures, print a table, write RESULTS.md.

Figures come from the modules in ``MODULES``: each defines ``FIGURES`` (benchmarks.registry).
The results: an aligned table for the terminal, and a Markdown file with the machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import Row
from benchmarks.registry import Context, Figure

HEADER = ("figure", "measured", "target", "reference", "ratio")
LEFT = (0, 3)  # columns aligned left; the others are numbers
SUB_ROW = (" ", "↳")  # a figure name starting so is a detail of the row above it
NUMBER: dict[str, Callable[[float], str]] = {
    "s": lambda v: f"{v:.2f}",
    "B": lambda v: f"{v:,.0f}",
    "MB": lambda v: f"{v / 1e6:,.1f}",
    "%": lambda v: f"{v * 100:.2f}",
    "n": lambda v: f"{v:,.0f}" if v >= 10_000 else f"{v:g}",
    "ms": lambda v: f"{v * 1000:.1f}" if v >= 0.001 else f"{v * 1000:.3f}",  # a socket call: µs
}
SUFFIX = {"s": " s", "B": " B", "MB": " MB", "%": " %", "n": "", "ms": " ms"}
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
POSTGRES_KEYS = ("probes", "why-postgres")  # measured only with --postgres-url
FULL_REPEAT = 7
QUICK_REPEAT = 1

# The figure modules, in table order: adding one is adding its name here.
NAMES = "ingest poll checks service database migration charts why startup declared importing probes"
MODULES = tuple(f"benchmarks.{name}" for name in f"{NAMES} why_postgres notify".split())


def load_figures(modules: Sequence[str] = MODULES) -> tuple[Figure, ...]:
    """Every module's FIGURES, in order; a key used twice is an error."""
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
    "wall = time.perf_counter(); CPU = time.process_time(), every thread of the benchmark "
    "process. The loopback server (tests.loopback.LoopbackServer, one for the run) runs in a "
    "spawned process of its own, so its CPU is not in the CPU figures (it has its own rows); "
    "all traffic stays on 127.0.0.1.",
    "this machine has 2 cores and other work may share them: the load average above says how "
    "much there was at the start; timings, and the spread between min and max in particular, "
    "carry that noise.",
    f"--quick is a smoke run, not the figures: {QUICK_REPEAT} repeat, no uncounted warm-ups, "
    "shorter windows and smaller inputs (each note says which), a week-long database.",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    add = parser.add_argument
    add("--quick", action="store_true", help="a smoke run (see the notes), a week of data")
    add("--repeat", type=_positive, help=f"repeats per figure ({FULL_REPEAT}; {QUICK_REPEAT})")
    add("--out", type=Path, default=DEFAULT_OUT, help="Markdown results file (%(default)s)")
    add(
        "--db",
        type=Path,
        help="the generated database: an existing file is used as it is, a missing one generated "
        "there (default: benchmarks/.cache/year.db, made once; --quick: a week, made each run)",
    )
    add(
        "--postgres-url",
        metavar="URL",
        help="a PostgreSQL server for the PostgreSQL figures (skipped without), as a SQLAlchemy "
        "URL (postgresql+psycopg://user@127.0.0.1:5432/postgres); its user creates and drops "
        "the benchmark's own databases (monitor_bench_*)",
    )
    add(
        "--probes-window",
        type=_positive,
        metavar="SECONDS",
        help="the probes figure's window (600; 20 with --quick)",
    )
    for flag, what in (("--only", "measure only these figures"), ("--skip", "leave these out")):
        text = f"{what} (repeatable): {', '.join(KEYS)}, or a prefix before '-' (service)"
        add(flag, action="append", type=_selector, metavar="NAME", help=text)
    return parser.parse_args(argv)


def _matches(key: str, name: str) -> bool:
    return key == name or key.startswith(f"{name}-")


def _selector(name: str) -> str:
    if not any(_matches(key, name) for key in KEYS):
        raise argparse.ArgumentTypeError(f"no figure {name!r}: one of {', '.join(KEYS)}")
    return name


def _positive(value: str) -> int:
    if int(value) < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return int(value)


def selected(only: Sequence[str] | None, skip: Sequence[str] | None) -> list[Figure]:
    return [
        f
        for f in FIGURES
        if (not only or any(_matches(f.key, n) for n in only))
        and not any(_matches(f.key, n) for n in skip or ())
    ]


def run_figures(context: Context, chosen: Sequence[Figure] = FIGURES) -> list[Row]:
    """Every figure in order; one left out of ``chosen`` gets its target rows, marked skipped."""
    rows: list[Row] = []
    for figure in FIGURES:
        if figure not in chosen:
            rows += [Row(name, (), target_label=label) for name, label in figure.targets]
            continue
        context.progress(f"running: {figure.key} (x{context.repeat if figure.repeats else 1})")
        began = time.perf_counter()
        rows += figure.run(context)
        context.progress(f"  {figure.key} took {time.perf_counter() - began:.1f} s")
    return rows


def main(argv: Sequence[str] | None = None, progress: Callable[[str], None] | None = None) -> int:
    args = parse_args(argv)
    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    chosen = selected(args.only, args.skip)
    header = environment()  # before the run: the date it started, the load it met
    context = Context(repeat, args.quick, db=args.db, postgres_url=args.postgres_url)
    context.probes_window_s = args.probes_window
    context.progress = progress or context.progress
    with context.stack:
        rows = run_figures(context, chosen)
    runs = f"{repeat} per figure, the service and database figures 1" + " (--quick)" * args.quick
    if left_out := [f.key for f in FIGURES if f not in chosen]:
        runs += f"; skipped: {', '.join(left_out)}"
    if context.data is not None:
        runs += f"; database: {context.data.describe()}"
    if args.postgres_url and any(f.key in POSTGRES_KEYS for f in chosen):
        from benchmarks.postgres import server_version  # psycopg: only with --postgres-url

        runs += f"; PostgreSQL {server_version(args.postgres_url)} on this machine"
    header.append(f"Runs: {runs}")
    notes = [*NOTES, *(note for figure in FIGURES for note in figure.notes)]
    print("", *header, "", text_table(rows), "", *(f"* {n}" for n in notes), sep="\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, header, notes), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


def environment() -> list[str]:
    """The date, the software, the machine and its load (other work skews timings)."""
    try:
        load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):  # not on every platform
        load = "unknown"
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    names = [
        v.strip() for k, _, v in (x.partition(":") for x in lines) if k.strip() == "model name"
    ]
    return [
        f"Date (UTC): {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        f"Python: {platform.python_version()} ({platform.python_implementation()}), "
        f"SQLite {sqlite3.sqlite_version}",
        f"Platform: {platform.platform()}",
        f"CPU: {(names or [platform.processor() or platform.machine()])[0]} "
        f"({os.cpu_count()} logical CPUs)",
        f"Load average at start (1/5/15 min): {load}",
    ]


def cells(row: Row) -> tuple[str, ...]:
    """figure, measured (median, then min-max), target with its verdict, reference, ratio."""
    none = "" if row.figure.startswith(SUB_ROW) else "—"
    number, suffix = NUMBER[row.unit], SUFFIX[row.unit]
    measured = "skipped"
    if row.samples:
        low, high = min(row.samples), max(row.samples)
        spread = "" if low == high else f" ({number(low)}–{number(high)})"
        measured = f"{number(row.median)}{suffix}{spread}"
    target = row.target_label or "-"
    if row.verdict in ("met", "MISSED"):
        target = f"{target}: {row.verdict}"
    reference = none
    if row.reference is not None:
        floor, label = row.reference.median, row.reference.label
        reference = f"{number(floor)}{suffix} ({label})" if floor and row.samples else label
    ratio = none if row.ratio is None else f"{row.ratio:.2f}x"
    return (row.figure, measured, target, reference, ratio)


def text_table(rows: Sequence[Row]) -> str:
    table = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    rendered = [
        " | ".join(
            v.ljust(w) if i in LEFT else v.rjust(w)
            for i, (v, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in table
    ]
    return "\n".join([rendered[0], "-+-".join("-" * w for w in widths), *rendered[1:]])


def markdown(rows: Sequence[Row], header: Sequence[str], notes: Sequence[str]) -> str:
    """The results file: the run's header lines, the table, then the notes."""
    rule = "|" + "|".join("---" if i in LEFT else "---:" for i in range(len(HEADER))) + "|"
    table = [_md_line(HEADER), rule]
    for row in rows:  # Markdown collapses leading spaces: sub-rows get an arrow instead
        first, *rest = cells(row)
        table.append(_md_line(["↳ " + first.strip() if first.startswith(" ") else first, *rest]))
    lines = ["# monitor benchmarks", "", *(f"- {line}" for line in header), "", *table, ""]
    return "\n".join([*lines, "Notes:", "", *(f"- {note}" for note in notes), ""])


def _md_line(values: Sequence[str]) -> str:
    return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"
