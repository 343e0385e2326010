"""The generated database the database-level figures read, made once and reused.

A full run uses a year (``benchmarks/.cache/year.db``, regenerated only when its summary says
it was made with other parameters or by another generator version); ``--quick`` a week in a
temporary folder; ``--db PATH`` an existing file (or generates one there if there is none).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.generate import DEFAULT_END, GeneratedSummary, generate, load_summary

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True, slots=True)
class Parameters:
    """What to generate; the names are GeneratedSummary's, so a summary can be compared."""

    days: int
    checks: int = 12
    interval_s: int = 30
    seed: int = 1
    end: str = DEFAULT_END


YEAR = Parameters(days=365)
WEEK = Parameters(days=7)


@dataclass(frozen=True, slots=True)
class Dataset:
    """A database file, and the generator's summary of it (None: not a generated file)."""

    path: Path
    summary: GeneratedSummary | None
    generated_now: bool = False

    @property
    def end(self) -> datetime:
        """Where the generated data ends (now, for a file the generator did not make)."""
        if self.summary is None:
            return datetime.now(UTC)
        return datetime.fromisoformat(self.summary.end.replace("Z", "+00:00"))

    def describe(self) -> str:
        """Which database the database figures read, for the Runs line."""
        s = self.summary
        if s is None:
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
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="monitor-bench-"))
        db = Path(folder) / "week.db"
    elif db is None:
        db = CACHE / "year.db"
        cached = load_summary(db)
        if db.exists() and cached is not None and cached.matches(raw_days=None, **asdict(wanted)):
            progress(f"using the cached {db} ({cached.bytes / 1e6:,.0f} MB)")
            return Dataset(db, cached)
    progress(f"generating {wanted.days} days x {wanted.checks} checks into {db}")
    summary = generate(
        db,
        days=wanted.days,
        checks=wanted.checks,
        interval=wanted.interval_s,
        seed=wanted.seed,
        end=wanted.end,
        progress=progress,
    )
    return Dataset(db, summary, generated_now=True)
