"""``failure_series`` (the report's read) gives the windows the full read gives, on both engines.

Random runs of two checks on two probes, a minute apart over three hours,
failing, passing and skipped in streaks; random spans inside them. The full
read (``series_between``) is the reference: every window meeting the span,
with its true start before the span and its end after it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from monitor.correlate.windows import LocalWindow, check_windows
from monitor.store import Store
from monitor.store.checkruns import CheckSpec, record_check_run, sync_checks
from monitor.store.evidence import failure_series, series_between

T0 = datetime(2026, 4, 14, 9, tzinfo=UTC)
CHECKS = ("api", "web")
PROBES = ("laptop", "ci")


def seed(store: Store, rng: random.Random, minutes: int = 180) -> None:
    specs = [CheckSpec(name, "http", "vendor", "GET https://api.example") for name in CHECKS]
    with store.write() as session, session.begin():
        ids = sync_checks(session, specs, T0)
        for name in CHECKS:
            for probe in PROBES:
                state = "pass"
                for minute in range(minutes):
                    if rng.random() < 0.12:  # streaks: change state now and then
                        state = rng.choice(("pass", "pass", "fail", "skip"))
                    record_check_run(
                        session,
                        check_id=ids[name],
                        probe=probe,
                        started_at=T0 + timedelta(minutes=minute, seconds=rng.randint(0, 20)),
                        duration_ms=5.0,
                        ok=state != "fail",
                        skipped=state == "skip",
                        failure_class="timeout" if state == "fail" else None,
                        http_status=None if state == "fail" else 200,
                        detail=state,
                        facts={},
                    )


def windows(found: list[LocalWindow], lo: datetime, hi: datetime) -> list[tuple[object, ...]]:
    return sorted(
        (w.name, w.probe, w.start, w.end, w.failures, w.failure_classes)
        for w in found
        if w.overlaps(lo, hi)
    )


def test_it_gives_the_windows_the_full_read_gives(store: Store) -> None:
    rng = random.Random(15)
    seed(store, rng)
    for _ in range(25):
        lo = T0 + timedelta(minutes=rng.randint(0, 150))
        hi = lo + timedelta(minutes=rng.randint(1, 60))
        with store.reading() as reader:
            fast = [w for s in failure_series(reader, lo, hi) for w in check_windows(s)]
            full = [w for s in series_between(reader, lo, hi) for w in check_windows(s)]
        assert windows(fast, lo, hi) == windows(full, lo, hi), (lo, hi)


def test_a_long_streak_reads_whole(store: Store) -> None:
    """6,000 failures in one streak, ended by one pass: one window, ended by that pass.

    (Its cost, a seek per failure, is the report benchmark's business.)"""
    specs = [CheckSpec("api", "http", "vendor", "GET https://api.example")]
    with store.write() as session, session.begin():
        [check_id] = sync_checks(session, specs, T0).values()
        for minute in range(6001):
            failed = minute < 6000
            record_check_run(
                session,
                check_id=check_id,
                probe="laptop",
                started_at=T0 + timedelta(minutes=minute),
                duration_ms=5.0,
                ok=not failed,
                skipped=False,
                failure_class="server_error" if failed else None,
                http_status=500 if failed else 200,
                detail="",
                facts={},
            )
    lo, hi = T0, T0 + timedelta(minutes=6001)
    with store.reading() as reader:
        [fast] = failure_series(reader, lo, hi)
        [full] = series_between(reader, lo, hi)
    [window] = check_windows(fast)
    assert (window.failures, window.end) == (6000, T0 + timedelta(minutes=6000))
    assert check_windows(full) == [window]
