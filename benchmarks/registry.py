"""What a figure module declares (``FIGURES``, a tuple of ``Figure``), and the Context it runs in.

benchmarks/harness.py lists the modules in ``MODULES``: adding one is one line there. The context
holds the run's settings and what its figures share, each made on first use and closed when the
run ends: the generated database, the loopback server, an empty database to copy, folders.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.dataset import Dataset, provide
from benchmarks.measure import Row
from benchmarks.server import RemoteLoopback, RouteSpec
from monitor.config import Config, parse_config
from monitor.store import Store, open_store


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

    def dataset(self) -> Dataset:
        """The generated database (benchmarks.dataset), made or found on first use."""
        if self.data is None:
            self.data = provide(self.db, self.quick, self.progress, self.stack)
        return self.data

    def loopback(self, routes: Mapping[str, RouteSpec]) -> RemoteLoopback:
        """The run's loopback server (one process for the run), serving ``routes`` from now on."""
        if self.server is None:
            self.server = self.stack.enter_context(RemoteLoopback())
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
        shutil.copyfile(self.empty, path)
        return f"sqlite:///{path}"

    @contextmanager
    def fresh_store(self, **sections: Any) -> Iterator[tuple[Config, Store]]:
        """A config (probe "bench", ``sections``) on a fresh, empty database, and its store."""
        home = self.folder()
        url = self.empty_database(home / "monitor.db")
        raw = {"monitor": {"probe": "bench"}, "database": {"url": url}, **sections}
        store = open_store(url)
        try:
            yield parse_config(raw, home / "config.toml"), store
        finally:
            store.close()


@dataclass(frozen=True, slots=True)
class Figure:
    """One measurement: ``run(context)`` gives its rows.

    ``targets`` are its (figure, target) rows, listed as skipped when --skip/--only leaves it out,
    so a results file always names every figure. ``notes`` say how it is measured and what its
    reference is; RESULTS.md prints them under the table.
    """

    key: str
    run: Callable[[Context], list[Row]]
    targets: tuple[tuple[str, str], ...]
    repeats: bool = True  # False: one long run, whatever --repeat says
    notes: tuple[str, ...] = ()
