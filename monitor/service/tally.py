"""What the service's own jobs did since it started, kept as plain data for ``/metrics``.

The jobs add to it as they finish (one call each); the metrics read a copy
at scrape time. Counters live here rather than in prometheus-client objects
so that the jobs never import it: with no ``[http] listen`` it is never loaded.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

# The outcome of a run that is not a failure class: it passed, or did not apply.
OK = "ok"
SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class LastRun:
    """A check's latest run by this service: when, how long, how it ended, its phases."""

    started_at: datetime
    duration_s: float
    outcome: str  # OK, SKIPPED or a failure class
    phases_s: dict[str, float]


@dataclass(frozen=True, slots=True)
class TallyCopy:
    """A consistent copy of the tally, for one scrape."""

    check_runs: dict[tuple[str, str], int]  # (check, outcome) -> runs
    last_runs: dict[str, LastRun]
    polls: dict[tuple[str, str], int]  # (source, outcome) -> polls


@dataclass
class Tally:
    """Runs by outcome per check, polls by outcome per source, and each check's last run."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _check_runs: Counter[tuple[str, str]] = field(default_factory=Counter)
    _last_runs: dict[str, LastRun] = field(default_factory=dict)
    _polls: Counter[tuple[str, str]] = field(default_factory=Counter)

    def check_ran(
        self,
        check: str,
        *,
        started_at: datetime,
        duration_ms: float,
        outcome: str,
        phases_ms: dict[str, float],
    ) -> None:
        run = LastRun(
            started_at=started_at,
            duration_s=duration_ms / 1000,
            outcome=outcome,
            phases_s={phase: ms / 1000 for phase, ms in phases_ms.items()},
        )
        with self._lock:
            self._check_runs[(check, outcome)] += 1
            self._last_runs[check] = run

    def polled(self, source: str, outcome: str) -> None:
        with self._lock:
            self._polls[(source, outcome)] += 1

    def forget(self, *, checks: set[str], sources: set[str]) -> None:
        """Drop what was counted for checks and sources a reload removed or renamed.

        Else a removed check would be exported as its last run forever.
        """
        with self._lock:
            for key in [k for k in self._check_runs if k[0] in checks]:
                del self._check_runs[key]
            for check in checks:
                self._last_runs.pop(check, None)
            for key in [k for k in self._polls if k[0] in sources]:
                del self._polls[key]

    def copy(self) -> TallyCopy:
        with self._lock:
            return TallyCopy(dict(self._check_runs), dict(self._last_runs), dict(self._polls))
