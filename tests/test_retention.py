"""Retention: percentiles, folding, and prune on a real SQLite file.

Every time here is explicit; prune is handed ``now``, so nothing sleeps and
nothing depends on the wall clock (except the CLI, whose data sits decades
away from any cutoff).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import func, select

import monitor.store.retention as retention
from monitor.cli.app import App
from monitor.cli.prune import prune_command
from monitor.config import RetentionSettings
from monitor.rollups import RawRun, RollupRow, fold, hour_of, merge, percentile
from monitor.store import Store, open_store, runcodes
from monitor.store.checkruns import CheckSpec, record_check_run, sync_checks
from monitor.store.models import CheckRun, Incident, Poll, Probe, RollupHourly, Source
from monitor.store.retention import PruneStats, prune

NOW = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
RAW = timedelta(days=90)
ROLLUPS = timedelta(days=730)
RAW_CUTOFF = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # hour_of(NOW - 90 days)
H = datetime(2026, 4, 13, 15, 0, tzinfo=UTC)


# --- percentile ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 0.5, None),
        ([], 0.95, None),
        ([7.0], 0.0, 7.0),
        ([7.0], 0.5, 7.0),
        ([7.0], 1.0, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 0.0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 1.0, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),  # even count: mean of the middle two
        ([1.0, 2.0, 3.0], 0.5, 2.0),  # odd count: the middle one
        ([0.0, 100.0], 0.25, 25.0),
        ([0.0, 100.0], 0.75, 75.0),
        ([10.0, 20.0, 30.0, 40.0, 50.0], 0.25, 20.0),
        ([10.0, 20.0, 30.0, 40.0, 50.0], 0.9, 46.0),  # rank 3.6: 40 + 0.6 * 10
        ([5.0, 5.0, 5.0, 9.0], 0.5, 5.0),
        # 21 values 0..200: rank 20 * 0.95 = 19 exactly.
        ([float(v) for v in range(0, 201, 10)], 0.95, 190.0),
        ([float(v) for v in range(0, 201, 10)], 0.5, 100.0),
    ],
)
def test_percentile_interpolates_linearly_between_closest_ranks(values, q, expected):
    got = percentile(values, q)
    assert got == (None if expected is None else pytest.approx(expected, abs=1e-9))


def test_percentile_p95_of_ten_values_lies_between_the_top_two():
    # rank 9 * 0.95 = 8.55: 90 + 0.55 * (100 - 90)
    assert percentile([float(v) for v in range(10, 101, 10)], 0.95) == pytest.approx(95.5)


@pytest.mark.parametrize("q", [-0.01, 1.01, 95])
def test_percentile_refuses_a_quantile_outside_0_to_1(q):
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1.0, 2.0], q)


# --- hour_of ------------------------------------------------------------------


def test_hour_of_floors_to_the_hour():
    assert hour_of(datetime(2026, 4, 13, 15, 59, 59, 999999, tzinfo=UTC)) == H
    assert hour_of(H) == H


def test_hour_of_returns_utc_for_other_offsets():
    india = timezone(timedelta(hours=5, minutes=30))
    got = hour_of(datetime(2026, 4, 13, 21, 15, tzinfo=india))  # 15:45 UTC
    assert got == H
    assert got.utcoffset() == timedelta(0)


def test_hour_of_refuses_naive_times():
    with pytest.raises(ValueError, match="naive"):
        hour_of(datetime(2026, 4, 13, 15, 0))


# --- fold and merge -----------------------------------------------------------


def _run(
    minute: int,
    ms: float,
    ok: bool = True,
    *,
    check: int = 1,
    probe: str = "p1",
    hour: datetime = H,
    skipped: bool = False,
    cls: str | None = None,
) -> RawRun:
    return RawRun(
        check_id=check,
        probe=probe,
        started_at=hour + timedelta(minutes=minute),
        duration_ms=ms,
        ok=ok,
        skipped=skipped,
        failure_class=cls,
    )


def test_fold_groups_by_check_probe_and_hour():
    later = H + timedelta(hours=1)
    runs = [
        # check 1, p1, hour H: 5 timed runs (2 failed) and 1 skipped
        _run(0, 40.0),
        _run(10, 10.0),
        _run(20, 30.0, ok=False, cls="timeout"),
        _run(30, 20.0),
        _run(40, 50.0, ok=False, cls="timeout"),
        _run(50, 0.0, skipped=True),
        # same check and hour, another probe
        _run(5, 100.0, probe="p2"),
        _run(35, 300.0, ok=False, probe="p2", cls="server_error"),
        # next hour; a failure without a class
        _run(0, 7.0, hour=later),
        _run(1, 9.0, ok=False, hour=later),
        # another check, only skipped runs: no percentiles
        _run(15, 0.0, check=2, skipped=True),
    ]
    assert fold(reversed(runs)) == [
        RollupRow(1, "p1", H, 6, 2, 1, 30.0, 48.0, {"timeout": 2}),
        RollupRow(1, "p1", later, 2, 1, 0, 8.0, 8.9, {"unclassified": 1}),
        RollupRow(1, "p2", H, 2, 1, 0, 200.0, 290.0, {"server_error": 1}),
        RollupRow(2, "p1", H, 1, 0, 1, None, None, {}),
    ]


def test_fold_percentiles_on_twenty_one_runs():
    runs = [_run(i, float(ms)) for i, ms in enumerate(range(200, -1, -10))]  # 200..0, unsorted
    [rollup] = fold(runs)
    assert (rollup.runs, rollup.failures, rollup.p50_ms, rollup.p95_ms) == (21, 0, 100.0, 190.0)


def test_fold_rounds_percentiles_to_the_microsecond():
    [rollup] = fold([_run(0, 1.0000004), _run(1, 1.0000004), _run(2, 2.0)])
    assert rollup.p50_ms == 1.0
    assert rollup.p95_ms == 1.9  # rank 1.9: 1.0000004 + 0.9 * 0.9999996


def test_fold_of_nothing_is_nothing():
    assert fold([]) == []


def test_merge_adds_counts_exactly_and_blends_percentiles_by_timed_runs():
    old = RollupRow(1, "p1", H, 10, 2, 2, 100.0, 200.0, {"timeout": 2})
    new = RollupRow(1, "p1", H, 3, 1, 1, 40.0, 80.0, {"dns_failure": 1})
    # 8 timed runs behind the old figures, 2 behind the new
    assert merge(old, new) == RollupRow(
        1, "p1", H, 13, 3, 3, 88.0, 176.0, {"dns_failure": 1, "timeout": 2}
    )


def test_merge_keeps_the_side_that_has_percentiles():
    timed = RollupRow(1, "p1", H, 4, 0, 0, 10.0, 20.0, {})
    only_skipped = RollupRow(1, "p1", H, 2, 0, 2, None, None, {})
    assert merge(timed, only_skipped).p50_ms == 10.0
    assert merge(only_skipped, timed).p95_ms == 20.0


def test_merge_refuses_different_hours():
    a = RollupRow(1, "p1", H, 1, 0, 0, 1.0, 1.0, {})
    with pytest.raises(ValueError, match="different hours"):
        merge(a, RollupRow(1, "p1", H + timedelta(hours=1), 1, 0, 0, 1.0, 1.0, {}))


# --- settings -----------------------------------------------------------------


def test_retention_settings_default_to_90_days_and_2_years():
    settings = RetentionSettings()
    assert (settings.raw, settings.rollups) == (timedelta(days=90), timedelta(days=730))


def test_retention_settings_read_durations_as_written_in_config():
    settings = RetentionSettings.model_validate({"raw": "30d", "rollups": "52w"})
    assert (settings.raw, settings.rollups) == (timedelta(days=30), timedelta(weeks=52))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"raw": "400d", "rollups": "30d"}, "at least as long"),
        ({"raw": 90}, "duration"),
        ({"raw": "0s"}, "positive"),
        ({"keep": "90d"}, "Extra inputs"),
    ],
)
def test_retention_settings_refuse_mistakes(raw, match):
    with pytest.raises(ValidationError, match=match):
        RetentionSettings.model_validate(raw)


# --- prune on a real database -------------------------------------------------

START = NOW - timedelta(days=100)  # 2026-02-21 12:30


def _generated() -> list[RawRun]:
    """100 days of runs: probe "a" twice an hour, probe "b" every six hours.

    Durations, failures and skips follow fixed patterns so every hour has
    different figures and some hours have failures of two classes.
    """
    runs = []
    first_hour = hour_of(START)
    for h in range(100 * 24 + 1):
        hour = first_hour + timedelta(hours=h)
        for n, minute in enumerate((5, 35)):
            i = 2 * h + n
            failed = i % 7 == 0
            skipped = not failed and i % 11 == 0
            runs.append(
                RawRun(
                    check_id=0,  # filled in with the real id
                    probe="a",
                    started_at=hour + timedelta(minutes=minute, seconds=i % 60),
                    duration_ms=float(20 + (i * 37) % 500) + (i % 4) * 0.25,
                    ok=not failed,
                    skipped=skipped,
                    failure_class=("timeout" if i % 3 else "server_error") if failed else None,
                )
            )
        if h % 6 == 0:
            runs.append(
                RawRun(0, "b", hour + timedelta(minutes=17), float(100 + h % 50), ok=h % 5 != 0)
            )
    return [r for r in runs if r.started_at <= NOW]


@pytest.fixture
def db(store: Store) -> Store:
    """A fresh store on each engine: folding and merging rollups is SQL the engines must agree on."""
    return store


def _seed(store: Store) -> tuple[int, list[RawRun]]:
    """A check with 100 days of runs, and a source with old incidents and polls."""
    long_ago = NOW - timedelta(days=400)
    with store.write() as session, session.begin():
        ids = sync_checks(session, [CheckSpec("api", "http", "vendor", "https://x.test/")], START)
        check_id = ids["api"]
        runs = [RawRun(check_id, *_fields(r)) for r in _generated()]
        for run in runs:
            record_check_run(
                session,
                check_id=run.check_id,
                probe=run.probe,
                started_at=run.started_at,
                duration_ms=run.duration_ms,
                ok=run.ok,
                skipped=run.skipped,
                failure_class=run.failure_class,
                detail="seeded",
                facts={},
            )
        source = Source(name="github", kind="statuspage", url="https://x.test", created_at=long_ago)
        session.add(source)
        session.flush()
        session.add(
            Incident(
                source_id=source.id,
                external_id="inc-1",
                title="Old outage",
                status="resolved",
                created_at=long_ago,
                started_at=long_ago,
                resolved_at=long_ago + timedelta(hours=2),
                first_seen_at=long_ago,
                last_changed_at=long_ago,
            )
        )
        session.add(
            Poll(
                source_id=source.id,
                probe="a",
                started_at=long_ago,
                duration_ms=12,
                outcome="ok",
            )
        )
    return check_id, runs


def _fields(run: RawRun):
    return (
        run.probe,
        run.started_at,
        run.duration_ms,
        run.ok,
        run.skipped,
        run.failure_class,
    )


def _rollups(store: Store) -> list[RollupRow]:
    with store.read() as session:
        rows = session.scalars(
            select(RollupHourly).order_by(
                RollupHourly.check_id, RollupHourly.probe, RollupHourly.hour
            )
        )
        return [retention._from_row(row) for row in rows]


def _raw(store: Store) -> list[RawRun]:
    """The raw runs left, as column rows decoded by hand, by time and probe."""
    with store.read() as session:
        rows = session.execute(
            select(
                CheckRun.check_id,
                Probe.name,
                CheckRun.started_ms,
                CheckRun.duration_us,
                CheckRun.outcome,
                CheckRun.failure_class,
            )
            .join(Probe, Probe.id == CheckRun.probe_id)
            .order_by(CheckRun.started_ms, Probe.name)
        )
        return [
            RawRun(
                check_id,
                probe,
                runcodes.from_ms(started_ms),
                duration_us / 1000,
                *runcodes.outcome_flags(outcome),
                runcodes.failure_name(failure_class),
            )
            for check_id, probe, started_ms, duration_us, outcome, failure_class in rows
        ]


def _count(store: Store, model) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_prune_folds_raw_runs_older_than_raw_keep_into_hourly_rollups(db):
    _, runs = _seed(db)
    old = [r for r in runs if r.started_at < RAW_CUTOFF]
    recent = [r for r in runs if r.started_at >= RAW_CUTOFF]
    assert old
    assert recent

    stats = prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS, batch_hours=24)

    expected = fold(old)
    assert stats.raw_cutoff == RAW_CUTOFF
    assert (stats.runs_folded, stats.raw_deleted, stats.hours_written) == (
        len(old),
        len(old),
        len(expected),
    )
    assert stats.rollups_deleted == 0
    assert stats.batches == 10  # 240 old hours (10 days), a day per transaction
    # Raw rows: exactly the recent ones remain, untouched.
    assert _raw(db) == sorted(recent, key=lambda r: (r.started_at, r.probe))
    # Rollups: exactly the old hours, with the figures fold gives.
    rollups = _rollups(db)
    assert rollups == expected
    assert {r.hour for r in rollups if r.probe == "a"} == {hour_of(r.started_at) for r in old}
    assert all(r.hour < RAW_CUTOFF for r in rollups)
    assert sum(r.runs for r in rollups) == len(old)
    assert sum(r.failures for r in rollups) == sum(1 for r in old if not r.ok)
    assert sum(r.skipped for r in rollups) == sum(1 for r in old if r.skipped)
    # Spot check one hour by hand: probe a, the first hour (runs i=0 and i=1).
    first = rollups[0]
    assert (first.probe, first.hour, first.runs, first.failures) == ("a", hour_of(START), 2, 1)
    assert first.failure_classes == {"server_error": 1}
    # durations 20.0 and 57.25: the median halfway, p95 at 0.95 of the gap
    assert first.p50_ms == 38.625
    assert first.p95_ms == pytest.approx(55.3875, abs=0.001)  # stored to the microsecond


def test_prune_never_touches_incidents_sources_or_the_poll_log(db):
    _seed(db)
    before = {m: _count(db, m) for m in (Incident, Poll, Source)}
    prune(db, NOW, raw_keep=RAW, rollup_keep=timedelta(days=91))
    assert (
        {m: _count(db, m) for m in (Incident, Poll, Source)}
        == before
        == {
            Incident: 1,
            Poll: 1,
            Source: 1,
        }
    )


def test_prune_twice_changes_nothing_the_second_time(db):
    _seed(db)
    prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS)
    rollups, raw = _rollups(db), _raw(db)

    again = prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS)

    assert (again.runs_folded, again.hours_written, again.raw_deleted, again.rollups_deleted) == (
        0,
        0,
        0,
        0,
    )
    assert again.batches == 0
    assert (_rollups(db), _raw(db)) == (rollups, raw)


def test_prune_deletes_rollups_older_than_rollup_keep(db):
    _, runs = _seed(db)
    prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS)
    total = _rollups(db)
    keep = timedelta(days=95)
    rollup_cutoff = hour_of(NOW - keep)

    stats = prune(db, NOW, raw_keep=RAW, rollup_keep=keep)

    kept = _rollups(db)
    assert stats.rollup_cutoff == rollup_cutoff
    assert kept == [r for r in total if r.hour >= rollup_cutoff]
    assert stats.rollups_deleted == len(total) - len(kept) > 0
    assert len(_raw(db)) == sum(1 for r in runs if r.started_at >= RAW_CUTOFF)


def test_prune_later_folds_the_hours_that_have_since_aged_out(db):
    _, runs = _seed(db)
    prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS)
    later = NOW + timedelta(days=1, minutes=45)  # cutoff moves to 2026-03-04 13:00

    stats = prune(db, later, raw_keep=RAW, rollup_keep=ROLLUPS)

    cutoff = hour_of(later - RAW)
    assert stats.runs_folded == sum(1 for r in runs if RAW_CUTOFF <= r.started_at < cutoff)
    assert _rollups(db) == fold(r for r in runs if r.started_at < cutoff)
    assert all(r.started_at >= cutoff for r in _raw(db))


def test_prune_merges_a_late_run_into_the_rollup_of_its_hour(db):
    check_id, runs = _seed(db)
    prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS)
    hour = hour_of(START) + timedelta(days=3)
    [before] = [r for r in _rollups(db) if r.probe == "a" and r.hour == hour]
    with db.write() as session, session.begin():
        record_check_run(
            session,
            check_id=check_id,
            probe="a",
            started_at=hour + timedelta(minutes=50),
            duration_ms=1.0,
            ok=False,
            skipped=False,
            failure_class="dns_failure",
            detail="late",
            facts={},
        )

    stats = prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS)

    assert (stats.runs_folded, stats.hours_written, stats.raw_deleted) == (1, 1, 1)
    [after] = [r for r in _rollups(db) if r.probe == "a" and r.hour == hour]
    late = RollupRow(check_id, "a", hour, 1, 1, 0, 1.0, 1.0, {"dns_failure": 1})
    assert after == merge(before, late)
    assert after.runs == before.runs + 1
    assert after.failure_classes["dns_failure"] == 1
    assert len(_rollups(db)) == len(fold(r for r in runs if r.started_at < RAW_CUTOFF))


def test_prune_interrupted_between_batches_leaves_whole_hours_and_resumes_exactly(db, monkeypatch):
    _, runs = _seed(db)
    old = [r for r in runs if r.started_at < RAW_CUTOFF]
    real_delete = retention._delete_runs
    calls = []

    def delete_then_fail_on_the_second_batch(session, keys):
        calls.append(len(keys))
        if len(calls) == 2:
            # The second batch's rollups are written (flushed) by now: the
            # failure must take them back with the transaction.
            raise RuntimeError("killed mid-batch")
        return real_delete(session, keys)

    monkeypatch.setattr(retention, "_delete_runs", delete_then_fail_on_the_second_batch)
    with pytest.raises(RuntimeError, match="killed mid-batch"):
        prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS, batch_hours=24)

    # Consistent: the first batch wholly folded, everything else wholly raw.
    rollups, raw = _rollups(db), _raw(db)
    first_batch_end = hour_of(START) + timedelta(hours=24)
    assert rollups == fold(r for r in old if r.started_at < first_batch_end)
    assert raw == sorted(
        (r for r in runs if r.started_at >= first_batch_end), key=lambda r: (r.started_at, r.probe)
    )
    assert {r.hour for r in rollups}.isdisjoint({hour_of(r.started_at) for r in raw})
    assert sum(r.runs for r in rollups) + len(raw) == len(runs)

    monkeypatch.setattr(retention, "_delete_runs", real_delete)
    stats = prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS, batch_hours=24)

    assert stats.runs_folded == len(old) - calls[0]
    assert _rollups(db) == fold(old)
    assert _raw(db) == sorted(
        (r for r in runs if r.started_at >= RAW_CUTOFF), key=lambda r: (r.started_at, r.probe)
    )


def test_prune_with_small_batches_gives_the_same_rollups(db):
    _, runs = _seed(db)
    stats = prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS, batch_hours=5)
    assert stats.batches == 48  # 240 old hours, 5 at a time
    assert _rollups(db) == fold(r for r in runs if r.started_at < RAW_CUTOFF)


def test_prune_skips_empty_stretches_without_empty_transactions(db):
    with db.write() as session, session.begin():
        check_id = sync_checks(session, [CheckSpec("api", "http", "vendor", "https://x.test/")], H)[
            "api"
        ]
        for at in (NOW - timedelta(days=700), NOW - timedelta(days=200)):
            record_check_run(
                session,
                check_id=check_id,
                probe="a",
                started_at=at,
                duration_ms=5.0,
                ok=True,
                detail="",
                facts={},
            )
    stats = prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS, batch_hours=1)
    assert (stats.batches, stats.runs_folded, stats.hours_written) == (2, 2, 2)


def test_prune_on_an_empty_database_does_nothing(db):
    stats = prune(db, NOW, raw_keep=RAW, rollup_keep=ROLLUPS)
    assert dataclasses.replace(stats, elapsed_s=0.0) == PruneStats(
        raw_cutoff=RAW_CUTOFF, rollup_cutoff=hour_of(NOW - ROLLUPS)
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"raw_keep": timedelta(0), "rollup_keep": ROLLUPS}, "positive"),
        ({"raw_keep": RAW, "rollup_keep": timedelta(days=30)}, "at least as long"),
        ({"raw_keep": RAW, "rollup_keep": ROLLUPS, "batch_hours": 0}, "batch_hours"),
    ],
)
def test_prune_refuses_nonsense_settings(db, kwargs, match):
    with pytest.raises(ValueError, match=match):
        prune(db, NOW, **kwargs)


def test_prune_refuses_a_naive_now(db):
    with pytest.raises(ValueError, match="naive"):
        prune(db, datetime(2026, 6, 1), raw_keep=RAW, rollup_keep=ROLLUPS)


# --- the command --------------------------------------------------------------


def _invoke(config: Path, *args: str):
    return CliRunner().invoke(prune_command, list(args), obj=App(str(config)))


def test_monitor_prune_folds_old_runs_and_prints_one_line(write_config):
    config = write_config()
    store = open_store(f"sqlite:///{config.parent / 'monitor.db'}")
    try:
        with store.write() as session, session.begin():
            check_id = sync_checks(
                session, [CheckSpec("api", "http", "vendor", "https://x.test/")], H
            )["api"]
            # Decades old (folded whatever the date) and just now (kept).
            for at in (
                datetime(2001, 1, 1, 10, 5, tzinfo=UTC),
                datetime(2001, 1, 1, 10, 35, tzinfo=UTC),
                datetime(2001, 1, 1, 11, 5, tzinfo=UTC),
                datetime.now(UTC) - timedelta(minutes=5),
            ):
                record_check_run(
                    session,
                    check_id=check_id,
                    probe="test-probe",
                    started_at=at,
                    duration_ms=5.0,
                    ok=True,
                    detail="",
                    facts={},
                )
    finally:
        store.close()

    # Rollups of 2001 are past any rollup period: folded, then deleted.
    result = _invoke(config)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "folded 3 runs into 2 hourly rollups, deleted 3 raw runs and 2 old rollups ("
    )
    store = open_store(f"sqlite:///{config.parent / 'monitor.db'}")
    try:
        assert (_count(store, CheckRun), _count(store, RollupHourly)) == (1, 0)
    finally:
        store.close()


def test_monitor_prune_takes_durations_from_the_command_line(write_config):
    config = write_config()
    result = _invoke(config, "--raw", "12h", "--rollups", "30d")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("folded 0 runs into 0 hourly rollups")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--raw", "soon"], "expected a duration"),
        (["--raw", "0s"], "positive"),
        (["--raw", "800d"], "at least as long"),
        (["--rollups", "7d"], "at least as long"),
    ],
)
def test_monitor_prune_rejects_bad_durations_as_usage_errors(write_config, args, message):
    result = _invoke(write_config(), *args)
    assert result.exit_code == 2
    assert message in result.output
