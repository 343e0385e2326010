"""The full chart set (``monitor chart``) on the one-year database, for 30 and 365 days.

What is timed is one ``generate`` call: reading the range (rollups and raw
runs in one snapshot), building the dashboard, drawing the uptime,
timeline and latency charts as PNG and SVG, and writing them and
``index.html`` atomically into a temporary folder. matplotlib is imported
and one uncounted warm-up run is made first, as in the service, which draws
again every ``[dashboards] every``; the import is reported on its own row.

Standalone: ``python -m benchmarks.charts --db PATH [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.measure import Row, expect, timed
from benchmarks.registry import Context, Figure

if TYPE_CHECKING:  # imported, and timed, inside measure()
    from monitor.charts.generate import ChartReport

FIGURE_30 = "chart set, 30 days of 12 checks (PNG + SVG + index.html)"
FIGURE_365 = "chart set, 365 days of 12 checks (PNG + SVG + index.html)"
TARGETS = {30: 3.0, 365: 10.0}  # seconds
FIGURES_BY_DAYS = {30: FIGURE_30, 365: FIGURE_365}


def import_seconds() -> float:
    """How long importing the chart code (matplotlib included) took in this process."""
    began = time.perf_counter()
    import monitor.charts.generate  # noqa: F401 (timed import)

    return time.perf_counter() - began


def measure(db: Path, end: datetime, repeat: int) -> tuple[list[Row], float]:
    """``repeat`` timed runs per range after a warm-up; rows for the table, and the import time."""
    from monitor.store import open_store

    imported = import_seconds()
    from monitor.charts.generate import generate

    store = open_store(f"sqlite:///{db}")
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="monitor-charts-") as folder:
            for days, figure in FIGURES_BY_DAYS.items():
                since = end - timedelta(days=days)

                def draw(since: datetime = since, days: int = days) -> ChartReport:
                    return generate(
                        store, since=since, until=end, out_dir=Path(folder) / str(days), now=end
                    )

                report = draw()  # warm-up: page cache and first-use costs
                expect(not report.empty, f"{db} has nothing between {since} and {end}")
                expect(len(report.files) == 6, f"expected 6 chart files, got {report.files}")
                walls, reads, draws = [], [], []
                for _ in range(repeat):
                    with timed() as span:
                        report = draw()
                    walls.append(span.wall)
                    reads.append(report.read_s)
                    draws.append(report.render_s)
                rows.append(
                    Row(
                        figure,
                        tuple(walls),
                        unit="s",
                        target=TARGETS[days],
                        target_label=f"<= {TARGETS[days]:g} s",
                    )
                )
                rows.append(Row("↳ of which reading and building the dashboard", tuple(reads), "s"))
                rows.append(Row("↳ of which drawing and writing the files", tuple(draws), "s"))
    finally:
        store.close()
    rows.append(Row("↳ importing the chart code (matplotlib), once per process", (imported,), "s"))
    return rows, imported


def _end_of(context: Context) -> datetime:
    summary = context.dataset().summary
    if summary is not None:
        return datetime.fromisoformat(summary.end.replace("Z", "+00:00"))
    return datetime.now(UTC)


def run(context: Context) -> list[Row]:
    data = context.dataset()
    rows, _ = measure(data.path, _end_of(context), context.repeat)
    return rows


FIGURES = (
    Figure(
        "charts",
        run,
        ((FIGURE_30, "<= 3 s"), (FIGURE_365, "<= 10 s")),
        notes=(
            "chart set: one monitor.charts.generate.generate() call (what `monitor chart` and "
            "the service's dashboards job run) on the generated database, the range ending at "
            "its last hour: read in one snapshot (rollups up to the newest folded hour, raw "
            "runs after it; ranges over two days read rollups where they exist), build, draw "
            "the uptime, timeline and latency charts as PNG and SVG, and write them and "
            "index.html atomically into a temporary folder. One uncounted warm-up run first; "
            "matplotlib is imported before it (its import time is its own row).",
        ),
    ),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.charts", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="a generated database")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per range (3)")
    parser.add_argument("--end", help="end of the range, ISO 8601 (default: the database's)")
    args = parser.parse_args(argv)
    from benchmarks.generate import load_summary

    summary = load_summary(args.db)
    end = (
        datetime.fromisoformat(args.end.replace("Z", "+00:00"))
        if args.end
        else datetime.fromisoformat(summary.end.replace("Z", "+00:00"))
        if summary is not None
        else datetime.now(UTC)
    )
    rows, _ = measure(args.db, end, args.repeat)
    for row in rows:
        target = f" (target {row.target_label}: {row.verdict})" if row.target else ""
        print(f"{row.figure}: median {statistics.median(row.samples):.2f} s{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
