"""What a figure module declares (``FIGURES``, a tuple of ``Figure``), and the Context it runs in:
the run's settings and what its figures share, each made on first use and closed when the run
ends (the generated database, the loopback server, an empty database to copy, folders).

The generated database: a full run uses a year (``benchmarks/.cache/year.db``, regenerated only
when its summary says it was made with other parameters or by another generator version);
``--quick`` a week in a temporary folder; ``--db PATH`` an existing file (or generates one there).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.generate import DEFAULT_END, GeneratedSummary, generate, load_summary
from benchmarks.measure import Row, rounds, samples
from benchmarks.server import RemoteLoopback, RouteSpec, loopback_server
from monitor.config import Config, parse_config
from monitor.store import Store, open_store

CACHE = Path(__file__).resolve().parent / ".cache"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Parameters:
    """What to generate; the names are GeneratedSummary's, so a summary can be compared."""

    days: int
    checks: int = 12
    interval_s: int = 30
    seed: int = 1
    end: str = DEFAULT_END


YEAR, WEEK = Parameters(days=365), Parameters(days=7)


@dataclass(frozen=True, slots=True)
class Dataset:
    """A database file, and the generator's summary of it (None: not a generated file)."""

    path: Path
    summary: GeneratedSummary | None
    generated_now: bool = False

    @property
    def end(self) -> datetime:
        """Where the generated data ends (now, for a file the generator did not make)."""
        return datetime.fromisoformat(self.summary.end) if self.summary else datetime.now(UTC)

    def describe(self) -> str:
        """Which database the database figures read, for the Runs line."""
        if (s := self.summary) is None:
            return f"{self.path} (not a generated file)"
        how = "generated for this run" if self.generated_now else "generated earlier, reused"
        return (
            f"{s.days} days x {s.checks} checks every {s.interval_s} s, seed {s.seed}, "
            f"{s.counts['check_result']:,} check runs ({how}: {s.elapsed_s:.0f} s to generate)"
        )


def provide(
    db: Path | None, quick: bool, progress: Callable[[str], None], stack: ExitStack
) -> Dataset:
    """The database to measure: ``db`` if it exists, else a generated one (see the module doc)."""
    wanted = WEEK if quick else YEAR
    if db is not None and db.exists():
        return Dataset(db, load_summary(db))
    if db is None and quick:
        db = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="monitor-bench-")))
        db /= "week.db"
    elif db is None:
        db = CACHE / "year.db"
        cached = load_summary(db)
        if db.exists() and cached is not None and cached.matches(raw_days=None, **asdict(wanted)):
            progress(f"using the cached {db} ({cached.bytes / 1e6:,.0f} MB)")
            return Dataset(db, cached)
    progress(f"generating {wanted.days} days x {wanted.checks} checks into {db}")
    parameters = {k.removesuffix("_s"): v for k, v in asdict(wanted).items()}  # interval_s
    return Dataset(db, generate(db, **parameters, progress=progress), generated_now=True)


@dataclass
class Context:
    """One harness run's settings, and its shared resources."""

    repeat: int
    quick: bool = False
    progress: Callable[[str], None] = field(default=lambda line: print(line, flush=True))
    db: Path | None = None  # --db
    postgres_url: str | None = None  # --postgres-url: None leaves the PostgreSQL figures out
    probes_window_s: float | None = None  # --probes-window: None for the figure's own default
    stack: ExitStack = field(default_factory=ExitStack)  # closed when the run ends
    data: Dataset | None = None  # set by the first dataset() call
    server: RemoteLoopback | None = None
    empty: Path | None = None

    @property
    def warm(self) -> int:
        """Uncounted warm-up calls before the timed ones: one, none with --quick (a smoke run)."""
        return 0 if self.quick else 1

    def rounds(self, action: Callable[[], T]) -> list[T]:
        """What --repeat calls of ``action`` gave, after the warm-up ones (see ``warm``)."""
        return rounds(action, self.repeat, self.warm)

    def samples(self, action: Callable[[], object]) -> tuple[float, ...]:
        """Wall seconds of --repeat calls of ``action``, after the warm-up ones."""
        return samples(action, self.repeat, warm=self.warm)

    def dataset(self) -> Dataset:
        """The generated database, made or found on first use."""
        if self.data is None:
            self.data = provide(self.db, self.quick, self.progress, self.stack)
        return self.data

    def loopback(self, routes: Mapping[str, RouteSpec]) -> RemoteLoopback:
        """The run's loopback server (one process for the run), serving ``routes`` from now on."""
        if self.server is None:
            self.server = self.stack.enter_context(loopback_server())
        self.server.add(routes)
        return self.server

    def folder(self) -> Path:
        """A new temporary folder, removed when the run ends."""
        return Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix="monitor-bench-")))

    def empty_database(self, path: Path) -> str:
        """A fresh SQLite file in the app's schema (migrated once per run, then copied); its URL."""
        if self.empty is None:
            self.empty = self.folder() / "empty.db"
            store = open_store(f"sqlite:///{self.empty}")
            with store.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            store.close()
        for stale in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
            stale.unlink(missing_ok=True)
        return f"sqlite:///{shutil.copyfile(self.empty, path)}"

    @contextmanager
    def fresh_store(self, **sections: Any) -> Iterator[tuple[Config, Store]]:
        """A config (probe "bench", ``sections``) on a fresh, empty database, and its store."""
        url = self.empty_database((home := self.folder()) / "monitor.db")
        raw = {"monitor": {"probe": "bench"}, "database": {"url": url}, **sections}
        store = open_store(url)
        try:
            yield parse_config(raw, home / "config.toml"), store
        finally:
            store.close()


@dataclass(frozen=True, slots=True)
class Figure:
    """One measurement: ``run(context)`` gives its rows. ``targets`` are its (figure, target)
    rows, listed as skipped when --skip/--only leaves it out, so a results file names every
    figure; ``notes`` say how it is measured and what its reference is (RESULTS.md's Notes)."""

    key: str
    run: Callable[[Context], list[Row]]
    targets: tuple[tuple[str, str], ...]
    repeats: bool = True  # False: one long run, whatever --repeat says
    notes: tuple[str, ...] = ()
