"""poll_sources under controlled time: what gets dated when, and change detection end to end."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from monitor.cli import main
from monitor.config import load_config
from monitor.polling import poll_sources
from monitor.store.models import ComponentStatus, Incident, Poll
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
        "component 'Git Operation' is not on this page; check source 'github' components",
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
