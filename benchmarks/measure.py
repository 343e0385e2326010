"""Timing primitives: one timed span, and a row of repeated samples judged against a target."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

# ms/s: samples in seconds; B/MB: bytes (MB shown as 10^6 bytes); %: a fraction
# (of one core, or a share: 0.012 is 1.2 %); n: a count.
Unit = Literal["ms", "s", "B", "MB", "%", "n"]


@dataclass(slots=True)
class Span:
    """What one timed block cost, in seconds: wall clock and this process's CPU."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed(*, collect: bool = True) -> Iterator[Span]:
    """Time the block; garbage left by the set-up is collected first, outside the timer.

    ``collect=False`` skips that full collection (tens of ms with SQLAlchemy and
    pydantic loaded) for spans of a few ms timed hundreds of times in a row.
    """
    if collect:
        gc.collect()
    span = Span()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        yield span
    finally:
        span.cpu = time.process_time() - cpu0
        span.wall = time.perf_counter() - wall0


@dataclass(frozen=True, slots=True)
class Reference:
    """What the same work costs without monitor, measured in the same run, in the row's unit.

    It says how much of a figure is monitor's own doing: a ratio near 1 means
    the floor (the network, SQLite, the interpreter) dominates. No samples:
    only described (a floor that cannot be measured on its own).
    """

    label: str  # short, for the table; the notes say exactly what was measured
    samples: tuple[float, ...] = ()

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table; samples and target are in the unit's base (see Unit).

    No samples: the figure was not measured this time (``--skip``/``--only``).
    """

    figure: str
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
        """Measured median over the reference's median; None without both."""
        floor = self.reference.median if self.reference else None
        if not self.samples or not floor:
            return None
        return self.median / floor

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
