"""``monitor report``: declared versus seen over the last 90 days of the generated year.

Two figures, each beside its reference measured in the same run:

* in process: the store's read for the report (failures through the index
  of failing runs, each with the run that ended its streak; incidents,
  component transitions, maintenances, heartbeats, imported failures) and
  the pure report; reference: the same rows read with plain ``sqlite3``;
* as a process, as a user runs it: ``monitor report --since 90d --json``;
  reference: ``python -c "import sqlite3"``.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.why import monitor_command, python_floor, samples
from monitor.correlate.matching import Tolerance
from monitor.correlate.report import build_report
from monitor.store import open_store
from monitor.store.evidence import read_report

SPAN = timedelta(days=90)
TARGET_S = 2.0
IN_PROCESS = "report over 90 days, in process"
AS_PROCESS = "`monitor report --since 90d --json`, a new process"


def in_process(url: str, lo: datetime, hi: datetime, sources: list[str]) -> Callable[[], int]:
    """One report: the store's read, then the pure build (the store is opened outside)."""
    store = open_store(url)

    def answer() -> int:
        with store.reading() as reader:
            readings = read_report(reader, lo, hi)
        built = build_report(
            readings,
            lo,
            hi,
            sources=sources,
            tolerance=Tolerance(),
            observed_gap=timedelta(minutes=10),
        )
        return sum(len(s.incidents) for s in built.sources)

    return answer


def sqlite_floor(db: Path, lo: datetime, hi: datetime) -> Callable[[], int]:
    """The same rows with plain ``sqlite3``: the least this storage lets the report cost."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    span = (_text(lo), _text(hi))

    def read() -> int:
        rows = connection.execute(
            "SELECT f.check_id, f.probe, f.started_at, f.failure_class, f.http_status, f.detail, "
            "(SELECT r.started_at FROM check_result r WHERE r.check_id = f.check_id "
            "AND r.probe = f.probe AND r.started_at > f.started_at ORDER BY r.started_at "
            "LIMIT 1), "
            "(SELECT r.ok FROM check_result r WHERE r.check_id = f.check_id "
            "AND r.probe = f.probe AND r.started_at > f.started_at ORDER BY r.started_at "
            "LIMIT 1) "
            "FROM check_result f WHERE f.ok = 0 AND f.started_at >= ? AND f.started_at <= ?",
            span,
        ).fetchall()
        rows += connection.execute(
            "SELECT i.id, i.title, i.impact, i.created_at, i.started_at, i.resolved_at, "
            "u.created_at, u.body, c.component, c.old_status, c.new_status FROM incident i "
            "LEFT JOIN incident_update u ON u.incident_id = i.id "
            "LEFT JOIN update_component c ON c.update_id = u.id "
            "WHERE coalesce(i.started_at, i.created_at) <= ? "
            "AND (i.resolved_at IS NULL OR i.resolved_at >= ?)",
            (span[1], span[0]),
        ).fetchall()
        rows += connection.execute(
            "SELECT source_id, component, status, observed_at FROM component_status "
            "WHERE observed_at >= ? AND observed_at <= ?",
            span,
        ).fetchall()
        rows += connection.execute(
            "SELECT started_at, last_seen, stopped_at FROM heartbeat "
            "WHERE started_at <= ? AND last_seen >= ?",
            (span[1], span[0]),
        ).fetchall()
        return len(rows)

    return read


def as_process(config: Path, until: datetime) -> Callable[[], None]:
    """``monitor report --since 90d --until END --json`` as a new process."""
    return monitor_command(
        config,
        "report",
        "--since",
        "90d",
        "--until",
        until.isoformat(),
        "--json",
        printed='"sources"',
    )


def write_config(db: Path, folder: Path, sources: list[tuple[str, str]]) -> Path:
    """The benchmark database and its sources (never polled: the URLs go nowhere)."""
    blocks = [f'[monitor]\nprobe = "bench"\n\n[database]\nurl = "sqlite:///{db}"\n']
    blocks += [
        f'[[source]]\nname = "{name}"\nkind = "{kind}"\nurl = "http://127.0.0.1:9/{name}"\n'
        for name, kind in sources
    ]
    path = folder / "config.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def run_report(context: Context) -> list[Row]:
    data = context.dataset()
    expect(data.summary is not None, "the report figures need a generated database")
    assert data.summary is not None
    hi = datetime.fromisoformat(data.summary.end.replace("Z", "+00:00"))
    lo = hi - (timedelta(days=3) if context.quick else SPAN)
    with sqlite3.connect(f"file:{data.path}?mode=ro", uri=True) as connection:
        sources = [(str(n), str(k)) for n, k in connection.execute("SELECT name, kind FROM source")]
    answer = in_process(f"sqlite:///{data.path}", lo, hi, [n for n, _ in sources])
    expect(answer() > 0, "the report over the span found no incident")
    rows = [
        Row(
            IN_PROCESS,
            tuple(samples(answer, context.repeat)),
            unit="s",
            target=TARGET_S,
            target_label="<= 2 s",
            reference=Reference(
                "the same rows, plain sqlite3",
                tuple(samples(sqlite_floor(data.path, lo, hi), context.repeat)),
            ),
        )
    ]
    with tempfile.TemporaryDirectory(prefix="monitor-report-") as folder:
        command = as_process(write_config(data.path, Path(folder), sources), hi)
        walls = samples(command, context.repeat)
    rows.append(
        Row(
            AS_PROCESS,
            tuple(walls),
            unit="s",
            target=TARGET_S,
            target_label="<= 2 s",
            reference=Reference(
                'python -c "import sqlite3"', tuple(samples(python_floor(), context.repeat))
            ),
        )
    )
    return rows


def _text(value: datetime) -> str:
    """The column format the app writes on SQLite (naive UTC text)."""
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


FIGURES = (
    Figure(
        "report",
        run_report,
        ((IN_PROCESS, "<= 2 s"), (AS_PROCESS, "<= 2 s")),
        notes=(
            "report: the last 90 days of the generated database (3 days with --quick), every "
            "source it holds. In process: monitor.store.evidence.read_report then "
            "monitor.correlate.report.build_report (relevance for every failure window against "
            "the incidents near it), the store opened outside the timer, one uncounted warm-up. "
            "Reference: the same rows with plain sqlite3 and the same indexes (the failing "
            "runs through the partial index, each with the run that ended its streak; the "
            "incidents with their updates and components; component transitions; heartbeats). "
            "As a process: `python -m monitor --config <tmp> report --since 90d --until END "
            '--json`, spawn to exit, reference `python -c "import sqlite3"`.',
        ),
    ),
)
