"""``monitor report``: declared versus seen over the last 90 days of the generated database."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta

from benchmarks.measure import (
    PYTHON_FLOOR,
    PYTHON_FLOOR_LABEL,
    Reference,
    Row,
    command,
    expect,
    monitor_command,
)
from benchmarks.registry import Context, Figure
from benchmarks.service_config import service_config
from monitor.correlate.matching import Tolerance
from monitor.correlate.report import build_report
from monitor.store import open_store
from monitor.store.evidence import read_report
from monitor.store.runcodes import to_ms

IN_PROCESS = "report over 90 days, in process"
AS_PROCESS = "`monitor report --since 90d --json`, a new process"
NEXT = (  # the run that ended a failing run's streak, along the (check, probe, time) key
    "(SELECT r.{} FROM check_result r WHERE r.check_id = f.check_id "
    "AND r.probe_id = f.probe_id AND r.started_ms > f.started_ms ORDER BY r.started_ms LIMIT 1)"
)
FLOOR = (  # the rows the report reads, with plain sqlite3
    "SELECT f.check_id, f.probe_id, f.started_ms, f.failure_class, f.http_status, "
    f"coalesce(f.detail, c.usual_detail), {NEXT.format('started_ms')}, {NEXT.format('outcome')} "
    'FROM check_result f JOIN "check" c ON c.id = f.check_id '
    "WHERE f.outcome = 1 AND f.started_ms >= :lo_ms AND f.started_ms <= :hi_ms",
    "SELECT i.id, i.title, i.impact, i.created_at, i.started_at, i.resolved_at, u.created_at, "
    "u.body, c.component, c.old_status, c.new_status FROM incident i "
    "LEFT JOIN incident_update u ON u.incident_id = i.id "
    "LEFT JOIN update_component c ON c.update_id = u.id "
    "WHERE coalesce(i.started_at, i.created_at) <= :hi "
    "AND (i.resolved_at IS NULL OR i.resolved_at >= :lo)",
    "SELECT source_id, component, status, observed_at FROM component_status "
    "WHERE observed_at >= :lo AND observed_at <= :hi",
    "SELECT started_at, last_seen, stopped_at FROM heartbeat "
    "WHERE started_at <= :hi AND last_seen >= :lo",
)


def run(context: Context) -> list[Row]:
    data = context.dataset()
    hi = data.end
    lo = hi - timedelta(days=3 if context.quick else 90)
    span: dict[str, object] = {k: f"{t:%Y-%m-%d %H:%M:%S.%f}" for k, t in (("lo", lo), ("hi", hi))}
    span |= {"lo_ms": to_ms(lo), "hi_ms": to_ms(hi)}  # check runs are dated in milliseconds
    with closing(sqlite3.connect(f"file:{data.path}?mode=ro", uri=True)) as connection:
        sources = connection.execute("SELECT name, kind FROM source").fetchall()
        store = open_store(f"sqlite:///{data.path}")  # opened outside the timer
        try:

            def report() -> int:
                gap, names = timedelta(minutes=10), [name for name, _ in sources]
                with store.reading() as reader:
                    found = read_report(reader, lo, hi)
                built = build_report(
                    found, lo, hi, sources=names, tolerance=Tolerance(), observed_gap=gap
                )
                return sum(len(s.incidents) for s in built.sources)

            expect(report() > 0, "the report over the span found no incident")
            walls = context.samples(report)
            floors = context.samples(
                lambda: [connection.execute(sql, span).fetchall() for sql in FLOOR]
            )
        finally:
            store.close()
    listed = [{"name": n, "kind": k, "url": f"http://127.0.0.1:9/{n}"} for n, k in sources]
    config = service_config(context.folder(), f"sqlite:///{data.path}", source=listed)
    args = ("report", "--since", "90d", "--until", hi.isoformat(), "--json")
    process = context.samples(monitor_command(config, *args, printed='"sources"'))
    python = Reference(PYTHON_FLOOR_LABEL, context.samples(command(PYTHON_FLOOR)))
    in_sqlite = Reference("the same rows, plain sqlite3", floors)
    return [
        Row(IN_PROCESS, walls, "s", 2.0, "<= 2 s", reference=in_sqlite),
        Row(AS_PROCESS, process, "s", 2.0, "<= 2 s", reference=python),
    ]


NOTES = (
    "report: the last 90 days of the generated database (3 days with --quick), every source "
    "it holds. In process: monitor.store.evidence.read_report then build_report (relevance of "
    "every failure window to the incidents near it), the store opened outside the timer, one "
    "uncounted warm-up. Reference: the same rows with plain sqlite3 and the same indexes (the "
    "failing runs through the partial index, each with the run that ended its streak; the "
    "incidents with their updates and components; component transitions; heartbeats). As a "
    "process: `python -m monitor --config <tmp> report --since 90d --until END --json`, spawn "
    'to exit; reference `python -c "import sqlite3"`.',
)
FIGURES = (Figure("report", run, ((IN_PROCESS, "<= 2 s"), (AS_PROCESS, "<= 2 s")), notes=NOTES),)
