"""``monitor why`` on the one-year database: in process, and as a new process.

References, measured in the same run on the same file:

* in process: the same window queries written directly against ``sqlite3``
  with the same indexes and no object mapping, no rules: the floor this
  storage sets for answering about one moment;
* as a process: ``python -c "import sqlite3"``, the floor of starting any
  Python program that reads SQLite, plus (informational) the import time of
  the modules ``why`` loads.
"""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from monitor.correlate.evidence import evidence_from
from monitor.correlate.matching import Tolerance
from monitor.correlate.verdict import explain
from monitor.store import open_store
from monitor.store.evidence import read_around

WINDOW = timedelta(minutes=30)
TOLERANCE = Tolerance()
OBSERVED_GAP = timedelta(minutes=10)


def in_process(url: str, at: datetime) -> Callable[[], str]:
    """One ``why`` on database ``url``: the store's queries, then the rules.

    The store is opened (and its schema checked) outside, once.
    """
    store = open_store(url)

    def answer() -> str:
        readings = read_around(store, at, WINDOW, TOLERANCE)
        evidence = evidence_from(
            readings, at, WINDOW, tolerance=TOLERANCE, observed_gap=OBSERVED_GAP
        )
        return explain(evidence).verdict

    return answer


def sqlite_floor(db: Path, at: datetime) -> Callable[[], int]:
    """The same windows read with plain ``sqlite3``: every row ``why`` reads, nothing more."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    lo, hi = _text(at - WINDOW), _text(at + WINDOW)
    wide_lo, wide_hi = _text(at - WINDOW - TOLERANCE.lag), _text(at + WINDOW + TOLERANCE.lead)

    def read() -> int:
        rows = connection.execute(
            "SELECT check_id, probe, started_at, ok, skipped, failure_class, http_status, "
            "detail FROM check_result WHERE started_at >= ? AND started_at <= ? "
            "ORDER BY started_at",
            (lo, hi),
        ).fetchall()
        rows += connection.execute('SELECT id, name, kind, role, target FROM "check"').fetchall()
        rows += connection.execute(
            "SELECT started_at, last_seen, stopped_at FROM heartbeat "
            "WHERE started_at <= ? AND last_seen >= ?",
            (hi, lo),
        ).fetchall()
        rows += connection.execute(
            "SELECT id, title, status, impact, created_at, started_at, resolved_at, url "
            "FROM incident WHERE coalesce(started_at, created_at) <= ? "
            "AND (resolved_at IS NULL OR resolved_at >= ?)",
            (wide_hi, wide_lo),
        ).fetchall()
        rows += connection.execute(
            "SELECT source_id, component, status, observed_at FROM component_status "
            "WHERE observed_at >= ? AND observed_at <= ?",
            (wide_lo, wide_hi),
        ).fetchall()
        rows += connection.execute(
            "SELECT at, failure_class, source, target, error FROM observed_event "
            "WHERE at >= ? AND at <= ?",
            (lo, hi),
        ).fetchall()
        return len(rows)

    return read


def samples(action: Callable[[], object], repeat: int, *, warm: int = 1) -> list[float]:
    """Wall seconds of ``repeat`` calls after ``warm`` uncounted ones."""
    for _ in range(warm):
        action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def write_config(db: Path, folder: Path) -> Path:
    """A config that points ``monitor`` at the benchmark database and nothing else."""
    path = folder / "config.toml"
    path.write_text(
        f'[monitor]\nprobe = "bench"\n\n[database]\nurl = "sqlite:///{db}"\n', encoding="utf-8"
    )
    return path


def monitor_command(config: Path, *args: str, printed: str) -> Callable[[], None]:
    """``monitor --config CONFIG ARGS`` as a new process, answering (``printed`` in its
    output) or failing loudly: a figure never times a command that did not work."""
    command = [sys.executable, "-m", "monitor", "--config", str(config), *args]

    def answer() -> None:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0 or printed not in done.stdout:
            raise RuntimeError(
                f"monitor {args[0]} failed ({done.returncode}): {done.stderr[-500:]}"
            )

    return answer


def as_process(config: Path, at: datetime) -> Callable[[], None]:
    """``monitor why --at T --json`` as a new process."""
    return monitor_command(config, "why", "--json", "--at", at.isoformat(), printed='"verdict"')


def python_floor() -> Callable[[], None]:
    """Starting Python and importing sqlite3: the least any such command costs."""
    command = [sys.executable, "-c", "import sqlite3"]
    return lambda: subprocess.run(command, check=True, timeout=60)  # type: ignore[return-value]


def import_seconds(module: str = "monitor.cli.why") -> float:
    """Cumulative import time of ``module`` and what it pulls in (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1e6
    raise RuntimeError(f"no import time reported for {module}")


def _text(value: datetime) -> str:
    """The column format the app writes on SQLite (naive UTC text)."""
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000


KINDS = ("upstream_incident", "stale_token", "vpn", "quiet", "gap")
EXPECTED = {
    "upstream_incident": "upstream",
    "stale_token": "local",
    "vpn": "network",
    "quiet": "healthy",
    "gap": "no_data",
}
TARGET_IN_PROCESS_S = 0.025
TARGET_PROCESS_S = 0.6
FIGURE_PROCESS = "`monitor why --at T --json`, a new process"


def moments(context: Context) -> list[tuple[str, datetime]]:
    """A moment of each kind the generator planted in the dataset, in KINDS order."""
    summary = context.dataset().summary
    expect(summary is not None, "the why figures need a generated database (its moments)")
    assert summary is not None
    return [
        (kind, datetime.fromisoformat(summary.moment(kind).at.replace("Z", "+00:00")))
        for kind in KINDS
    ]


def run_in_process(context: Context) -> list[Row]:
    """``why`` in process at a moment of each kind, beside the plain-sqlite3 floor."""
    db = context.dataset().path
    rows = []
    for kind, at in moments(context):
        answer, floor = in_process(f"sqlite:///{db}", at), sqlite_floor(db, at)
        verdict = answer()
        expect(verdict == EXPECTED[kind], f"why at {at} ({kind}) said {verdict}")
        rows.append(
            Row(
                f"why in process, {kind.replace('_', ' ')}",
                tuple(samples(answer, context.repeat)),
                unit="ms",
                target=TARGET_IN_PROCESS_S,
                target_label="<= 25 ms",
                reference=Reference(
                    f"the same queries, plain sqlite3 (at {at:%Y-%m-%d %H:%M}Z)",
                    tuple(samples(floor, context.repeat)),
                ),
            )
        )
    return rows


def run_process(context: Context) -> list[Row]:
    """``monitor why`` as a user runs it: a new Python process, start to printed JSON."""
    db = context.dataset().path
    _kind, at = moments(context)[0]
    with tempfile.TemporaryDirectory(prefix="monitor-why-") as folder:
        answer = as_process(write_config(db, Path(folder)), at)
        runs = context.repeat if context.quick else max(context.repeat, 5)
        walls = samples(answer, runs)
    floor = samples(python_floor(), runs)
    imports = [import_seconds() for _ in range(1 if context.quick else 3)]
    return [
        Row(
            FIGURE_PROCESS,
            tuple(walls),
            unit="s",
            target=TARGET_PROCESS_S,
            target_label="<= 0.6 s median",
            reference=Reference('python -c "import sqlite3"', tuple(floor)),
        ),
        Row("\u21b3 of which importing monitor.cli.why (-X importtime)", tuple(imports), "s"),
    ]


FIGURES = (
    Figure(
        "why",
        run_in_process,
        tuple((f"why in process, {kind.replace('_', ' ')}", "<= 25 ms") for kind in KINDS),
        notes=(
            "why in process: monitor.store.evidence.read_around (every query: check runs in "
            "the +-30 min window with streak heads, coverage, incidents with their updates and "
            "components, component transitions, maintenances, imported failures) then "
            "monitor.correlate evidence_from and explain, on the generated database at one "
            "moment of "
            "each kind the generator planted (its summary names them); the verdict must be "
            "the expected one or the harness stops. One uncounted warm-up; the store is "
            "opened outside the timer. Reference: the same rows read by plain sqlite3 "
            "(no mapping, no rules) with the same indexes: the floor for this storage.",
        ),
    ),
    Figure(
        "why-process",
        run_process,
        ((FIGURE_PROCESS, "<= 0.6 s median"),),
        notes=(
            "why as a process: `python -m monitor --config <tmp> why --json --at T` at the "
            "first moment, wall time from spawn to exit with the JSON printed (at least 5 "
            "runs; --repeat's with --quick; one uncounted warm-up)."
            ' Reference: `python -c "import sqlite3"`, the '
            "least any Python command reading SQLite costs here. The sub-row is the "
            "cumulative import time of monitor.cli.why and everything it loads (sqlalchemy, "
            "pydantic, click, the models), from python -X importtime; matplotlib, httpx, "
            "APScheduler and Alembic are not loaded (a test checks it).",
        ),
    ),
)
