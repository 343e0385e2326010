"""Failure windows, uptime cells and the table's numbers: the pure parts, on explicit rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.charts.outages import Services, folded_outages, gap_for, raw_outages
from monitor.charts.uptime import (
    Counts,
    cells,
    hourly,
    latency,
    percent,
    unwatched,
    uptime_step,
)
from monitor.rollups import RollupRow
from monitor.store.history import FailedRun

LO = datetime(2026, 4, 14, 0, 0, tzinfo=UTC)
HI = datetime(2026, 4, 15, 0, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
# The service ran on probe "p" all the days these tests look at.
SERVED = Services({"p": ((LO - timedelta(days=1), HI + timedelta(days=1)),)})


def at(hour: int, minute: int = 0) -> datetime:
    return LO + timedelta(hours=hour, minutes=minute)


def failed(when, next_at, next_ok, cls="timeout", prev_at=None, prev_ok=None) -> FailedRun:
    return FailedRun(1, "p", when, cls, next_at, next_ok, prev_at, prev_ok)


def every_minute(_check_id: int) -> timedelta:
    return MIN  # the interval; the gap is three of them


def test_a_window_runs_from_the_first_failure_to_the_next_pass():
    runs = [
        failed(at(9, 30), at(9, 31), False, "server_error"),
        failed(at(9, 31), at(9, 32), False, "server_error"),
        failed(at(9, 32), at(9, 33), True, "timeout"),
    ]

    (window,) = raw_outages(runs, LO, HI, every_minute, SERVED)

    assert (window.start, window.end, window.down) == (at(9, 30), at(9, 33), 3 * MIN)
    assert (window.failure_class, window.failures, window.estimated) == ("server_error", 3, False)


def test_a_monitoring_gap_ends_a_window_one_interval_after_the_last_failure():
    # Next run four hours later: the monitor was not watching, that is not downtime.
    (window,) = raw_outages([failed(at(19, 55), at(23, 55), True)], LO, HI, every_minute, SERVED)

    assert (window.start, window.end, window.down) == (at(19, 55), at(19, 56), MIN)


def test_a_window_still_open_at_the_end_of_the_range_is_clipped_to_it():
    ongoing = raw_outages([failed(HI - MIN, None, None)], LO, HI, every_minute, SERVED)
    beyond = raw_outages([failed(HI - MIN, HI + MIN, False)], LO, HI, every_minute, SERVED)
    stopped = raw_outages([failed(at(3), None, None)], LO, HI, every_minute, SERVED)

    assert [(w.start, w.end) for w in ongoing] == [(HI - MIN, HI)]
    assert [(w.start, w.end) for w in beyond] == [(HI - MIN, HI)]
    # No run since: the failure speaks for one interval, then the monitor was not watching.
    assert [(w.start, w.end) for w in stopped] == [(at(3), at(3, 1))]


def test_a_streak_begun_before_the_range_starts_at_the_range():
    continued = failed(LO + MIN, LO + 2 * MIN, True, prev_at=LO - MIN, prev_ok=False)
    fresh = failed(LO + MIN, LO + 2 * MIN, True, prev_at=LO - MIN, prev_ok=True)

    assert raw_outages([continued], LO, HI, every_minute, SERVED)[0].start == LO
    assert raw_outages([fresh], LO, HI, every_minute, SERVED)[0].start == LO + MIN


def test_folded_hours_with_failures_join_into_estimated_windows():
    def row(hour: int, runs: int, failures: int, check_id: int = 1) -> RollupRow:
        return RollupRow(
            check_id, "p", at(hour), runs, failures, 0, 1.0, 2.0, {"timeout": failures}
        )

    rows = [row(1, 60, 60), row(2, 60, 30), row(3, 60, 0), row(4, 60, 6), row(5, 60, 6, 2)]
    folded = frozenset(r.key for r in rows if r.hour != at(5))

    windows = folded_outages(rows, folded, every_minute)

    assert [(w.start, w.end, w.down, w.estimated) for w in windows] == [
        (at(1), at(3), timedelta(minutes=90), True),  # a whole hour and half of the next
        (at(4), at(5), timedelta(minutes=6), True),
    ]


def test_gap_is_three_intervals_and_never_under_two_minutes():
    assert gap_for(timedelta(minutes=5)) == timedelta(minutes=15)
    assert gap_for(timedelta(seconds=10)) == timedelta(minutes=2)
    assert gap_for(None) == timedelta(minutes=3)


def test_cells_tell_up_partial_down_and_no_data():
    rows = {
        at(0): RollupRow(1, "p", at(0), 12, 0, 0, 1.0, 2.0),
        at(1): RollupRow(1, "p", at(1), 12, 2, 0, 1.0, 2.0),
        at(2): RollupRow(1, "p", at(2), 12, 6, 0, 1.0, 2.0),
        at(3): RollupRow(1, "p", at(3), 12, 0, 12, None, None),  # skipped only: no data
    }

    hours = cells(rows, LO, at(5), "hour")
    day = cells(rows, LO, HI, "day")

    assert [c.state for c in hours] == ["up", "partial", "down", "nodata", "nodata"]
    assert [c.coverage for c in hours] == [1.0, 1.0, 1.0, 0.0, 0.0]  # no cover given: whole
    assert len(day) == 1
    assert day[0].counts == Counts(runs=36, failures=8)
    assert day[0].coverage == pytest.approx(3 / 24)


def test_probes_combine_and_days_blend_percentiles_by_runs():
    rows = hourly(
        [
            RollupRow(1, "a", at(0), 10, 1, 0, 100.0, 200.0),
            RollupRow(1, "b", at(0), 30, 0, 0, 200.0, 400.0),
            RollupRow(1, "a", at(1), 40, 0, 0, 100.0, 100.0),
        ]
    )

    assert rows[at(0)].runs == 40
    assert rows[at(0)].failures == 1
    assert (rows[at(0)].p50_ms, rows[at(0)].p95_ms) == (175.0, 350.0)
    (point,) = latency(rows, "day")
    assert (point.p50_ms, point.p95_ms) == (137.5, 225.0)


def test_percent_rounds_down_so_a_failure_never_reads_100():
    assert percent(1.0) == "100.00 %"
    assert percent(0.99999) == "99.99 %"
    assert percent(0.5) == "50.00 %"


def test_unwatched_spans_are_the_range_minus_heartbeats_and_run_hours():
    spans = unwatched(LO, HI, [(at(0), at(6, 30))], [at(6), at(10)])

    assert spans == [(at(7), at(10)), (at(11), HI)]


def test_hourly_cells_up_to_two_days_daily_beyond():
    assert uptime_step(LO, LO + timedelta(days=2)) == "hour"
    assert uptime_step(LO, LO + timedelta(days=2, seconds=1)) == "day"
