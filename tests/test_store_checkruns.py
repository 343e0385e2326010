"""A check's newest run across probes, read along the (check, probe, time) key, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.store import Store
from monitor.store.checkruns import (
    CheckSpec,
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
    assert (api.probe, api.started_at, api.ok) == ("ci", T0 + timedelta(minutes=5), False)
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
    assert [(r.probe, r.started_at.minute) for _, r in newest] == [
        ("ci", 5),
        ("eu", 4),
        ("laptop", 3),
    ]
    assert [(r.probe, r.ok) for _, r in failed] == [("ci", False), ("eu", False)]
    assert [r.started_at.minute for _, r in since] == [5, 4, 3]
