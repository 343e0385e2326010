"""A check's newest run across probes, read along the (check, probe, time) key, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.store import Store
from monitor.store.checkruns import (
    CheckSpec,
    check_ids,
    latest_runs,
    list_check_runs,
    probes_of,
    record_check_run,
    sync_checks,
)

T0 = datetime(2026, 4, 14, 10, tzinfo=UTC)


def record(store: Store, runs: list[tuple[str, str, int, bool]]) -> dict[str, int]:
    """(check, probe, minutes after T0, ok) runs, the checks created first."""
    specs = [
        CheckSpec(name, "http", "vendor", "GET https://api.example") for name in ("api", "idle")
    ]
    with store.write() as session, session.begin():
        ids = sync_checks(session, specs, T0)
        for check, probe, minutes, ok in runs:
            record_check_run(
                session,
                check_id=ids[check],
                probe=probe,
                started_at=T0 + timedelta(minutes=minutes),
                duration_ms=5.0,
                ok=ok,
                skipped=False,
                failure_class=None if ok else "server_error",
                http_status=200 if ok else 500,
                detail="ok" if ok else "HTTP 500",
                facts={},
            )
    return ids


def test_the_newest_run_of_a_check_is_the_newest_on_any_probe(store: Store) -> None:
    ids = record(
        store,
        [
            ("api", "laptop", 0, True),
            ("api", "ci", 5, False),  # the newest: ci's failure
            ("api", "laptop", 3, True),
            ("api", "eu", 1, True),
        ],
    )
    with store.read() as session:
        assert probes_of(session, ids["api"]) == ["ci", "eu", "laptop"]
        assert probes_of(session, ids["idle"]) == []
        latest = latest_runs(session, ["api", "idle", "never-configured"])
    api = latest["api"]
    assert api is not None
    assert (api.check, api.probe, api.started_at, api.ok) == (
        "api",
        "ci",
        T0 + timedelta(minutes=5),
        False,
    )
    assert latest["idle"] is None
    assert latest["never-configured"] is None


def test_the_newest_runs_of_a_check_are_merged_across_probes(store: Store) -> None:
    record(
        store,
        [
            ("api", "laptop", 0, True),
            ("api", "ci", 5, False),
            ("api", "laptop", 3, True),
            ("api", "eu", 4, False),
            ("api", "eu", 1, True),
        ],
    )
    with store.read() as session:
        newest = list_check_runs(session, checks=["api"], limit=3)
        failed = list_check_runs(session, checks=["api"], failed_only=True, limit=5)
        since = list_check_runs(session, checks=["api"], since=T0 + timedelta(minutes=2), limit=9)
    assert [(r.check, r.probe, r.started_at.minute) for r in newest] == [
        ("api", "ci", 5),
        ("api", "eu", 4),
        ("api", "laptop", 3),
    ]
    assert [(r.probe, r.ok) for r in failed] == [("ci", False), ("eu", False)]
    assert [r.started_at.minute for r in since] == [5, 4, 3]


def test_every_run_is_listed_newest_first_whatever_its_check(store: Store) -> None:
    record(
        store,
        [
            ("api", "laptop", 0, True),
            ("idle", "laptop", 2, False),
            ("api", "ci", 5, False),
            ("idle", "ci", 1, True),
        ],
    )
    with store.read() as session:
        everything = list_check_runs(session)
        failed = list_check_runs(session, failed_only=True)
        until = list_check_runs(session, until=T0 + timedelta(minutes=2), limit=2)
    assert [(r.check, r.probe, r.started_at.minute) for r in everything] == [
        ("api", "ci", 5),
        ("idle", "laptop", 2),
        ("idle", "ci", 1),
        ("api", "laptop", 0),
    ]
    assert [(r.check, r.failure_class) for r in failed] == [
        ("api", "server_error"),
        ("idle", "server_error"),
    ]
    assert [(r.check, r.started_at.minute) for r in until] == [("idle", 2), ("idle", 1)]


def test_a_time_bound_between_two_milliseconds_keeps_the_runs_on_its_side(store: Store) -> None:
    at = T0 + timedelta(minutes=1)  # the run's whole millisecond
    record(store, [("api", "laptop", 1, True)])
    half_after = at + timedelta(microseconds=500)
    with store.read() as session:
        assert list_check_runs(session, since=half_after) == []
        assert list_check_runs(session, until=at - timedelta(microseconds=500)) == []
        assert [r.started_at for r in list_check_runs(session, since=at, until=at)] == [at]
        assert [r.started_at for r in list_check_runs(session, until=half_after)] == [at]


def test_a_run_reads_back_as_recorded_the_usual_filled_in(store: Store) -> None:
    """A pass saying the check's usual stores none of it; its reader sees it all the same."""
    with store.write() as session, session.begin():
        ids = sync_checks(session, [CheckSpec("api", "http", "vendor", "GET https://x")], T0)
        for minutes, ok in ((0, True), (1, True), (2, False)):
            record_check_run(
                session,
                check_id=ids["api"],
                probe="laptop",
                started_at=T0 + timedelta(minutes=minutes, microseconds=1500),
                duration_ms=12.345,
                ok=ok,
                failure_class=None if ok else "rate_limited",
                http_status=200 if ok else 429,
                phases_ms={"connect": 1.5, "tls": 2.25, "ttfb": 8.0, "total": 12.3},
                request_id="req_1",
                server_date=T0,
                detail="HTTP 200" if ok else "HTTP 429",
                facts={"address": "10.0.0.1"},
            )
    with store.read() as session:
        runs = list_check_runs(session, checks=["api"])
        passes = [r for r in runs if r.ok]
    failure = runs[0]
    assert (failure.ok, failure.failure_class, failure.http_status) == (False, "rate_limited", 429)
    assert failure.started_at == T0 + timedelta(minutes=2, milliseconds=1)  # to the millisecond
    assert (failure.request_id, failure.server_date) == ("req_1", T0)  # a failure keeps them
    assert failure.detail == "HTTP 429"
    assert len(passes) == 2
    for run in [failure, *passes]:
        assert run.duration_ms == 12.345
        assert run.phases_ms == {"connect": 1.5, "tls": 2.25, "ttfb": 8.0, "total": 12.3}
        assert run.facts == {"address": "10.0.0.1"}
    for run in passes:
        assert (run.detail, run.request_id, run.server_date) == ("HTTP 200", None, None)


def test_sync_follows_the_config_and_check_ids_only_what_matches_it(store: Store) -> None:
    spec = CheckSpec("api", "http", "vendor", "GET https://x", "claude", ["API"])
    moved = CheckSpec("api", "tcp", "control", "x:443", None, [])
    with store.write() as session, session.begin():
        first = sync_checks(session, [spec], T0)
    with store.read() as session:
        assert check_ids(session, [spec]) == first
        assert check_ids(session, [moved]) == {}
    with store.write() as session, session.begin():
        assert sync_checks(session, [moved], T0 + timedelta(days=1)) == first
    with store.read() as session:
        assert check_ids(session, [moved]) == first
        assert check_ids(session, [spec]) == {}
