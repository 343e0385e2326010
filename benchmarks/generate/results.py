"""Stream a year of check runs into check_result, folding each hour into rollup_hourly as it goes.

The hot path is one check's hour (120 runs at 30 s): a per-(check, hour)
``random.Random`` picks each passing run from a pre-built pool of rows for
that hour's load level, unless the story overrides the tick. Seeding per
(check, hour) makes the content independent of the order rows are written
in and of ``raw_days``. Rollups use monitor.rollups' own percentile and
rounding, so they equal what a prune would have folded.
"""

from __future__ import annotations

import json
import queue
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.generate.catalog import PROBE
from benchmarks.generate.rows import FACTS_TIME, RID, SDATE, TAIL_COLUMNS, Variant, ok_variant
from benchmarks.generate.story import Plan
from benchmarks.generate.timefmt import DAY, HMS, HOUR, day_prefix
from monitor.failures import Failure
from monitor.rollups import percentile

POOL_BITS = 10  # 1,024 passing variants per check and load level
MASK = (1 << POOL_BITS) - 1
# Latency factor by UTC hour: quiet nights, busy US afternoons.
LEVELS = (0.9, 1.0, 1.25, 1.1)
LEVEL_OF_HOUR = tuple(0 if h < 6 else 1 if h < 13 else 2 if h < 21 else 3 for h in range(24))
FLUSH_ROWS = 200_000
RID_MASK = (1 << 80) - 1
RID_SCRAMBLE = 0x9E3779B97F4A7C15F39D  # odd: multiplying by it permutes 80-bit values
INSERT_RESULT = (
    "INSERT INTO check_result (check_id, probe, started_at, request_id, server_date, "
    + ", ".join(TAIL_COLUMNS)
    + ") VALUES ("
    + ", ".join("?" * (5 + len(TAIL_COLUMNS)))
    + ")"
)
INSERT_ROLLUP = (
    "INSERT INTO rollup_hourly (check_id, probe, hour, runs, failures, skipped, p50_ms, p95_ms, "
    "failure_classes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


Batch = tuple[list[tuple[object, ...]], list[tuple[object, ...]]]


@dataclass(frozen=True, slots=True)
class CheckStream:
    """What the hot loop needs of one check, looked up once."""

    check_id: int
    index: int
    pools: tuple[tuple[Variant, ...], ...]  # per load level
    overrides: dict[int, Variant]
    offset_us: int


def fold_hour(durations: list[float], skipped: int, classes: list[str]) -> tuple[object, ...]:
    """runs, failures, skipped, p50_ms, p95_ms, failure_classes, as monitor.rollups.fold."""
    ordered = sorted(durations)
    p50, p95 = percentile(ordered, 0.5), percentile(ordered, 0.95)
    counts = Counter(c or Failure.UNCLASSIFIED for c in classes)
    return (
        len(durations) + skipped,
        len(classes),
        skipped,
        None if p50 is None else round(p50, 3),
        None if p95 is None else round(p95, 3),
        json.dumps(dict(sorted(counts.items()))),
    )


class ResultWriter:
    """Writes check_result and rollup_hourly rows, hour by hour."""

    def __init__(
        self,
        con: sqlite3.Connection,
        plan: Plan,
        check_ids: list[int],
        overrides: list[dict[int, Variant]],
        raw_from: int,
    ) -> None:
        self.con, self.plan, self.raw_from = con, plan, raw_from
        self.down = plan.down()
        self.per_hour = HOUR // plan.interval
        self.jitter_us = plan.interval * 100_000  # APScheduler's jitter: a tenth of the interval
        self.rows: list[tuple[object, ...]] = []
        self.rollups: list[tuple[object, ...]] = []  # a new pair of lists per batch
        self.results = self.rollup_count = 0
        self.failure: BaseException | None = None
        self.streams = [
            CheckStream(cid, c, self._pools(c), overrides[c], c * 150_000)
            for c, cid in enumerate(check_ids)
        ]

    def _pools(self, c: int) -> tuple[tuple[Variant, ...], ...]:
        rng = random.Random(f"{self.plan.seed}:pool:{c}")
        shape = self.plan.checks[c].shape
        return tuple(
            tuple(ok_variant(shape, rng, level) for _ in range(1 << POOL_BITS)) for level in LEVELS
        )

    def write(self, order: str, progress: Callable[[str], None]) -> None:
        """Every (check, hour): time order (hour by hour) or check order (check by check).

        Rows are made here and inserted by a second thread: sqlite3 lets go of
        the GIL while SQLite works, so on two cores making and inserting overlap.
        """
        hours = (self.plan.end - self.plan.start) // HOUR
        if order == "time":
            pairs = ((h, s) for h in range(hours) for s in self.streams)
        else:
            pairs = ((h, s) for s in self.streams for h in range(hours))
        every = max(1, hours * len(self.streams) // 10)
        began = time.perf_counter()
        batches: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
        inserter = threading.Thread(target=self._insert, args=(batches,), name="generate-insert")
        inserter.start()
        try:
            for n, (h, stream) in enumerate(pairs):
                self._hour(stream, h)
                if len(self.rows) >= FLUSH_ROWS:
                    self._hand_over(batches, inserter)
                if n % every == every - 1:
                    done = f"{n + 1:,} of {hours * len(self.streams):,} check-hours"
                    progress(f"  check results: {done} ({time.perf_counter() - began:.0f} s)")
            self._hand_over(batches, inserter)
        finally:
            batches.put(None)
            inserter.join()
        if self.failure is not None:
            raise self.failure

    def _hand_over(self, batches: queue.Queue[Batch | None], inserter: threading.Thread) -> None:
        if self.failure is not None or not inserter.is_alive():
            raise RuntimeError("inserting check results failed") from self.failure
        batches.put((self.rows, self.rollups))
        self.results += len(self.rows)
        self.rollup_count += len(self.rollups)
        self.rows, self.rollups = [], []

    def _insert(self, batches: queue.Queue[Batch | None]) -> None:
        """The inserting thread: one transaction per batch, until told to stop."""
        try:
            while (batch := batches.get()) is not None:
                rows, rollups = batch
                self.con.execute("BEGIN")
                self.con.executemany(INSERT_RESULT, rows)
                self.con.executemany(INSERT_ROLLUP, rollups)
                self.con.execute("COMMIT")
        except BaseException as exc:
            self.failure = exc
            while batches.get() is not None:  # let the producer finish instead of blocking
                pass

    def _hour(self, stream: CheckStream, h: int) -> None:
        """One check's runs in hour ``h`` of the range, and their rollup."""
        plan, per_hour = self.plan, self.per_hour
        hour_start = plan.start + h * HOUR
        getbits = random.Random(
            plan.seed * 1_000_003 + (hour_start // HOUR) * 1009 + stream.index
        ).getrandbits
        prefix = day_prefix(hour_start)
        iso = prefix[:-1] + "T"
        pool = stream.pools[LEVEL_OF_HOUR[hour_start // HOUR % 24]]
        override = stream.overrides.get
        down, jitter, cid = self.down, self.jitter_us, stream.check_id
        raw = hour_start >= self.raw_from
        base = hour_start % DAY * 1_000_000 + stream.offset_us
        step = plan.interval * 1_000_000
        append = self.rows.append
        durations: list[float] = []
        keep = durations.append
        classes: list[str] = []
        skipped = 0
        k0 = h * per_hour
        for j in range(per_hour):
            k = k0 + j
            if down[k]:
                continue
            bits = getbits(32)
            variant = override(k)
            if variant is None:
                tail, flags = pool[bits & MASK]
                keep(tail[0])
            else:
                tail, flags = variant
                if tail[2]:
                    skipped += 1
                else:
                    keep(tail[0])
                    if not tail[1]:
                        classes.append(tail[3])
            if not raw:
                continue
            second, micros = divmod(base + j * step + (bits >> POOL_BITS) % jitter, 1_000_000)
            hms = HMS[second]
            rid = None
            if flags & RID:
                unique = (bits << 40 | k << 8 | stream.index) * RID_SCRAMBLE & RID_MASK
                rid = f"req_011C{unique:020x}"
            if flags & FACTS_TIME:
                tail = (*tail[:-1], tail[-1] % f"{iso}{hms}Z")
            date = f"{prefix}{hms}.000000" if flags & SDATE else None
            append((cid, PROBE, f"{prefix}{hms}.{micros:06d}", rid, date, *tail))
        if durations or skipped:
            hour_text = f"{prefix}{HMS[hour_start % DAY]}.000000"
            self.rollups.append((cid, PROBE, hour_text, *fold_hour(durations, skipped, classes)))
