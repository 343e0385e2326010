"""What a figure module provides, and what it is given when it runs.

A figure module (benchmarks/ingest.py, ...) defines ``FIGURES``, a tuple of
``Figure``; benchmarks/harness.py lists the modules in ``MODULES``, so adding
a module is one line there. ``Figure.run`` receives a ``Context``: the number
of repeats, --quick, a progress printer and the generated database (made on
first use, shared by every figure of the run).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.dataset import Dataset, provide
from benchmarks.measure import Row


def _print(line: str) -> None:
    print(line, flush=True)


@dataclass
class Context:
    """One harness run's settings, and its shared resources."""

    repeat: int
    quick: bool = False
    progress: Callable[[str], None] = _print
    db: Path | None = None  # --db
    postgres_url: str | None = None  # --postgres-url: None leaves the PostgreSQL figures out
    probes_window_s: float | None = None  # --probes-window: None for the figure's own default
    stack: ExitStack = field(default_factory=ExitStack)  # closed when the run ends
    data: Dataset | None = None  # set by the first dataset() call

    def dataset(self) -> Dataset:
        """The generated database (benchmarks.dataset), made or found on first use."""
        if self.data is None:
            self.data = provide(self.db, self.quick, self.progress, self.stack)
        return self.data


@dataclass(frozen=True, slots=True)
class Figure:
    """One measurement: ``run(context)`` gives its rows.

    ``targets`` are the (figure, target) rows it reports, listed as skipped
    when ``--skip``/``--only`` leaves it out, so a results file always names
    every figure. ``notes`` say how it is measured (and what its reference
    is); RESULTS.md prints them under the table.
    """

    key: str
    run: Callable[[Context], list[Row]]
    targets: tuple[tuple[str, str], ...]
    repeats: bool = True  # False: one long run, whatever --repeat says
    notes: tuple[str, ...] = ()
