"""What the charts read from a real SQLite file: rollups for folded hours, raw rows for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.charts.model import build
from monitor.charts.outages import gap_for
from monitor.correlate.windows import check_windows
from monitor.rollups import RawRun, fold
from monitor.store.evidence import series_between
from monitor.store.history import read_history
from tests.dashboard_seed import (
    CHECKS,
    GAP_END,
    GAP_START,
    NOW,
    T0,
    T1,
    SeededRun,
    add_rollups,
    planned_runs,
    seed,
)

FOLDED = datetime(2026, 4, 10, 0, 0, tzinfo=UTC)  # three folded days before T0
INTERVALS = dict.fromkeys(CHECKS, timedelta(minutes=5))


def hour(day: int, h: int) -> datetime:
    return datetime(2026, 4, day, h, 0, tzinfo=UTC)


def test_every_hour_is_read_from_one_place_and_no_run_is_counted_twice(store):
    seeded = seed(store)
    late = hour(13, 5)  # folded already, and its twelve raw runs are still there too
    add_rollups(
        store,
        seeded,
        [
            {
                "check": "control",
                "hour": hour(12, 23),
                "runs": 12,
                "failures": 3,
                "failure_classes": {"timeout": 3},
            },
            {
                "check": "control",
                "hour": late,
                "runs": 10,
                "failures": 1,
                "failure_classes": {"timeout": 1},
            },
        ],
    )
    control = seeded.check_ids["control"]

    long = read_history(store, hour(12, 0), T1)  # 2.5 days: rollups up to the newest
    short = read_history(store, hour(13, 0), T1)  # 2 days: raw where there is raw

    rows = {r.hour: r for r in long.hours if r.check_id == control}
    assert rows[hour(12, 23)].runs == 12
    assert rows[late].runs == 10  # the rollup, not the rollup and the raw rows
    assert min(h for h in rows if h > late) == late + timedelta(hours=1)  # raw from there on
    assert long.folded == {(control, "test-probe", hour(12, 23)), (control, "test-probe", late)}
    assert all(f.at > late for f in long.failed)
    short_rows = {r.hour: r for r in short.hours if r.check_id == control}
    assert short_rows[late].runs == 12  # exact raw runs
    assert short.folded == frozenset()
    assert sum(r.runs for r in short.hours if r.check_id == control) == 504


def test_raw_hours_count_and_time_like_retention_would_fold_them(store):
    seeded = seed(store)

    history = read_history(store, T0, T1)

    expected = fold(
        RawRun(
            seeded.check_ids[r.check],
            "test-probe",
            r.started_at,
            r.duration_ms,
            r.ok,
            r.skipped,
            r.failure_class,
        )
        for r in seeded.runs
    )
    assert list(history.hours) == expected


def test_each_failed_run_knows_the_run_after_it(store):
    seeded = seed(store)

    history = read_history(store, T0, T1)

    ids = {v: k for k, v in seeded.check_ids.items()}
    timed = sorted((r for r in seeded.runs if not r.skipped), key=lambda r: r.started_at)
    for item in history.failed:
        later = [r for r in timed if r.check == ids[item.check_id] and r.started_at > item.at]
        assert (item.next_at, item.next_ok) == (later[0].started_at, later[0].ok)
    assert len(history.failed) == 12


def test_failure_windows_are_the_correlators_windows_cut_at_monitoring_gaps(store):
    seed(store)
    history = read_history(store, T0, T1)
    dashboard = build(history, NOW, INTERVALS)

    with store.reading() as reader:
        series = series_between(reader, T0, T1)
    expected = set()
    for item in series:
        for window in check_windows(item):
            end = min(window.end or T1, T1)
            if window.start < GAP_START < end:
                # The monitor fell silent: the last failure speaks for one interval, no more.
                last = max(r.started_at for r in item.runs if r.started_at < GAP_START)
                end = last + INTERVALS[window.name]
            expected.add((window.name, window.start, end))
    drawn = {(p.name, o.start, o.end) for p in dashboard.panels for o in p.outages}
    assert drawn == expected
    assert gap_for(INTERVALS["control"]) < GAP_END - GAP_START


def test_a_long_range_reads_rollups_and_marks_their_outages_estimated(store, tmp_path):
    seeded = seed(store)
    folded = [
        {
            "check": "api-reachable",
            "hour": FOLDED + timedelta(hours=h),
            "runs": 12,
            "failures": 12 if h in (30, 31, 32) else 0,
            "failure_classes": {"server_error": 12} if h in (30, 31, 32) else {},
        }
        for h in range(72)
    ]
    add_rollups(store, seeded, folded)

    dashboard = build(read_history(store, FOLDED, T1), NOW, INTERVALS)

    panel = next(p for p in dashboard.panels if p.name == "api-reachable")
    assert dashboard.step == "day"
    assert [c.start.day for c in panel.cells] == [10, 11, 12, 13, 14]
    assert [c.counts.state for c in panel.cells] == ["up", "partial", "up", "partial", "partial"]
    assert panel.summary.counts.runs == 72 * 12 + 504
    assert panel.summary.counts.failures == 36 + 11
    assert panel.summary.monitored == timedelta(hours=72 + 42)
    longest = panel.summary.longest
    assert longest is not None
    assert longest.estimated
    assert (longest.start, longest.down) == (FOLDED + timedelta(hours=30), timedelta(hours=3))


def test_an_empty_range_reads_as_empty(store):
    seed(store, runs=[SeededRun("control", T0 - timedelta(days=5), ok=True)])

    history = read_history(store, T1 + timedelta(days=1), T1 + timedelta(days=2))

    assert history.empty
    assert planned_runs()  # the default plan is not empty
