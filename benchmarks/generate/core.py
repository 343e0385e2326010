"""``generate()``: a realistic monitor database, built through the app's own migrations.

The schema comes from monitor.store (Alembic, as every monitor command
opens a database); sources and checks are written by the app's own sync
functions; the bulk rows go in through plain sqlite3 executemany, in time
order, so every index is appended to rather than split in the middle.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.generate.moments import pick_moments
from benchmarks.generate.results import ResultWriter
from benchmarks.generate.rows import Variant
from benchmarks.generate.story import Plan, make_plan, overrides
from benchmarks.generate.summary import GeneratedSummary, summary_path
from benchmarks.generate.timefmt import DAY, HOUR, iso_z, parse_end
from benchmarks.generate.upstream import write_upstream
from benchmarks.generate.verify import app_rows, expect_app_formats
from monitor.store import open_store

DEFAULT_END = "2026-11-01T00:00:00Z"
TABLES = (
    "source",
    "http_validator",
    "poll",
    "incident",
    "incident_update",
    "incident_component",
    "update_component",
    "component_status",
    "maintenance",
    "check",
    "check_result",
    "rollup_hourly",
    "heartbeat",
)
ORDERS = ("time", "check")
CACHE_KIB = 512 * 1024  # page cache while loading: the hot index pages stay in memory


def _silent(_message: str) -> None:
    """No progress output."""


def generate(
    path: Path | str,
    *,
    days: int,
    checks: int,
    interval: int,
    seed: int,
    end: str = DEFAULT_END,
    raw_days: int | None = None,
    order: str = "time",
    progress: Callable[[str], None] = _silent,
) -> GeneratedSummary:
    """Write a fresh database at ``path`` (replacing any) and its summary at ``path`` + .json.

    ``interval`` is in seconds and must divide an hour; ``end`` is rounded
    down to the hour. ``raw_days`` keeps raw check runs for the last that
    many days only; rollups always cover the whole range.
    """
    began = time.perf_counter()
    path = Path(path)
    _validate(days, checks, interval, raw_days, order)
    end_s = parse_end(end) // HOUR * HOUR
    _remove(path)
    plan = make_plan(days=days, count=checks, interval=interval, seed=seed, end=end_s)
    raw_from = plan.start if raw_days is None else max(plan.start, end_s - raw_days * DAY)
    progress(f"planning {days} days x {checks} checks every {interval} s into {path}")
    store = open_store(f"sqlite:///{path}")
    try:
        source_ids, check_ids = app_rows(store, plan)
        expect_app_formats(store, check_ids[plan.checks[0].name], plan.start)
    finally:
        store.close()
    found = overrides(plan)
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        con.execute("PRAGMA synchronous=OFF")  # a crash mid-generation just means regenerate
        con.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        con.execute("BEGIN")
        written = write_upstream(con, plan, source_ids)
        con.execute("COMMIT")
        progress(f"  upstream: {', '.join(f'{k} {v:,}' for k, v in sorted(written.items()))}")
        writer = ResultWriter(con, plan, [check_ids[c.name] for c in plan.checks], found, raw_from)
        writer.write(order, progress)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in TABLES}
    finally:
        con.close()
    summary = _summary(path, plan, days, raw_days, raw_from, counts, order, end, began, found)
    summary_path(path).write_text(summary.to_json(), encoding="utf-8")
    progress(f"wrote {summary.bytes / 1e6:,.1f} MB in {summary.elapsed_s:.1f} s")
    return summary


def _summary(
    path: Path,
    plan: Plan,
    days: int,
    raw_days: int | None,
    raw_from: int,
    counts: dict[str, int],
    order: str,
    end: str,
    began: float,
    found: list[dict[int, Variant]],
) -> GeneratedSummary:
    return GeneratedSummary(
        path=str(path.resolve()),
        days=days,
        checks=len(plan.checks),
        interval_s=plan.interval,
        seed=plan.seed,
        start=iso_z(plan.start),
        end=end,
        raw_days=raw_days,
        raw_from=iso_z(raw_from),
        counts=counts,
        bytes=file_bytes(path),
        elapsed_s=round(time.perf_counter() - began, 2),
        interesting=pick_moments(plan, found, raw_from),
        check_names=[c.name for c in plan.checks],
        order=order,
    )


def file_bytes(path: Path) -> int:
    """The database's size on disk: the file plus its WAL, if any is left."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _validate(days: int, checks: int, interval: int, raw_days: int | None, order: str) -> None:
    if days < 1 or checks < 1:
        raise ValueError("days and checks must be at least 1")
    if interval < 1 or HOUR % interval:
        raise ValueError(f"interval must divide an hour (30s, 1m, 5m...), got {interval} s")
    if raw_days is not None and raw_days < 0:
        raise ValueError("raw_days must be 0 or more")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}")


def _remove(path: Path) -> None:
    """A fresh file: a half-written old one must not be mistaken for a result."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}.json"):
        path.with_name(name).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
