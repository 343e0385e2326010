"""The arithmetic of hourly rollups: what an hour of check runs comes to, pure.

Questions about last quarter need "how often did it fail, how slow was it,
what kind of failure" per hour, not every run: ``fold`` turns runs into one
``RollupRow`` per check, probe and hour. A rollup and runs recorded late for
the same hour are combined by ``merge``: counts add exactly; percentiles
cannot (their inputs are gone) and are blended instead. The store's
retention (``monitor/store/retention.py``) and the charts both count on it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitor.failures import Failure
from monitor.times import format_duration

# Percentiles are stored to the microsecond: finer is timer noise, and a
# fixed precision makes equal inputs give equal stored values.
_PRECISION = 3


@dataclass(frozen=True, slots=True)
class RawRun:
    """The part of a check run a rollup is made of."""

    check_id: int
    probe: str
    started_at: datetime
    duration_ms: float
    ok: bool
    skipped: bool = False
    failure_class: str | None = None


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One check, probe and hour, folded.

    ``runs`` counts every run, skipped ones included; ``failures`` the runs
    that were not ok (a skipped run is never a failure); ``p50_ms`` and
    ``p95_ms`` are over the durations of the runs that were not skipped
    (None when there were none), since a skipped run took no measurement.
    """

    check_id: int
    probe: str
    hour: datetime
    runs: int
    failures: int
    skipped: int
    p50_ms: float | None
    p95_ms: float | None
    failure_classes: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str, datetime]:
        return (self.check_id, self.probe, self.hour)

    @property
    def timed(self) -> int:
        """How many runs the percentiles were computed over."""
        return self.runs - self.skipped


def keep_problem(raw: timedelta, rollups: timedelta) -> str | None:
    """Why rollups kept ``rollups`` long cannot go with raw runs kept ``raw``, or None.

    Rollups only ever cover hours older than ``raw``; kept for less, each
    would be deleted by the same prune that wrote it.
    """
    if rollups >= raw:
        return None
    return (
        "rollups must be kept at least as long as raw runs "
        f"(rollups {format_duration(rollups)} < raw {format_duration(raw)})"
    )


def hour_of(dt: datetime) -> datetime:
    """The start of ``dt``'s hour, in UTC; a naive time is refused, not guessed."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r} refused: pass an aware time")
    return dt.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0 <= q <= 1) of ascending values; None for no values.

    Linear interpolation between closest ranks (NumPy's default, Hyndman and
    Fan type 7): the rank is ``(n - 1) * q``, and a fractional rank lies
    that far between its two neighbours. It needs no assumption about the
    distribution and gives the minimum at 0, the maximum at 1 and the median
    of an even count as the mean of the middle two. Sorting is the caller's
    job, so one sort serves several quantiles.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be between 0 and 1, got {q!r}")
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * q
    below = math.floor(rank)
    above = min(below + 1, len(sorted_values) - 1)
    low, high = float(sorted_values[below]), float(sorted_values[above])
    return low + (high - low) * (rank - below)


def fold(runs: Iterable[RawRun]) -> list[RollupRow]:
    """Group runs by check, probe and hour into rollups, ordered by that key."""
    groups: dict[tuple[int, str, datetime], list[RawRun]] = {}
    for run in runs:
        groups.setdefault((run.check_id, run.probe, hour_of(run.started_at)), []).append(run)
    return [_fold_group(key, groups[key]) for key in sorted(groups)]


def _fold_group(key: tuple[int, str, datetime], runs: list[RawRun]) -> RollupRow:
    durations = sorted(r.duration_ms for r in runs if not r.skipped)
    failed = [r for r in runs if not r.ok and not r.skipped]
    return RollupRow(
        check_id=key[0],
        probe=key[1],
        hour=key[2],
        runs=len(runs),
        failures=len(failed),
        skipped=sum(1 for r in runs if r.skipped),
        p50_ms=_rounded(percentile(durations, 0.5)),
        p95_ms=_rounded(percentile(durations, 0.95)),
        failure_classes=_sorted_counts(
            Counter(r.failure_class or Failure.UNCLASSIFIED for r in failed)
        ),
    )


def merge(existing: RollupRow, new: RollupRow) -> RollupRow:
    """Add ``new`` runs of the same check, probe and hour to ``existing``.

    Counts and failure classes add exactly. Percentiles of the union cannot
    be recovered from two percentiles, so each is the average of the two
    weighted by how many timed runs stand behind it: exact when one side has
    none, and close when (as here) the late side is a handful of runs.
    """
    if existing.key != new.key:
        raise ValueError(f"cannot merge rollups of different hours: {existing.key} {new.key}")
    return add_up(existing, new)


def add_up(existing: RollupRow, new: RollupRow) -> RollupRow:
    """``merge`` without the key check: also combines one hour of two probes (the charts do).

    The result keeps ``existing``'s check, probe and hour.
    """
    classes = Counter(existing.failure_classes)
    classes.update(new.failure_classes)
    return RollupRow(
        check_id=existing.check_id,
        probe=existing.probe,
        hour=existing.hour,
        runs=existing.runs + new.runs,
        failures=existing.failures + new.failures,
        skipped=existing.skipped + new.skipped,
        p50_ms=_blend(existing.p50_ms, existing.timed, new.p50_ms, new.timed),
        p95_ms=_blend(existing.p95_ms, existing.timed, new.p95_ms, new.timed),
        failure_classes=_sorted_counts(classes),
    )


def _sorted_counts(counts: Counter[str]) -> dict[str, int]:
    # Sorted keys: the stored JSON does not change with the order runs came in.
    return dict(sorted(counts.items()))


def _blend(a: float | None, a_weight: int, b: float | None, b_weight: int) -> float | None:
    if a is None or a_weight <= 0:
        return b
    if b is None or b_weight <= 0:
        return a
    return _rounded((a * a_weight + b * b_weight) / (a_weight + b_weight))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, _PRECISION)
