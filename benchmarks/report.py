"""Render results: an aligned table for the terminal, and a Markdown file with the machine."""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import Row

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
