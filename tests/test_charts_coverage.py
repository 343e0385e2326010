"""How much of an hour was monitored, and how long an outage lasted: pure, on literal rows.

One principle (``monitor.charts.outages``): a run speaks for its check until
the next run, if that came within the gap (three intervals), else for one
interval. These tests pin it down on hand-written rows, then check with
hypothesis that an outage's length never depends on the range it is drawn in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.charts.outages import gap_for, raw_outages, spoken_until
from monitor.charts.uptime import Cover, HourRuns, cells, coverage
from monitor.rollups import RollupRow
from monitor.store.history import FailedRun

H0 = datetime(2026, 4, 14, 0, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return H0 + timedelta(hours=hour, minutes=minute, seconds=second)


def raw(hour: int, times: Sequence[datetime], last_ok: bool = True) -> HourRuns:
    return HourRuns(at(hour), len(times), min(times), max(times), last_ok)


def test_a_run_at_00_55_speaks_for_a_twelfth_of_its_hour():
    covers = coverage([raw(0, [at(0, 55)])], 5 * MIN, at(2))

    assert covers == {at(0): Cover(5 * MIN)}
    row = RollupRow(1, "p", at(0), 1, 0, 0, 10.0, 10.0)
    (first, second) = cells({at(0): row}, at(0), at(2), "hour", covers)
    assert (first.state, first.coverage) == ("up", 5 / 60)
    assert (second.state, second.coverage) == ("nodata", 0.0)


def test_one_manual_run_that_failed_is_one_interval_of_failure_not_a_failed_hour():
    covers = coverage([raw(10, [at(10, 20)], last_ok=False)], MIN, at(12))
    row = RollupRow(1, "p", at(10), 1, 1, 0, 10.0, 10.0, {"timeout": 1})
    (cell,) = cells({at(10): row}, at(10), at(11), "hour", covers)
    (outage,) = raw_outages(
        [FailedRun(1, "p", at(10, 20), "timeout", None, None)], H0, at(12), lambda _: MIN
    )

    assert covers == {at(10): Cover(MIN)}
    assert (cell.state, cell.coverage) == ("down", 1 / 60)
    assert (outage.start, outage.end, outage.down) == (at(10, 20), at(10, 21), MIN)


def test_regular_runs_off_the_hour_cover_whole_hours_and_spill_into_the_next():
    # Every five minutes at :03, :08, ... :58, for three hours; nothing before 00:03.
    rows = [raw(h, [at(h, 3 + 5 * i) for i in range(12)]) for h in range(3)]

    covers = coverage(rows, 5 * MIN, at(5))

    assert covers == {
        at(0): Cover(57 * MIN),  # 00:00-00:03: no run spoke for it yet
        at(1): Cover(HOUR),
        at(2): Cover(HOUR),
        at(3): Cover(3 * MIN, "up"),  # the 02:58 run speaks until 03:03
    }


def test_sparse_runs_speak_for_one_interval_each():
    rows = [raw(10, [at(10, 5), at(10, 20), at(10, 40)])]

    assert coverage(rows, MIN, at(11)) == {at(10): Cover(3 * MIN)}


def test_a_check_run_every_six_hours_covers_the_hours_between_in_its_state():
    rows = [raw(0, [at(0, 10)], last_ok=False)]

    covers = coverage(rows, 6 * HOUR, at(8))

    assert covers[at(0)] == Cover(50 * MIN)
    assert [covers[at(h)] for h in range(1, 6)] == [Cover(HOUR, "down")] * 5
    assert covers[at(6)] == Cover(10 * MIN, "down")
    assert at(7) not in covers
    day = cells({at(0): RollupRow(1, "p", at(0), 1, 1, 0, 5.0, 5.0)}, H0, at(8), "hour", covers)
    assert [c.state for c in day] == ["down"] * 7 + ["nodata"]


def test_a_folded_hour_speaks_for_its_runs_intervals_never_more_than_the_hour():
    assert coverage([HourRuns(at(3), 1)], 5 * MIN, at(6)) == {at(3): Cover(5 * MIN)}
    assert coverage([HourRuns(at(3), 30)], 5 * MIN, at(6)) == {at(3): Cover(HOUR)}


def test_the_last_cell_ends_at_the_range_and_is_whole_when_runs_reach_it():
    rows = [raw(10, [at(10, m) for m in range(30)])]
    covers = coverage(rows, MIN, at(10, 30))
    row = RollupRow(1, "p", at(10), 30, 0, 0, 5.0, 5.0)

    (cell,) = cells({at(10): row}, at(10), at(10, 30), "hour", covers)

    assert covers == {at(10): Cover(30 * MIN)}
    assert (cell.end, cell.coverage) == (at(10, 30), 1.0)


def test_a_day_cell_is_the_share_of_the_day_its_hours_were_covered():
    covers = {at(0): Cover(HOUR), at(1): Cover(30 * MIN)}
    rows = {at(h): RollupRow(1, "p", at(h), 12, 0, 0, 5.0, 5.0) for h in (0, 1)}

    (day,) = cells(rows, H0, H0 + timedelta(days=1), "day", covers)

    assert day.coverage == 1.5 / 24


def test_a_run_speaks_until_the_next_within_the_gap_else_for_one_interval():
    assert gap_for(MIN) == 3 * MIN
    assert spoken_until(at(1), at(1, 3), MIN) == at(1, 3)  # within the gap: until the next
    assert spoken_until(at(1), at(1, 3, 1), MIN) == at(1, 1)  # a silence: one interval
    assert spoken_until(at(1), None, MIN) == at(1, 1)  # none yet: one interval


# -- properties ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    at: datetime
    ok: bool


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Run], timedelta]:
    """A check's runs over a few hours: irregular spacing, silences, streaks of failures."""
    interval = draw(st.sampled_from([MIN, 5 * MIN, 30 * MIN]))
    steps = draw(st.lists(st.integers(min_value=1, max_value=int(8 * interval / MIN)), max_size=40))
    oks = draw(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)))
    runs, when = [], at(1)
    for step, ok in zip(steps, oks, strict=True):
        when += step * MIN
        runs.append(Run(when, ok))
    return runs, interval


def failed_in(runs: Sequence[Run], lo: datetime, hi: datetime) -> list[FailedRun]:
    """What the store hands the charts for ``[lo, hi)``: failed runs, each with the next run
    whenever it came, and the first one also with the run before it."""
    found: list[FailedRun] = []
    for index, run in enumerate(runs):
        if run.ok or not lo <= run.at < hi:
            continue
        nxt = runs[index + 1] if index + 1 < len(runs) else None
        prev = runs[index - 1] if index and not found else None
        found.append(
            FailedRun(
                1,
                "p",
                run.at,
                "timeout",
                nxt.at if nxt else None,
                nxt.ok if nxt else None,
                prev.at if prev else None,
                prev.ok if prev else None,
            )
        )
    return found


WIDE = (H0, H0 + timedelta(days=30))


@settings(max_examples=50, deadline=None)
@given(histories(), st.data())
def test_an_outage_lasts_as_long_in_any_range_that_contains_it(history, data):
    runs, interval = history
    every = lambda _check_id: interval  # noqa: E731
    wide = raw_outages(failed_in(runs, *WIDE), *WIDE, every)

    for outage in wide:
        # Any range holding it: from up to two hours before to up to two hours after.
        lo = outage.start - data.draw(st.integers(0, 120)) * MIN
        hi = outage.end + data.draw(st.integers(0, 120)) * MIN
        narrow = raw_outages(failed_in(runs, lo, hi), lo, hi, every)
        same = [o for o in narrow if o.start == outage.start]
        assert [(o.end, o.down, o.failures) for o in same] == [
            (outage.end, outage.down, outage.failures)
        ]


@settings(max_examples=50, deadline=None)
@given(histories())
def test_coverage_is_exact_when_runs_come_at_most_an_interval_apart(history):
    runs, interval = history
    # Keep only runs that came at most an interval after the one before.
    kept: list[Run] = []
    for run in runs:
        if not kept or run.at - kept[-1].at <= interval:
            kept.append(run)
    hi = at(1) + timedelta(days=2)
    kept = [run for run in kept if run.at < hi]
    covers = coverage(hour_runs(kept), interval, hi)

    assert {h: c.covered for h, c in covers.items() if c.covered} == exact(kept, interval, hi)


@settings(max_examples=50, deadline=None)
@given(histories())
def test_coverage_marks_the_hours_runs_speak_for_and_never_more_than_an_hour(history):
    runs, interval = history
    hi = at(1) + timedelta(days=2)
    runs = [run for run in runs if run.at < hi]  # the store reads runs before the range's end

    covers = coverage(hour_runs(runs), interval, hi)

    # Irregular runs are estimated from the hour's count, first and last run: the hours
    # covered are the ones the principle covers, each by some of the hour and at most all.
    assert set(covers) == set(exact(runs, interval, hi))
    assert all(timedelta(0) < c.covered <= HOUR for c in covers.values())


def hour_runs(runs: Sequence[Run]) -> list[HourRuns]:
    by_hour: dict[datetime, list[Run]] = {}
    for run in runs:
        by_hour.setdefault(run.at.replace(minute=0, second=0), []).append(run)
    return [
        HourRuns(hour, len(items), items[0].at, items[-1].at, items[-1].ok)
        for hour, items in sorted(by_hour.items())
    ]


def exact(runs: Sequence[Run], interval: timedelta, hi: datetime) -> dict[datetime, timedelta]:
    """The principle applied run by run, then cut into hours: the reference."""
    per_hour: dict[datetime, timedelta] = {}
    for index, run in enumerate(runs):
        nxt = runs[index + 1].at if index + 1 < len(runs) else None
        start, end = run.at, min(spoken_until(run.at, nxt, interval), hi)
        while start < end:
            hour = start.replace(minute=0, second=0)
            piece = min(end, hour + HOUR) - start
            per_hour[hour] = per_hour.get(hour, timedelta(0)) + piece
            start += piece
    return per_hour
