"""Render results: an aligned table for the terminal and a Markdown file with the machine."""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.dataset import Dataset
from benchmarks.measure import Row

HEADER = ("figure", "measured", "target", "reference", "ratio")
LEFT = (0, 3)  # columns aligned left; the others are numbers
SUB_ROW = (" ", "↳")  # a figure name starting so is a detail of the row above it
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True, slots=True)
class Environment:
    date: str
    python: str
    platform: str
    cpu: str
    load: str

    def lines(self) -> list[str]:
        return [
            f"Date (UTC): {self.date}",
            f"Python: {self.python}",
            f"Platform: {self.platform}",
            f"CPU: {self.cpu}",
            f"Load average at start (1/5/15 min): {self.load}",
        ]


def environment() -> Environment:
    return Environment(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        python=f"{platform.python_version()} ({platform.python_implementation()}), "
        f"SQLite {sqlite3.sqlite_version}",
        platform=platform.platform(),
        cpu=f"{cpu_model()} ({os.cpu_count()} logical CPUs)",
        load=load_average(),
    )


def load_average() -> str:
    """Other work on the machine skews timings; the load average says how much there was."""
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):  # not on every platform
        return "unknown"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo when there is one, else what platform says."""
    try:
        text = CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def cells(row: Row) -> tuple[str, ...]:
    """figure, measured (median, then min-max), target with its verdict, reference, ratio."""
    main = not row.figure.startswith(SUB_ROW)
    none = "—" if main else ""
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
        floor = row.reference.median
        label = row.reference.label
        shown = floor is not None and row.samples
        reference = f"{_value(floor, row.unit)} ({label})" if shown and floor else label
    ratio = row.ratio
    return (row.figure, measured, target, reference, none if ratio is None else f"{ratio:.2f}x")


def _value(value: float, unit: str) -> str:
    suffix = {"s": " s", "B": " B", "MB": " MB", "%": " %", "n": "", "ms": " ms"}[unit]
    return _number(value, unit) + suffix


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


def describe_dataset(data: Dataset) -> str:
    """Which database the database figures read, for the Runs line."""
    summary = data.summary
    if summary is None:
        return f"{data.path} (not a generated file)"
    how = "generated for this run" if data.generated_now else "generated earlier, reused"
    return (
        f"{summary.days} days x {summary.checks} checks every {summary.interval_s} s, seed "
        f"{summary.seed}, {summary.counts['check_result']:,} check runs ({how}: "
        f"{summary.elapsed_s:.0f} s to generate)"
    )


def text_table(rows: Sequence[Row]) -> str:
    table = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    rendered = [_text_line(line, widths) for line in table]
    rendered.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(rendered)


def _text_line(line: Sequence[str], widths: Sequence[int]) -> str:
    padded = [
        v.ljust(w) if i in LEFT else v.rjust(w)
        for i, (v, w) in enumerate(zip(line, widths, strict=True))
    ]
    return " | ".join(padded).rstrip()


def markdown_table(rows: Sequence[Row]) -> str:
    rule = ["---" if i in LEFT else "---:" for i in range(len(HEADER))]
    lines = [_md_line(HEADER), "|" + "|".join(rule) + "|"]
    # Markdown collapses leading spaces; mark sub-rows with an arrow instead.
    lines += [_md_line(_md_cells(r)) for r in rows]
    return "\n".join(lines)


def _md_cells(row: Row) -> tuple[str, ...]:
    first, *rest = cells(row)
    if first.startswith(" "):
        first = "↳ " + first.strip()
    return (first, *rest)


def _md_line(values: Sequence[str]) -> str:
    return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"


def markdown(rows: Sequence[Row], env: Environment, notes: Sequence[str], runs: str) -> str:
    parts = [
        "# monitor benchmarks",
        "",
        *(f"- {line}" for line in [*env.lines(), f"Runs: {runs}"]),
        "",
        markdown_table(rows),
        "",
        "Notes:",
        "",
        *(f"- {note}" for note in notes),
        "",
    ]
    return "\n".join(parts)
