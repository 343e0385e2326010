"""End to end: real status pages served on 127.0.0.1, polled through the CLI."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import TypedDict

import pytest
from sqlalchemy import func, select

from monitor.cli import main
from monitor.store import open_store
from monitor.store.models import (
    ComponentStatus,
    Incident,
    IncidentUpdate,
    Maintenance,
    Poll,
    Source,
    UpdateComponent,
)
from tests.conftest import WriteConfig, fixture_bytes, run_monitor
from tests.loopback import LoopbackServer

EMPTY_MAINTENANCES = (
    b'{"page": {"id": "kctbh9vrtdwd", "name": "GitHub"}, "scheduled_maintenances": []}'
)


def serve_github(server: LoopbackServer, prefix: str = "/github") -> str:
    server.route(f"{prefix}/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route(
        f"{prefix}/api/v2/incidents.json", fixture_bytes("github/incidents-2026-07-31.json")
    )
    server.route(f"{prefix}/api/v2/scheduled-maintenances.json", EMPTY_MAINTENANCES)
    return server.url + prefix


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def counts(database: Path) -> dict[str, int]:
    store = open_store(f"sqlite:///{database}")
    try:
        with store.read() as session:
            return {
                model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (
                    Incident,
                    IncidentUpdate,
                    UpdateComponent,
                    ComponentStatus,
                    Maintenance,
                )
            }
    finally:
        store.close()


def polls(database: Path) -> dict[str, Poll]:
    """The newest poll of each source."""
    store = open_store(f"sqlite:///{database}")
    try:
        with store.read() as session:
            rows = session.execute(
                select(Source.name, Poll).join(Poll, Poll.source_id == Source.id).order_by(Poll.id)
            )
            return dict(rows.all())
    finally:
        store.close()


@pytest.fixture
def three_sources(server: LoopbackServer, write_config: WriteConfig) -> Path:
    server.route(
        "/sauce/history.atom",
        fixture_bytes("saucelabs/us-west-1-history.atom"),
        content_type="application/atom+xml",
    )
    server.route(
        "/docker/status", fixture_bytes("statusio-docker/status-partial-disruption-2021-04-03.json")
    )
    return write_config(
        sources=[
            {"name": "github", "kind": "statuspage", "url": serve_github(server)},
            {"name": "sauce", "kind": "feed", "url": server.url + "/sauce/history.atom"},
            {"name": "docker", "kind": "statusio", "url": server.url + "/docker/status"},
        ]
    )


def test_it_polls_real_payloads_and_lists_them_as_json(three_sources: Path, capsys) -> None:
    status, out, err = run(capsys, "--config", str(three_sources), "poll")

    assert status == 0, err
    lines = dict(line.split(maxsplit=1) for line in out.splitlines())
    assert lines["github"].startswith("ok: 50 new incidents, 287 new updates, 12 component changes")
    assert lines["sauce"].startswith("ok: 19 new incidents")
    assert "6 maintenance changes" in lines["sauce"]
    assert lines["docker"].startswith("ok: 1 new incident, 1 new update, 16 component changes")

    status, out, _ = run(capsys, "--config", str(three_sources), "incidents", "--json")
    incidents = json.loads(out)

    assert status == 0
    assert len(incidents) == 50 + 19 + 1
    by_id = {(i["source"], i["id"]): i for i in incidents}
    newest_github = by_id[("github", "9tpgqq1h4bs7")]
    assert newest_github == {
        **newest_github,
        "title": "Copilot model Claude Fable 5 experiencing elevated errors",
        "impact": "minor",
        "status": "resolved",
        "started_at": "2026-07-30T09:07:42.413000Z",
        "resolved_at": "2026-07-30T10:12:15.489000Z",
        "components": ["Copilot AI Model Providers"],
        "url": "https://stspg.io/45g8r57kv3n9",
    }
    assert newest_github["updates"][0]["status"] == "resolved"
    assert newest_github["updates"][0]["at"] == "2026-07-30T10:12:15.489000Z"
    registry = by_id[("docker", "606887fcfb9e67053616b5ee")]
    assert registry["resolved_at"] is None
    assert registry["components"] == ["Docker Hub Registry"]
    starts = [i["started_at"] for i in incidents]
    assert starts == sorted(starts, reverse=True)


def test_it_writes_nothing_when_every_page_answers_304(
    three_sources: Path, server: LoopbackServer, capsys
) -> None:
    run(capsys, "--config", str(three_sources), "poll")
    database = three_sources.parent / "monitor.db"
    before = counts(database)

    status, out, _ = run(capsys, "--config", str(three_sources), "poll")

    assert status == 0
    assert server.not_modified == 5  # 3 Statuspage endpoints, the feed, status.io
    assert all("not modified" in line for line in out.splitlines())
    assert counts(database) == before
    assert {p.outcome for p in polls(database).values()} == {"not_modified"}
    conditional = [h for path, h in server.requests[-5:] if "If-None-Match" in h]
    assert len(conditional) == 5


class RouteOptions(TypedDict, total=False):
    """The ``LoopbackServer.route`` keywords the failures below use."""

    body: bytes
    status: int
    content_type: str
    truncate_at: int
    delay: float


FAILURES: dict[str, tuple[RouteOptions, int | None, str]] = {
    "server_error": (
        {"status": 500, "body": b"oops", "content_type": "text/plain"},
        500,
        "HTTP 500 Internal Server Error",
    ),
    "html_page": (
        {
            "body": b"<!DOCTYPE html><html><head><title>We'll be right back</title></head></html>",
            "content_type": "text/html",
        },
        200,
        'expected JSON, got an HTML page: "We\'ll be right back"',
    ),
    "truncated": (
        {"body": fixture_bytes("github/incidents-2026-07-31.json"), "truncate_at": 5000},
        200,
        "connection closed mid-response",
    ),
    "huge": ({"body": b"{" + b" " * 20_000_000 + b"}"}, 200, "exceeds the 5,000,000-byte limit"),
    "hangs": ({"body": b"{}", "delay": 5.0}, None, "timed out after 1s"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_it_logs_a_failed_poll_with_its_reason_and_polls_the_others(
    failure: str, server: LoopbackServer, write_config, capsys
) -> None:
    route, http_status, reason = FAILURES[failure]
    server.route("/bad/status", **route)
    config = write_config(
        sources=[
            {"name": "bad", "kind": "statusio", "url": server.url + "/bad/status"},
            {"name": "github", "kind": "statuspage", "url": serve_github(server)},
        ],
        http='timeout = "1s"\nconnect_timeout = "1s"\nmax_bytes = "5MB"\n',
    )

    status, out, _ = run(capsys, "--config", str(config), "poll")

    assert status == 1
    assert out.splitlines()[0].startswith("bad     error: ")
    assert reason in out.splitlines()[0]
    logged = polls(config.parent / "monitor.db")
    assert logged["bad"].outcome == "error"
    assert reason in (logged["bad"].error or "")
    assert logged["bad"].http_status == http_status
    assert logged["github"].outcome == "ok"
    assert counts(config.parent / "monitor.db")["incident"] == 50


def test_it_reports_a_refused_connection_and_a_missing_page(
    server: LoopbackServer, write_config, capsys
) -> None:
    config = write_config(
        sources=[
            {"name": "closed", "kind": "feed", "url": "http://127.0.0.1:9/history.atom"},
            {"name": "moved", "kind": "statuspage", "url": server.url + "/nowhere"},
        ]
    )

    status, out, _ = run(capsys, "--config", str(config), "poll")

    assert status == 1
    assert "closed  error: connection refused" in out
    assert "moved   error: /api/v2/summary.json: HTTP 404 Not Found" in out


def test_it_stops_following_a_redirect_loop(server: LoopbackServer, write_config, capsys) -> None:
    server.route("/loop", status=302, headers={"Location": "/loop"}, etag=False)
    config = write_config(sources=[{"name": "loop", "kind": "feed", "url": server.url + "/loop"}])

    _, out, _ = run(capsys, "--config", str(config), "poll")

    assert "loop  error: more than 5 redirects" in out


def test_it_shows_health_as_unknown_when_the_last_poll_failed(
    server: LoopbackServer, write_config, capsys
) -> None:
    github = serve_github(server)
    config = write_config(
        sources=[
            {"name": "github", "kind": "statuspage", "url": github},
            {"name": "down", "kind": "statusio", "url": server.url + "/down"},
        ]
    )
    run(capsys, "--config", str(config), "poll")

    status, out, _ = run(capsys, "--config", str(config), "sources")
    rows = {line.split()[0]: re.split(r"\s{2,}", line) for line in out.splitlines()[1:]}

    assert status == 0
    assert rows["github"][4:] == ["all 12 components operational", "ok"]
    assert rows["down"][4:] == ["unknown (last poll failed)", "error: HTTP 404 Not Found"]


def test_it_polls_over_tls_with_a_configured_ca(tls_server, write_config, capsys) -> None:
    server, ca_file = tls_server
    url = serve_github(server)
    trusted = write_config(
        sources=[{"name": "github", "kind": "statuspage", "url": url}],
        http=f'timeout = "2s"\nca_file = "{ca_file}"\n',
    )

    status, out, _ = run(capsys, "--config", str(trusted), "poll")

    assert status == 0, out
    assert out.startswith("github  ok: 50 new incidents")


def test_it_reports_an_untrusted_certificate_as_a_tls_error(
    tls_server, write_config, capsys
) -> None:
    server, _ = tls_server
    config = write_config(
        sources=[{"name": "github", "kind": "statuspage", "url": serve_github(server)}]
    )

    status, out, _ = run(capsys, "--config", str(config), "poll")

    assert status == 1
    assert "github  error: /api/v2/summary.json: TLS error:" in out
    assert "CERTIFICATE_VERIFY_FAILED" in out


def test_it_runs_as_a_real_process(three_sources: Path) -> None:
    def monitor(*args: str) -> subprocess.CompletedProcess[str]:
        return run_monitor(three_sources, *args, timeout=60)

    polled = monitor("poll", "github")
    listed = monitor("incidents", "--source", "github", "--json")
    table = monitor("incidents", "--source", "github", "--limit", "2")

    assert polled.returncode == 0, polled.stderr
    assert polled.stdout.startswith("github  ok: 50 new incidents")
    assert len(json.loads(listed.stdout)) == 50
    assert table.stdout.splitlines()[0].split() == [
        "STARTED",
        "RESOLVED",
        "SOURCE",
        "IMPACT",
        "STATUS",
        "TITLE",
    ]
    assert (
        "Copilot model Claude Fable 5 experiencing elevated errors" in table.stdout.splitlines()[1]
    )


def test_it_lists_maintenances_from_a_feed(three_sources: Path, capsys) -> None:
    run(capsys, "--config", str(three_sources), "poll", "sauce")

    status, out, _ = run(capsys, "--config", str(three_sources), "maintenances", "--json")
    windows = json.loads(out)
    _, table, _ = run(
        capsys,
        "--config",
        str(three_sources),
        "maintenances",
        "--since",
        "2020-07-30",
        "--until",
        "2020-08-02",
    )

    assert status == 0
    assert len(windows) == 6
    unplanned = next(w for w in windows if w["id"] == "r9j0ydp9s62z")
    # "Jul 31, 20:00 PDT" In progress and "21:41 PDT" Completed, in UTC.
    assert unplanned == {
        **unplanned,
        "title": "Sauce Labs Unplanned Maintenance",
        "status": "completed",
        "started_at": "2020-08-01T03:00:00Z",
        "completed_at": "2020-08-01T04:41:00Z",
        "scheduled_for": "2020-08-01T03:00:00Z",
    }
    lines = table.splitlines()
    assert lines[0].split() == ["FROM", "UNTIL", "SOURCE", "STATUS", "COMPONENTS", "TITLE"]
    assert len(lines) == 2
    assert lines[1].startswith("2020-08-01 03:00Z  2020-08-01 04:41Z  sauce")


def test_monitor_poll_asks_a_source_that_is_backing_off(
    server: LoopbackServer, write_config, capsys
) -> None:
    server.route("/busy/status", b"busy", status=503, headers={"Retry-After": "3600"})
    config = write_config(
        sources=[{"name": "busy", "kind": "statusio", "url": server.url + "/busy/status"}]
    )

    status, out, _ = run(capsys, "--config", str(config), "poll")
    _, listed, _ = run(capsys, "--config", str(config), "sources", "--json")
    (backing_off,) = json.loads(listed)
    run(capsys, "--config", str(config), "poll")  # a person asking now means now
    server.route(
        "/busy/status", fixture_bytes("statusio-docker/status-operational-2022-04-23.json")
    )
    recovered_status, _, _ = run(capsys, "--config", str(config), "poll")
    _, listed, _ = run(capsys, "--config", str(config), "sources", "--json")
    (recovered,) = json.loads(listed)

    assert (status, out) == (1, "busy  error: HTTP 503 Service Unavailable (Retry-After: 3600)\n")
    assert backing_off["consecutive_failures"] == 1
    assert backing_off["backoff_until"] is not None
    assert len(server.requests) == 3
    assert recovered_status == 0
    assert (recovered["consecutive_failures"], recovered["backoff_until"]) == (0, None)


def test_it_reads_a_page_that_moved_to_another_host_and_says_so(
    server: LoopbackServer, write_config, capsys
) -> None:
    # 127.0.0.1 and localhost are two hosts to a client: the page moved.
    moved_to = server.url.replace("127.0.0.1", "localhost") + "/new/history.atom"
    server.route("/old/history.atom", status=301, headers={"Location": moved_to}, etag=False)
    server.route("/new/history.atom", fixture_bytes("saucelabs/us-west-1-history.atom"))
    config = write_config(
        sources=[{"name": "sauce", "kind": "feed", "url": server.url + "/old/history.atom"}]
    )

    status, out, err = run(capsys, "--config", str(config), "poll")

    assert status == 0
    assert out.startswith("sauce  ok: ")
    assert f"note: redirected to another host, {moved_to}: update the source's url" in err
    poll = polls(config.parent / "monitor.db")["sauce"]
    assert (poll.outcome, poll.error) == ("ok", None)
    assert poll.note == f"redirected to another host, {moved_to}: update the source's url"
    _, listed, _ = run(capsys, "--config", str(config), "sources")
    assert f"(redirected to another host, {moved_to}" in listed


def test_it_says_nothing_of_a_redirect_on_the_same_host(
    server: LoopbackServer, write_config, capsys
) -> None:
    server.route("/old/history.atom", status=301, headers={"Location": "/new/history.atom"})
    server.route("/new/history.atom", fixture_bytes("saucelabs/us-west-1-history.atom"))
    config = write_config(
        sources=[{"name": "sauce", "kind": "feed", "url": server.url + "/old/history.atom"}]
    )

    status, _, err = run(capsys, "--config", str(config), "poll")

    assert (status, err) == (0, "")
    assert polls(config.parent / "monitor.db")["sauce"].note is None


POLL_KEYS = {
    "name",
    "kind",
    "ok",
    "outcome",
    "started_at",
    "duration_ms",
    "http_status",
    "incidents_seen",
    "new_incidents",
    "updated_incidents",
    "new_updates",
    "component_changes",
    "maintenance_changes",
    "error",
    "notes",
    "consecutive_failures",
    "backoff_until",
}
RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def test_its_json_gives_one_object_per_source_with_what_it_saw_or_why_not(
    server: LoopbackServer, write_config, capsys
) -> None:
    server.route("/bad/status", b"oops", status=500, content_type="text/plain")
    config = write_config(
        sources=[
            {"name": "github", "kind": "statuspage", "url": serve_github(server)},
            {"name": "bad", "kind": "statusio", "url": server.url + "/bad/status"},
        ]
    )

    status, out, _ = run(capsys, "--config", str(config), "poll", "--json")
    again, repeated, _ = run(capsys, "--config", str(config), "poll", "--json", "github")

    assert (status, again) == (1, 0)
    github, bad = json.loads(out)
    for report in (github, bad):
        assert set(report) == POLL_KEYS
        assert RFC3339_UTC.fullmatch(report["started_at"])
        assert isinstance(report["duration_ms"], int)
    assert github == {
        **github,
        "name": "github",
        "kind": "statuspage",
        "ok": True,
        "outcome": "ok",
        "http_status": 200,
        "incidents_seen": 50,
        "new_incidents": 50,
        "new_updates": 287,
        "component_changes": 12,
        "error": None,
        "notes": [],
    }
    assert bad == {
        **bad,
        "name": "bad",
        "kind": "statusio",
        "ok": False,
        "outcome": "error",
        "http_status": 500,
        "incidents_seen": None,
        "new_incidents": 0,
        "error": "HTTP 500 Internal Server Error",
        "consecutive_failures": 1,
    }
    assert RFC3339_UTC.fullmatch(bad["backoff_until"])
    (unchanged,) = json.loads(repeated)
    assert unchanged == {
        **unchanged,
        "name": "github",
        "ok": True,
        "outcome": "not_modified",
        "incidents_seen": None,
        "new_incidents": 0,
        "error": None,
    }
