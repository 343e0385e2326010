"""Render results: an aligned table for the terminal, and a Markdown file with the machine."""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import Row

HEADER = ("figure", "measured", "target", "reference", "ratio")
LEFT = (0, 3)  # columns aligned left; the others are numbers
SUB_ROW = (" ", "↳")  # a figure name starting so is a detail of the row above it
SUFFIX = {"s": " s", "B": " B", "MB": " MB", "%": " %", "n": "", "ms": " ms"}


def environment() -> list[str]:
    """The date, the software, the machine and its load (other work skews timings)."""
    try:
        load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):  # not on every platform
        load = "unknown"
    return [
        f"Date (UTC): {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        f"Python: {platform.python_version()} ({platform.python_implementation()}), "
        f"SQLite {sqlite3.sqlite_version}",
        f"Platform: {platform.platform()}",
        f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs)",
        f"Load average at start (1/5/15 min): {load}",
    ]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo when there is one, else what platform says."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def cells(row: Row) -> tuple[str, ...]:
    """figure, measured (median, then min-max), target with its verdict, reference, ratio."""
    none = "" if row.figure.startswith(SUB_ROW) else "—"
    if not row.samples:
        measured = "skipped"
    elif min(row.samples) == max(row.samples):
        measured = _value(row.median, row.unit)
    else:
        low, high = (_number(v, row.unit) for v in (min(row.samples), max(row.samples)))
        measured = f"{_value(row.median, row.unit)} ({low}–{high})"
    target = row.target_label or "-"
    if row.verdict in ("met", "MISSED"):
        target = f"{target}: {row.verdict}"
    reference = none
    if row.reference is not None:
        floor, label = row.reference.median, row.reference.label
        reference = f"{_value(floor, row.unit)} ({label})" if floor and row.samples else label
    ratio = row.ratio
    return (row.figure, measured, target, reference, none if ratio is None else f"{ratio:.2f}x")


def _value(value: float, unit: str) -> str:
    return _number(value, unit) + SUFFIX[unit]


def _number(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f}"
    if unit == "B":
        return f"{value:,.0f}"
    if unit == "MB":
        return f"{value / 1e6:,.1f}"
    if unit == "%":
        return f"{value * 100:.2f}"
    if unit == "n":
        return f"{value:,.0f}" if value >= 10_000 else f"{value:g}"
    ms = value * 1000
    return f"{ms:.1f}" if ms >= 1 else f"{ms:.3f}"  # a bare socket call takes microseconds


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
    rendered.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(rendered)


def markdown(rows: Sequence[Row], header: Sequence[str], notes: Sequence[str]) -> str:
    """The results file: the run's header lines, the table, then the notes."""
    rule = "|" + "|".join("---" if i in LEFT else "---:" for i in range(len(HEADER))) + "|"
    table = [_md_line(HEADER), rule]
    for row in rows:  # Markdown collapses leading spaces: sub-rows get an arrow instead
        first, *rest = cells(row)
        table.append(_md_line(["↳ " + first.strip() if first.startswith(" ") else first, *rest]))
    return "\n".join(
        [
            "# monitor benchmarks",
            "",
            *(f"- {line}" for line in header),
            "",
            *table,
            "",
            "Notes:",
            "",
            *(f"- {note}" for note in notes),
            "",
        ]
    )


def _md_line(values: Sequence[str]) -> str:
    return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"
