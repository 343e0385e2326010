"""``monitor why`` on the one-year database: in process, and as a new process.

References, measured in the same run on the same file:

* in process: the same window queries written directly against ``sqlite3``
  with the same indexes and no object mapping, no rules: the floor this
  storage sets for answering about one moment;
* as a process: ``python -c "import sqlite3"``, the floor of starting any
  Python program that reads SQLite, run interleaved with the command (each
  round one of each), plus (informational) the import time of everything
  the command loads.

``why`` reads through the plain reader the command line uses
(``monitor.store.sqlread.open_reader``: the driver alone, no SQLAlchemy).
"""

from __future__ import annotations

import os
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
from monitor.store.runcodes import to_ms
from monitor.store.sqlread import open_reader

WINDOW = timedelta(minutes=30)
TOLERANCE = Tolerance()
OBSERVED_GAP = timedelta(minutes=10)


def in_process(url: str, at: datetime) -> Callable[[], str]:
    """One ``why`` on database ``url``: the store's queries, then the rules.

    The database is opened (and its schema checked) outside, once, as the
    command line opens it: through the driver alone when it is at head,
    else through the store (which migrates it).
    """
    reader = open_reader(url) or open_store(url).reader()

    def answer() -> str:
        readings = read_around(reader, at, WINDOW, TOLERANCE)
        evidence = evidence_from(
            readings, at, WINDOW, tolerance=TOLERANCE, observed_gap=OBSERVED_GAP
        )
        return explain(evidence).verdict

    return answer


def sqlite_floor(db: Path, at: datetime) -> Callable[[], int]:
    """The same windows read with plain ``sqlite3``: the runs, checks and probes, heartbeats,
    incidents, component transitions and imported failures of the moment, fetched and
    nothing more (no mapping, no rules)."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    lo, hi = _text(at - WINDOW), _text(at + WINDOW)
    lo_ms, hi_ms = to_ms(at - WINDOW), to_ms(at + WINDOW)
    wide_lo, wide_hi = _text(at - WINDOW - TOLERANCE.lag), _text(at + WINDOW + TOLERANCE.lead)

    def read() -> int:
        rows = connection.execute(
            "SELECT check_id, probe_id, started_ms, outcome, failure_class, http_status, "
            "detail FROM check_result WHERE started_ms >= ? AND started_ms <= ? "
            "ORDER BY started_ms",
            (lo_ms, hi_ms),
        ).fetchall()
        rows += connection.execute(
            'SELECT id, name, kind, role, target, usual_detail FROM "check"'
        ).fetchall()
        rows += connection.execute("SELECT id, name FROM probe").fetchall()
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


def cached_env(cache: Path) -> dict[str, str]:
    """This environment with bytecode caching on, into ``cache``, as an installed package has it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def monitor_command(
    config: Path, *args: str, printed: str, env: dict[str, str] | None = None
) -> Callable[[], None]:
    """``monitor --config CONFIG ARGS`` as a new process, answering (``printed`` in its
    output) or failing loudly: a figure never times a command that did not work."""
    command = [sys.executable, "-m", "monitor", "--config", str(config), *args]

    def answer() -> None:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, env=env
        )
        if done.returncode != 0 or printed not in done.stdout:
            raise RuntimeError(
                f"monitor {args[0]} failed ({done.returncode}): {done.stderr[-500:]}"
            )

    return answer


def why_args(at: datetime) -> tuple[str, ...]:
    return ("why", "--json", "--at", at.isoformat())


def as_process(config: Path, at: datetime, env: dict[str, str] | None = None) -> Callable[[], None]:
    """``monitor why --at T --json`` as a new process."""
    return monitor_command(config, *why_args(at), printed='"verdict"', env=env)


def python_floor(env: dict[str, str] | None = None) -> Callable[[], None]:
    """Starting Python and importing sqlite3: the least any such command costs."""
    command = [sys.executable, "-c", "import sqlite3"]
    return lambda: subprocess.run(command, check=True, timeout=60, env=env)  # type: ignore[return-value]


def interleaved(actions: Sequence[Callable[[], object]], runs: int) -> list[list[float]]:
    """Wall seconds of each action, ``runs`` rounds of one call each, after a warm-up round
    (which also writes the bytecode cache): load on the machine falls on all alike."""
    for action in actions:
        action()
    walls: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, times in zip(actions, walls, strict=True):
            began = time.perf_counter()
            action()
            times.append(time.perf_counter() - began)
    return walls


def import_seconds(config: Path, at: datetime, env: dict[str, str]) -> tuple[float, list[str]]:
    """What the command spends importing (``-X importtime``: the top-level imports'
    cumulative times, summed), and which of the heavy packages it loaded."""
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "monitor",
            "--config",
            str(config),
            *why_args(at),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    total, heavy = 0, set()
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        if not name.startswith("  "):  # top level: its cumulative time holds its children's
            total += int(parts[1])
        if name.strip().split(".")[0] in HEAVY:
            heavy.add(name.strip().split(".")[0])
    return total / 1e6, sorted(heavy)


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
TARGET_RATIO = 3.0
TARGET_IN_PROCESS = f"<= {TARGET_RATIO:g}x plain sqlite3"
TARGET_PROCESS_S = 0.35
TARGET_PROCESS = "<= 0.35 s median"
FIGURE_PROCESS = "`monitor why --at T --json`, a new process"
MIN_RUNS = 15  # start-up times are short and noisy: more samples than the default repeat
# Never loaded by ``why`` on a database at head (tests/test_why_imports.py checks it too).
HEAVY = ("sqlalchemy", "alembic", "matplotlib", "httpx", "apscheduler")


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
        reference = Reference(
            f"the same queries, plain sqlite3 (at {at:%Y-%m-%d %H:%M}Z)",
            tuple(samples(floor, context.repeat)),
        )
        rows.append(
            Row(
                f"why in process, {kind.replace('_', ' ')}",
                tuple(samples(answer, context.repeat)),
                unit="ms",
                target=TARGET_RATIO * (reference.median or 0.0),
                target_label=TARGET_IN_PROCESS,
                reference=reference,
            )
        )
    return rows


def run_process(context: Context) -> list[Row]:
    """``monitor why`` as a user runs it: a new Python process, start to printed JSON."""
    db = context.dataset().path
    _kind, at = moments(context)[0]
    runs = context.repeat if context.quick else max(context.repeat, MIN_RUNS)
    with tempfile.TemporaryDirectory(prefix="monitor-why-") as folder:
        config = write_config(db, Path(folder))
        env = cached_env(Path(folder) / "pycache")
        floor, walls = interleaved([python_floor(env), as_process(config, at, env)], runs)
        measured = [import_seconds(config, at, env) for _ in range(1 if context.quick else 3)]
    loaded = sorted({name for _, names in measured for name in names})
    expect(not loaded, f"why loaded {', '.join(loaded)} on a database at head")
    return [
        Row(
            FIGURE_PROCESS,
            tuple(walls),
            unit="s",
            target=TARGET_PROCESS_S,
            target_label=TARGET_PROCESS,
            reference=Reference('python -c "import sqlite3"', tuple(floor)),
        ),
        Row(
            "\u21b3 of which imports (-X importtime, the whole command)",
            tuple(seconds for seconds, _ in measured),
            "s",
        ),
    ]


FIGURES = (
    Figure(
        "why",
        run_in_process,
        tuple((f"why in process, {kind.replace('_', ' ')}", TARGET_IN_PROCESS) for kind in KINDS),
        notes=(
            "why in process: monitor.store.evidence.read_around through the plain reader the "
            "command line uses (monitor.store.sqlread.open_reader: sqlite3 alone, one read "
            "transaction; every query: check runs in the +-30 min window with streak heads "
            "and recoveries, checks and probes, heartbeats, incidents with their updates and "
            "components, component transitions, maintenances, imported failures, the status "
            "pages' polls) then monitor.correlate evidence_from and explain, on the generated "
            "database at one moment of each kind the generator planted (its summary names "
            "them); the verdict must be the expected one or the harness stops. One uncounted "
            "warm-up; the database is opened outside the timer. Reference: plain sqlite3 "
            "fetching the moment's check runs (compact layout, through the time index), the "
            "checks and probes, heartbeats, incidents, component transitions and imported "
            "failures, with no mapping and no rules, measured right after at the same moment; "
            f"the target is {TARGET_RATIO:g}x its median.",
        ),
    ),
    Figure(
        "why-process",
        run_process,
        ((FIGURE_PROCESS, TARGET_PROCESS),),
        notes=(
            "why as a process: `python -m monitor --config <tmp> why --json --at T` at the "
            "first moment, on the generated database (at the schema's head), no service "
            "running; wall time from spawn to exit with the JSON printed; bytecode cached in a "
            "scratch folder (as an installed package has it); one uncounted warm-up round, "
            f"then at least {MIN_RUNS} rounds (--quick: --repeat), each running the reference "
            'and the command once. Reference: `python -c "import sqlite3"`, the least any '
            "Python command reading SQLite costs here. The sub-row is what the command spends "
            "importing (python -X importtime, its top-level imports summed); the harness stops "
            "if it loaded SQLAlchemy, Alembic, matplotlib, httpx or APScheduler.",
        ),
    ),
)
