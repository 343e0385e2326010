"""Timing primitives, the table's rows, and the one way a figure times a new process."""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

# ms/s: samples in seconds; B/MB: bytes (MB shown as 10^6 bytes); %: a fraction
# (of one core, or a share: 0.012 is 1.2 %); n: a count.
Unit = Literal["ms", "s", "B", "MB", "%", "n"]
T = TypeVar("T")
# The least any Python command reading SQLite costs: the new-process figures' reference.
PYTHON_FLOOR = (sys.executable, "-c", "import sqlite3")
PYTHON_FLOOR_LABEL = 'python -c "import sqlite3"'


@dataclass(slots=True)
class Span:
    """What one timed block cost, in seconds: wall clock and this process's CPU."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed(*, collect: bool = True) -> Iterator[Span]:
    """Time the block; ``collect``: garbage left by the set-up is collected first, untimed."""
    if collect:
        gc.collect()
    span = Span()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        yield span
    finally:
        span.cpu, span.wall = time.process_time() - cpu0, time.perf_counter() - wall0


def clocked(action: Callable[[], T], *, collect: bool = True) -> tuple[Span, T]:
    """``action()`` timed (see ``timed``), and what it gave."""
    with timed(collect=collect) as span:
        result = action()
    return span, result


def rounds(action: Callable[[], T], repeat: int, warm: int = 1) -> list[T]:
    """What ``repeat`` calls of ``action`` gave, after ``warm`` uncounted ones."""
    return [action() for _ in range(warm + repeat)][warm:]


def samples(action: Callable[[], object], repeat: int, *, warm: int = 1) -> tuple[float, ...]:
    """Wall seconds of ``repeat`` calls of ``action``, after ``warm`` uncounted ones."""
    timings = rounds(lambda: clocked(action, collect=False)[0], repeat, warm)
    return tuple(span.wall for span in timings)


def child_env(**extra: str) -> dict[str, str]:
    """This environment without proxies (loopback traffic must stay direct), plus ``extra``."""
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")} | extra


def command(args: Sequence[str | Path], printed: str = "") -> Callable[[], str]:
    """A new process running ``args``; it must exit 0 and print ``printed``, else the run stops."""
    argv = [str(a) for a in args]

    def run() -> str:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        failed = f"{' '.join(argv[1:7])} failed ({done.returncode}): {done.stderr[-500:]}"
        expect(done.returncode == 0 and printed in done.stdout, failed)
        return done.stdout

    return run


def monitor_command(config: Path, *args: str, printed: str) -> Callable[[], str]:
    """``python -m monitor --config CONFIG ARGS`` as a new process (see ``command``)."""
    return command([sys.executable, "-m", "monitor", "--config", config, *args], printed)


@dataclass(frozen=True, slots=True)
class Reference:
    """What the same work costs without monitor, measured in the same run, in the row's unit."""

    label: str  # short, for the table; the notes say exactly what was measured
    samples: tuple[float, ...] = ()

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table, in the unit's base (see Unit); no samples: not measured."""

    figure: str  # starting with "  " or "↳": a detail of the row above
    samples: tuple[float, ...]
    unit: Unit = "ms"
    target: float | None = None  # None: informational, no verdict
    target_label: str = ""
    strict: bool = False  # the target is "under", not "at most"
    reference: Reference | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ratio(self) -> float | None:
        floor = self.reference.median if self.reference else None
        return self.median / floor if self.samples and floor else None

    @property
    def verdict(self) -> str:
        if not self.samples:
            return "skipped"
        if self.target is None:
            return "info"
        met = self.median < self.target if self.strict else self.median <= self.target
        return "met" if met else "MISSED"


class BenchmarkError(RuntimeError):
    """The code under test did not do what the figure assumes (so its timing means nothing)."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkError(message)
