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

from monitor.charts.outages import Services, gap_for, raw_outages, spoken_until
from monitor.charts.uptime import Cover, HourRuns, cells, coverage
from monitor.rollups import RollupRow
from monitor.store.history import FailedRun, ServiceRun

H0 = datetime(2026, 4, 14, 0, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
FAR = H0 + timedelta(days=365)
# A service that ran on probe "p" all the time these tests look at.
SERVED = Services({"p": ((H0 - timedelta(days=1), FAR),)})


def running(_at: datetime) -> datetime | None:
    """The end of the service run that made a run: one running all along."""
    return FAR


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return H0 + timedelta(hours=hour, minutes=minute, seconds=second)


def raw(hour: int, times: Sequence[datetime], last_ok: bool = True) -> HourRuns:
    return HourRuns(at(hour), len(times), min(times), max(times), last_ok)


def test_a_run_at_00_55_speaks_for_a_twelfth_of_its_hour():
    covers = coverage([raw(0, [at(0, 55)])], 5 * MIN, at(2), running)

    assert covers == {at(0): Cover(5 * MIN)}
    row = RollupRow(1, "p", at(0), 1, 0, 0, 10.0, 10.0)
    (first, second) = cells({at(0): row}, at(0), at(2), "hour", covers)
    assert (first.state, first.coverage) == ("up", 5 / 60)
    assert (second.state, second.coverage) == ("nodata", 0.0)


def test_one_manual_run_that_failed_is_one_interval_of_failure_not_a_failed_hour():
    covers = coverage([raw(10, [at(10, 20)], last_ok=False)], MIN, at(12), running)
    row = RollupRow(1, "p", at(10), 1, 1, 0, 10.0, 10.0, {"timeout": 1})
    (cell,) = cells({at(10): row}, at(10), at(11), "hour", covers)
    (outage,) = raw_outages(
        [FailedRun(1, "p", at(10, 20), "timeout", None, None)], H0, at(12), lambda _: MIN, SERVED
    )

    assert covers == {at(10): Cover(MIN)}
    assert (cell.state, cell.coverage) == ("down", 1 / 60)
    assert (outage.start, outage.end, outage.down) == (at(10, 20), at(10, 21), MIN)


def test_regular_runs_off_the_hour_cover_whole_hours_and_spill_into_the_next():
    # Every five minutes at :03, :08, ... :58, for three hours; nothing before 00:03.
    rows = [raw(h, [at(h, 3 + 5 * i) for i in range(12)]) for h in range(3)]

    covers = coverage(rows, 5 * MIN, at(5), running)

    assert covers == {
        at(0): Cover(57 * MIN),  # 00:00-00:03: no run spoke for it yet
        at(1): Cover(HOUR),
        at(2): Cover(HOUR),
        at(3): Cover(3 * MIN, "up"),  # the 02:58 run speaks until 03:03
    }


def test_sparse_runs_speak_for_one_interval_each():
    rows = [raw(10, [at(10, 5), at(10, 20), at(10, 40)])]

    assert coverage(rows, MIN, at(11), running) == {at(10): Cover(3 * MIN)}


def test_a_check_run_every_six_hours_covers_the_hours_between_in_its_state():
    rows = [raw(0, [at(0, 10)], last_ok=False)]

    covers = coverage(rows, 6 * HOUR, at(8), running)

    assert covers[at(0)] == Cover(50 * MIN)
    assert [covers[at(h)] for h in range(1, 6)] == [Cover(HOUR, "down")] * 5
    assert covers[at(6)] == Cover(10 * MIN, "down")
    assert at(7) not in covers
    day = cells({at(0): RollupRow(1, "p", at(0), 1, 1, 0, 5.0, 5.0)}, H0, at(8), "hour", covers)
    assert [c.state for c in day] == ["down"] * 7 + ["nodata"]


def test_a_folded_hour_speaks_for_its_runs_intervals_never_more_than_the_hour():
    assert coverage([HourRuns(at(3), 1)], 5 * MIN, at(6), running) == {at(3): Cover(5 * MIN)}
    assert coverage([HourRuns(at(3), 30)], 5 * MIN, at(6), running) == {at(3): Cover(HOUR)}


def test_the_last_cell_ends_at_the_range_and_is_whole_when_runs_reach_it():
    rows = [raw(10, [at(10, m) for m in range(30)])]
    covers = coverage(rows, MIN, at(10, 30), running)
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
    assert spoken_until(at(1), at(1, 3), MIN, FAR) == at(1, 3)  # within the gap: until the next
    assert spoken_until(at(1), at(1, 3, 1), MIN, FAR) == at(1, 1)  # a silence: one interval
    assert spoken_until(at(1), None, MIN, FAR) == at(1, 1)  # none yet: one interval


def test_a_run_never_speaks_past_the_end_of_the_service_run_that_made_it():
    stopped = at(14, 44, 16)

    assert spoken_until(at(14, 43, 33), None, 15 * MIN, stopped) == stopped
    assert spoken_until(at(14, 43, 33), at(14, 44), MIN, stopped) == at(14, 44)
    # The next run came within the gap, but after a restart: the stop still ends it.
    assert spoken_until(at(14, 43, 33), at(14, 45), MIN, stopped) == stopped


def test_a_run_no_service_made_speaks_for_a_minute_unless_the_next_came_within_the_gap():
    day = timedelta(days=1)

    assert spoken_until(at(9), None, day, None) == at(9, 1)  # a one-off: a minute, not a day
    assert spoken_until(at(9), at(9) + day, day, None) == at(9) + day  # daily from cron
    assert spoken_until(at(9), None, timedelta(seconds=20), None) == at(9, 0, 20)


# The service of the report: it ran 43 seconds, stopped by hand.
SHORT = Services.of([ServiceRun("p", at(14, 43, 33), at(14, 44, 16), at(14, 44, 16))])


def test_a_service_that_ran_43_seconds_monitored_43_seconds_and_no_outage_outlives_it():
    failing = FailedRun(1, "p", at(14, 43, 33), "clock_skew", None, None)

    (outage,) = raw_outages([failing], at(14), at(15, 30), lambda _: 15 * MIN, SHORT)
    clock = coverage(
        [raw(14, [at(14, 43, 33)], last_ok=False)],
        15 * MIN,
        at(15, 30),
        lambda when: SHORT.made_by("p", when),
    )
    port = coverage(
        [raw(14, [at(14, 43, 34)])], 5 * MIN, at(15, 30), lambda when: SHORT.made_by("p", when)
    )

    assert (outage.start, outage.end, outage.down) == (
        at(14, 43, 33),
        at(14, 44, 16),
        timedelta(seconds=43),
    )
    assert clock == {at(14): Cover(timedelta(seconds=43))}
    assert port == {at(14): Cover(timedelta(seconds=42))}


def test_a_daily_check_run_once_by_hand_that_failed_is_a_one_minute_outage_not_a_day():
    failing = FailedRun(1, "p", at(9), "timeout", None, None)
    day = timedelta(days=1)

    (outage,) = raw_outages([failing], H0, H0 + 2 * day, lambda _: day, Services())
    covers = coverage([raw(9, [at(9)], last_ok=False)], day, H0 + 2 * day, lambda _: None)

    assert (outage.end, outage.down) == (at(9, 1), MIN)
    assert covers == {at(9): Cover(MIN)}


def test_a_restart_between_two_failures_splits_the_outage_and_the_idle_time_is_not_monitored():
    services = Services.of(
        [
            ServiceRun("p", at(10), at(10, 20), at(10, 20)),
            ServiceRun("p", at(10, 22), at(11), None),
        ]
    )
    runs = [
        FailedRun(1, "p", at(10, 19), "timeout", at(10, 22), False),
        FailedRun(1, "p", at(10, 22), "timeout", at(10, 23), True),
    ]
    hour = raw(10, [at(10, m) for m in (*range(0, 20), *range(22, 60))])

    first, second = raw_outages(runs, H0, at(12), lambda _: MIN, services)
    covers = coverage(
        [hour],
        MIN,
        at(12),
        lambda when: services.made_by("p", when),
        lambda a, b: services.idle("p", a, b),
    )

    assert [(o.start, o.end) for o in (first, second)] == [
        (at(10, 19), at(10, 20)),
        (at(10, 22), at(10, 23)),
    ]
    assert covers[at(10)] == Cover(58 * MIN)
    # No stop recorded: it ran until a beat after its last heartbeat, when the next was due.
    assert services.made_by("p", at(10, 59)) == at(11, 0, 30)
    assert services.made_by("p", at(10, 21)) is None  # between the two: made by hand


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


@st.composite
def services(draw: st.DrawFn) -> Services:
    """The service's runs on probe "p": started, stopped (or not) and started again, with
    time between in which runs were made by hand."""
    found, when = [], at(1)
    for _ in range(draw(st.integers(0, 4))):
        when += draw(st.integers(0, 60)) * MIN + draw(st.integers(0, 59)) * timedelta(seconds=1)
        lasted = draw(st.integers(0, 240)) * MIN + draw(st.integers(0, 59)) * timedelta(seconds=1)
        stopped = draw(st.booleans())
        found.append(ServiceRun("p", when, when + lasted, when + lasted if stopped else None))
        when += lasted + timedelta(minutes=1)
    return Services.of(found)


@settings(max_examples=80, deadline=None)
@given(histories(), services(), st.data())
def test_an_outage_lasts_as_long_in_any_range_that_contains_it(history, served, data):
    runs, interval = history
    every = lambda _check_id: interval  # noqa: E731
    wide = raw_outages(failed_in(runs, *WIDE), *WIDE, every, served)

    for outage in wide:
        # Any range holding it: from up to two hours before to up to two hours after.
        lo = outage.start - data.draw(st.integers(0, 120)) * MIN
        hi = outage.end + data.draw(st.integers(0, 120)) * MIN
        narrow = raw_outages(failed_in(runs, lo, hi), lo, hi, every, served)
        same = [o for o in narrow if o.start == outage.start]
        assert [(o.end, o.down, o.failures) for o in same] == [
            (outage.end, outage.down, outage.failures)
        ]
        # Nor does it outlast the service run that made its first failure.
        made_by = served.made_by("p", outage.start)
        if made_by is not None:
            assert outage.end <= max(made_by, outage.start)


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
    covers = coverage(hour_runs(kept), interval, hi, running)

    assert {h: c.covered for h, c in covers.items() if c.covered} == exact(kept, interval, hi)


@settings(max_examples=50, deadline=None)
@given(histories())
def test_coverage_marks_the_hours_runs_speak_for_and_never_more_than_an_hour(history):
    runs, interval = history
    hi = at(1) + timedelta(days=2)
    runs = [run for run in runs if run.at < hi]  # the store reads runs before the range's end

    covers = coverage(hour_runs(runs), interval, hi, running)

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
        start, end = run.at, min(spoken_until(run.at, nxt, interval, FAR), hi)
        while start < end:
            hour = start.replace(minute=0, second=0)
            piece = min(end, hour + HOUR) - start
            per_hour[hour] = per_hour.get(hour, timedelta(0)) + piece
            start += piece
    return per_hour
