"""poll_sources under controlled time: what gets dated when, and change detection end to end."""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from monitor.cli import main
from monitor.config import load_config
from monitor.polling.poll import poll_sources
from monitor.store.models import ComponentStatus, Incident, Poll, Source
from tests.conftest import fixture_bytes
from tests.loopback import LoopbackServer

EMPTY_MAINTENANCES = b'{"scheduled_maintenances": []}'


def summary_with(component: str, status: str) -> bytes:
    document = json.loads(fixture_bytes("github/summary-2026-07-31.json"))
    for row in document["components"]:
        if row["name"] == component:
            row["status"] = status
    return json.dumps(document).encode()


def test_it_dates_polls_and_transitions_by_the_clock_it_is_given(
    server: LoopbackServer, write_config, store_for
) -> None:
    server.route("/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route("/api/v2/incidents.json", fixture_bytes("github/incidents-2026-07-31.json"))
    server.route("/api/v2/scheduled-maintenances.json", EMPTY_MAINTENANCES)
    config = load_config(
        write_config(sources=[{"name": "github", "kind": "statuspage", "url": server.url}])
    )
    store = store_for(config)

    # The clock is passed in, not frozen: freezegun patches time.monotonic
    # differently in worker threads, which would skew the fetch deadlines.
    (first,) = poll_sources(store, config, clock=lambda: datetime(2026, 4, 13, 15, 31, tzinfo=UTC))
    server.route("/api/v2/summary.json", summary_with("API Requests", "major_outage"))
    (second,) = poll_sources(store, config, clock=lambda: datetime(2026, 4, 13, 15, 36, tzinfo=UTC))

    assert (first.outcome, first.stats.component_changes) == ("ok", 12)
    assert (second.outcome, second.stats.component_changes, second.stats.new_incidents) == (
        "ok",
        1,
        0,
    )
    with store.read() as session:
        started = session.scalars(select(Poll.started_at).order_by(Poll.id)).all()
        api = session.scalars(
            select(ComponentStatus)
            .where(ComponentStatus.component == "API Requests")
            .order_by(ComponentStatus.observed_at)
        ).all()
        first_seen = {i.first_seen_at for i in session.scalars(select(Incident))}
    assert started == [
        datetime(2026, 4, 13, 15, 31, tzinfo=UTC),
        datetime(2026, 4, 13, 15, 36, tzinfo=UTC),
    ]
    assert [(c.status, c.observed_at) for c in api] == [
        ("operational", datetime(2026, 4, 13, 15, 31, tzinfo=UTC)),
        ("major_outage", datetime(2026, 4, 13, 15, 36, tzinfo=UTC)),
    ]
    assert first_seen == {datetime(2026, 4, 13, 15, 31, tzinfo=UTC)}


def test_it_warns_about_allow_listed_components_the_page_does_not_have(
    server: LoopbackServer, write_config, store_for
) -> None:
    server.route("/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route("/api/v2/incidents.json", b'{"incidents": []}')
    server.route("/api/v2/scheduled-maintenances.json", EMPTY_MAINTENANCES)
    config = load_config(
        write_config(
            sources=[
                {
                    "name": "github",
                    "kind": "statuspage",
                    "url": server.url,
                    "components": ["API Requests", "Git Operation"],
                }
            ]
        )
    )

    (report,) = poll_sources(store_for(config), config)

    assert report.stats.component_changes == 1
    assert report.notes == (
        "component 'Git Operation' is not on this page (did you mean 'Git Operations'?); "
        "check source 'github' components",
    )


def test_it_keeps_what_answered_when_one_endpoint_of_a_page_fails(
    server: LoopbackServer, write_config, store_for
) -> None:
    server.route("/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route(
        "/api/v2/incidents.json",
        b"<html><title>502 Bad Gateway</title></html>",
        content_type="text/html",
    )
    config = load_config(
        write_config(sources=[{"name": "github", "kind": "statuspage", "url": server.url}])
    )

    (report,) = poll_sources(store_for(config), config)

    assert report.outcome == "error"
    assert report.error == (
        "/api/v2/incidents.json: expected JSON, got an HTML page: '502 Bad Gateway'; "
        "/api/v2/scheduled-maintenances.json: HTTP 404 Not Found"
    )
    assert report.http_status == 200  # the first failure's: the HTML came with a 200
    assert report.stats.component_changes == 12


def test_it_shows_how_long_ago_each_source_was_polled(
    server: LoopbackServer, write_config, store_for, capsys
) -> None:
    server.route("/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route("/api/v2/incidents.json", b'{"incidents": []}')
    server.route("/api/v2/scheduled-maintenances.json", EMPTY_MAINTENANCES)
    path = write_config(sources=[{"name": "github", "kind": "statuspage", "url": server.url}])
    config = load_config(path)
    poll_sources(store_for(config), config, clock=lambda: datetime(2026, 4, 13, 15, 31, tzinfo=UTC))

    with freeze_time("2026-04-13 15:38:30"), pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "sources"])
    out = capsys.readouterr().out

    assert exited.value.code == 0
    assert re.split(r"\s{2,}", out.splitlines()[1]) == [
        "github",
        "statuspage",
        "5m",
        "2026-04-13 15:31Z (7m ago)",
        "all 12 components operational",
        "ok",
    ]


def test_it_drops_stored_etags_when_the_component_allow_list_changes(
    server: LoopbackServer, write_config, store_for
) -> None:
    server.route("/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route("/api/v2/incidents.json", b'{"incidents": []}')
    server.route("/api/v2/scheduled-maintenances.json", EMPTY_MAINTENANCES)

    def config_with(components: list[str]):
        source = {
            "name": "github",
            "kind": "statuspage",
            "url": server.url,
            "components": components,
        }
        return load_config(write_config(sources=[source]))

    narrow, wide = config_with(["API Requests"]), config_with(["API Requests", "Actions"])
    store = store_for(narrow)
    poll_sources(store, narrow)
    (unchanged,) = poll_sources(store, narrow)
    (widened,) = poll_sources(store, wide)

    assert unchanged.outcome == "not_modified"
    assert (widened.outcome, widened.stats.component_changes) == ("ok", 1)
    with store.read() as session:
        recorded = set(session.scalars(select(ComponentStatus.component)))
    assert recorded == {"API Requests", "Actions"}


# --- back-off -------------------------------------------------------------------------------

T0 = datetime(2026, 4, 13, 15, 31, tzinfo=UTC)
STATUSIO_OK = "statusio-docker/status-operational-2022-04-23.json"


def at(seconds: float):
    """A clock fixed ``seconds`` after T0."""
    return lambda: T0 + timedelta(seconds=seconds)


def backoff_row(store, name: str) -> tuple[int, datetime | None]:
    with store.read() as session:
        source = session.scalars(select(Source).where(Source.name == name)).one()
        return source.consecutive_failures, source.backoff_until


def poll_count(store) -> int:
    with store.read() as session:
        return len(session.scalars(select(Poll.id)).all())


@pytest.fixture
def vendor(server: LoopbackServer, write_config, store_for):
    """A status.io source polled every minute, and its store; the test sets what it answers."""
    config = load_config(
        write_config(
            sources=[
                {
                    "name": "vendor",
                    "kind": "statusio",
                    "url": server.url + "/vendor/status",
                    "interval": "1m",
                }
            ]
        )
    )
    return config, store_for(config)


def test_it_backs_off_for_as_long_as_retry_after_asks_and_then_polls_again(
    server: LoopbackServer, vendor
) -> None:
    config, store = vendor
    server.route("/vendor/status", b"busy", status=503, headers={"Retry-After": "120"})

    (failed,) = poll_sources(store, config, clock=at(0), respect_backoff=True)
    # 89 s: still inside the back-off even allowing the 30 s scheduling jitter.
    (waiting,) = poll_sources(store, config, clock=at(89), respect_backoff=True)
    asked_while_waiting = len(server.requests)
    (again,) = poll_sources(store, config, clock=at(120), respect_backoff=True)

    assert (failed.outcome, failed.http_status, failed.retry_after) == (
        "error",
        503,
        timedelta(seconds=120),
    )
    assert (failed.consecutive_failures, failed.backoff_until) == (1, T0 + timedelta(seconds=120))
    assert (waiting.outcome, waiting.backoff_until, waiting.consecutive_failures) == (
        "backing_off",
        T0 + timedelta(seconds=120),
        1,
    )
    assert waiting.error is None
    assert asked_while_waiting == 1  # nothing was asked of the vendor inside the window
    assert len(server.requests) == 2
    # The second failure doubles the interval (2m), which equals the Retry-After.
    assert again.outcome == "error"
    assert backoff_row(store, "vendor") == (2, T0 + timedelta(seconds=240))
    assert poll_count(store) == 2  # a skipped poll leaves no row: nothing was polled


def test_it_ends_the_back_off_on_the_first_good_answer(server: LoopbackServer, vendor) -> None:
    config, store = vendor
    server.route("/vendor/status", b"busy", status=429, headers={"Retry-After": "600"})
    poll_sources(store, config, clock=at(0))
    server.route("/vendor/status", fixture_bytes(STATUSIO_OK))

    (recovered,) = poll_sources(store, config, clock=at(600), respect_backoff=True)
    (unchanged,) = poll_sources(store, config, clock=at(660), respect_backoff=True)

    assert (recovered.outcome, recovered.backoff_until, recovered.consecutive_failures) == (
        "ok",
        None,
        0,
    )
    assert unchanged.outcome == "not_modified"
    assert backoff_row(store, "vendor") == (0, None)


def test_it_grows_the_back_off_while_the_vendor_keeps_failing(
    server: LoopbackServer, vendor
) -> None:
    config, store = vendor
    server.route("/vendor/status", b"oops", status=500)
    seen = []
    elapsed = 0.0
    for _ in range(4):
        (report,) = poll_sources(store, config, clock=at(elapsed), respect_backoff=True)
        assert report.outcome == "error"
        assert report.backoff_until is not None
        seen.append(report.backoff_until - (T0 + timedelta(seconds=elapsed)))
        elapsed = (report.backoff_until - T0).total_seconds()

    assert seen == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert len(server.requests) == 4


def test_an_explicit_poll_ignores_the_back_off(server: LoopbackServer, vendor) -> None:
    config, store = vendor
    server.route("/vendor/status", b"busy", status=503, headers={"Retry-After": "3600"})
    poll_sources(store, config, clock=at(0))

    (report,) = poll_sources(store, config, clock=at(1))

    assert report.outcome == "error"
    assert len(server.requests) == 2
    assert report.consecutive_failures == 2


def test_a_missing_page_does_not_back_off(server: LoopbackServer, vendor) -> None:
    config, store = vendor  # no route: the server answers 404

    (missing,) = poll_sources(store, config, clock=at(0), respect_backoff=True)
    (again,) = poll_sources(store, config, clock=at(1), respect_backoff=True)

    assert (missing.outcome, missing.http_status, missing.backoff_until) == ("error", 404, None)
    assert again.outcome == "error"
    assert len(server.requests) == 2
    assert backoff_row(store, "vendor") == (0, None)


def test_a_missing_page_ends_a_back_off_streak(server: LoopbackServer, vendor) -> None:
    config, store = vendor
    server.route("/vendor/status", b"oops", status=502)
    poll_sources(store, config, clock=at(0))
    poll_sources(store, config, clock=at(60))
    del server.routes["/vendor/status"]

    # Failures at 0s and 60s (a 1m interval, doubled): backing off until 180s.
    poll_sources(store, config, clock=at(180), respect_backoff=True)

    assert backoff_row(store, "vendor") == (0, None)


def test_a_refused_connection_backs_off(write_config, store_for) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = load_config(
        write_config(
            sources=[{"name": "closed", "kind": "feed", "url": f"http://127.0.0.1:{port}/feed"}]
        )
    )
    store = store_for(config)

    (report,) = poll_sources(store, config, clock=at(0))

    assert (report.error, report.retry_after) == ("connection refused", None)
    assert backoff_row(store, "closed") == (1, T0 + timedelta(minutes=5))


def test_a_failing_summary_backs_off_but_keeps_the_incidents(
    server: LoopbackServer, write_config, store_for
) -> None:
    server.route("/api/v2/summary.json", b"oops", status=503, headers={"Retry-After": "900"})
    server.route("/api/v2/incidents.json", fixture_bytes("github/incidents-2026-07-31.json"))
    server.route("/api/v2/scheduled-maintenances.json", EMPTY_MAINTENANCES)
    config = load_config(
        write_config(sources=[{"name": "github", "kind": "statuspage", "url": server.url}])
    )
    store = store_for(config)

    (report,) = poll_sources(store, config, clock=at(0))

    assert report.stats.new_incidents == 50
    assert report.backoff_until == T0 + timedelta(minutes=15)


def test_a_rate_limit_stops_the_poll_at_the_first_endpoint(
    server: LoopbackServer, write_config, store_for
) -> None:
    server.route("/api/v2/summary.json", b"slow down", status=429)
    server.route("/api/v2/incidents.json", b'{"incidents": []}')
    config = load_config(
        write_config(sources=[{"name": "github", "kind": "statuspage", "url": server.url}])
    )

    (report,) = poll_sources(store_for(config), config, clock=at(0))

    assert report.error == "/api/v2/summary.json: HTTP 429 Too Many Requests"
    assert [path for path, _ in server.requests] == ["/api/v2/summary.json"]
    assert report.backoff_until == T0 + timedelta(minutes=5)


def test_it_polls_the_sources_that_are_due_and_reports_in_config_order(
    server: LoopbackServer, write_config, store_for
) -> None:
    server.route("/busy", b"busy", status=503, headers={"Retry-After": "300"})
    server.route("/fine", fixture_bytes(STATUSIO_OK))
    config = load_config(
        write_config(
            sources=[
                {"name": "busy", "kind": "statusio", "url": server.url + "/busy"},
                {"name": "fine", "kind": "statusio", "url": server.url + "/fine"},
            ]
        )
    )
    store = store_for(config)
    poll_sources(store, config, clock=at(0), respect_backoff=True)

    reports = poll_sources(store, config, clock=at(60), respect_backoff=True)

    assert [(r.source, r.outcome) for r in reports] == [
        ("busy", "backing_off"),
        ("fine", "not_modified"),
    ]
    assert [path for path, _ in server.requests].count("/busy") == 1


def test_it_shows_the_back_off_in_monitor_sources(
    server: LoopbackServer, write_config, store_for, capsys
) -> None:
    server.route("/vendor/status", b"busy", status=503, headers={"Retry-After": "120"})
    path = write_config(
        sources=[{"name": "vendor", "kind": "statusio", "url": server.url + "/vendor/status"}]
    )
    config = load_config(path)
    store = store_for(config)
    poll_sources(store, config, clock=at(0))
    poll_sources(store, config, clock=at(300))

    with freeze_time("2026-04-13 15:40:00"):
        main_exit(["--config", str(path), "sources"])
        table_out = capsys.readouterr().out
        main_exit(["--config", str(path), "sources", "--json"])
        (listed,) = json.loads(capsys.readouterr().out)
    with freeze_time("2026-04-13 15:47:00"):
        main_exit(["--config", str(path), "sources"])
        after_out = capsys.readouterr().out

    # The second failure at 15:36 waits two 5m intervals: until 15:46.
    assert re.split(r"\s{2,}", table_out.splitlines()[1])[4:] == [
        "unknown (backing off until 15:46Z after 2 failures)",
        "error: HTTP 503 Service Unavailable (Retry-After: 120)",
    ]
    assert (listed["consecutive_failures"], listed["backoff_until"]) == (
        2,
        "2026-04-13T15:46:00Z",
    )
    assert re.split(r"\s{2,}", after_out.splitlines()[1])[4] == "unknown (last poll failed)"


def test_it_dates_a_back_off_that_ends_on_another_day(
    server: LoopbackServer, write_config, store_for, capsys
) -> None:
    server.route("/vendor/status", b"busy", status=503, headers={"Retry-After": "36000"})
    path = write_config(
        sources=[{"name": "vendor", "kind": "statusio", "url": server.url + "/vendor/status"}]
    )
    config = load_config(path)
    poll_sources(store_for(config), config, clock=at(0))

    with freeze_time("2026-04-13 15:32:00"):
        main_exit(["--config", str(path), "sources"])

    row = re.split(r"\s{2,}", capsys.readouterr().out.splitlines()[1])
    assert row[4] == "unknown (backing off until 2026-04-14 01:31Z after 1 failure)"


def main_exit(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 0


def test_every_source_kind_the_config_accepts_has_endpoints() -> None:
    from typing import get_args

    from monitor.sources.registry import ENDPOINTS, SourceKind, endpoints_for

    assert set(ENDPOINTS) == set(get_args(SourceKind))
    for kind in get_args(SourceKind):
        assert all(callable(e.parse) for e in endpoints_for(kind, "https://status.example.com"))
