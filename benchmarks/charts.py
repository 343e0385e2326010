"""The full chart set (``monitor chart``) on the generated database, for 30 and 365 days."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from functools import partial

from benchmarks.measure import Row, clocked, expect
from benchmarks.registry import Context, Figure
from monitor.store import open_store

TARGETS = {30: 3.0, 365: 10.0}  # seconds


def figure(days: int) -> str:
    return f"chart set, {days} days of 12 checks (PNG + SVG + index.html)"


def run(context: Context) -> list[Row]:
    data, began = context.dataset(), time.perf_counter()
    from monitor.charts.generate import generate  # matplotlib: timed, once per process

    imported, rows = time.perf_counter() - began, []
    store = open_store(f"sqlite:///{data.path}")
    try:
        for days, target in TARGETS.items():
            since = data.end - timedelta(days=days)

            def draw(since: datetime = since) -> tuple[float, float, float]:
                span, report = clocked(
                    partial(
                        generate,
                        store,
                        since=since,
                        until=data.end,
                        out_dir=context.folder(),
                        now=data.end,
                    )
                )
                expect(not report.empty and len(report.files) == 6, f"drew {report.files}")
                return span.wall, report.read_s, report.render_s

            wall, read, render = zip(*context.rounds(draw), strict=True)  # warm: page cache
            rows += [
                Row(figure(days), wall, "s", target, f"<= {target:g} s"),
                Row("↳ of which reading and building the dashboard", read, "s"),
                Row("↳ of which drawing and writing the files", render, "s"),
            ]
    finally:
        store.close()
    return [
        *rows,
        Row("↳ importing the chart code (matplotlib), once per process", (imported,), "s"),
    ]


NOTES = (
    "chart set: one monitor.charts.generate.generate() call (what `monitor chart` and the "
    "service's dashboards job run) on the generated database, the range ending at its last "
    "hour: read in one snapshot (rollups up to the newest folded hour, raw runs after it; "
    "ranges over two days read rollups where they exist), build, draw the uptime, timeline and "
    "latency charts as PNG and SVG, and write them and index.html atomically into a temporary "
    "folder. One uncounted warm-up run per range first; matplotlib is imported before it (its "
    "import time is its own row).",
)
FIGURES = (
    Figure(
        "charts", run, tuple((figure(d), f"<= {t:g} s") for d, t in TARGETS.items()), notes=NOTES
    ),
)
