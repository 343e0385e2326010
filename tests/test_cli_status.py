"""``monitor status`` read as a user reads it: exact text, and JSON that says no less.

Runs are real: the checks run against a loopback server (one passes, one
gets a 503, one has its ``when_env`` unset, one finds no credentials file)
and the sources are polled from it (one answers 503, one 404), each at an
explicit clock; ``status`` is then asked two minutes later.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from monitor.checks.context import CheckContext
from monitor.checks.runner import run_checks
from monitor.cli import main
from monitor.config import load_config
from monitor.polling.poll import poll_sources
from monitor.store import open_store
from tests.loopback import LoopbackServer

T = datetime(2026, 4, 14, 10, 0, tzinfo=UTC)
ASKED = T + timedelta(minutes=2)


@pytest.fixture
def config(tmp_path: Path, server: LoopbackServer) -> Path:
    """Two sources and four checks, all on ``server``; nothing has run yet."""
    server.route("/v1/messages", b'{"error": {"message": "invalid x-api-key"}}', status=401)
    server.route("/down", b"upstream unavailable", status=503, content_type="text/plain")
    server.route("/vendor/api/v2/summary.json", b"busy", status=503, content_type="text/plain")
    path = tmp_path / "config.toml"
    path.write_text(
        f"""[monitor]
probe = "laptop"

[[source]]
name = "vendor"
kind = "statuspage"
url = "{server.url}/vendor"

[[source]]
name = "feed"
kind = "feed"
url = "{server.url}/gone/history.atom"

[[check]]
name = "api-reachable"
kind = "http"
url = "{server.url}/v1/messages"
expect_status = [401]

[[check]]
name = "api-authenticated"
kind = "http"
url = "{server.url}/v1/messages"
when_env = "MONITOR_TEST_KEY"

[[check]]
name = "api-down"
kind = "http"
url = "{server.url}/down"

[[check]]
name = "credentials"
kind = "credentials_file"
path = "{tmp_path}/nowhere/.credentials.json"
""",
        encoding="utf-8",
    )
    return path


def checked(config: Path) -> None:
    """Run every check once at ``T``, with no environment: ``when_env`` is unset."""
    settings = load_config(config)
    store = open_store(settings.database_url)
    try:
        context = CheckContext(
            config_dir=config.parent, state_dir=config.parent / "state", env={}, now=lambda: T
        )
        run_checks(store, settings, context)
    finally:
        store.close()


def polled(config: Path) -> None:
    """Poll every source once at ``T``."""
    settings = load_config(config)
    store = open_store(settings.database_url)
    try:
        poll_sources(store, settings, clock=lambda: T)
    finally:
        store.close()


def monitor(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    """``monitor ARGS`` at ``ASKED``: its exit status and what it printed on stdout.

    Not stderr: the loopback server's threads write there when the poller
    drops the other requests of a page whose first answer failed.
    """
    capsys.readouterr()
    with freeze_time(ASKED), pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *args])
    out, _ = capsys.readouterr()
    return int(exited.value.code or 0), out


def test_on_a_fresh_database_nothing_has_run_and_nothing_fails(config: Path, capsys) -> None:
    status, out = monitor(capsys, config, "status")

    assert status == 0
    assert out == (
        "service: never ran for probe laptop\n"
        "WHAT                     LAST   STATE\n"
        "source vendor            never  unknown (never polled)\n"
        "source feed              never  unknown (never polled)\n"
        "check api-reachable      never  never run\n"
        "check api-authenticated  never  never run\n"
        "check api-down           never  never run\n"
        "check credentials        never  never run\n"
        "failing now: nothing\n"
    )


def test_it_shows_a_passing_a_failing_and_two_skipped_checks_each_said_once(
    config: Path, capsys
) -> None:
    checked(config)

    status, out = monitor(capsys, config, "status")

    assert status == 1
    nowhere = config.parent / "nowhere" / ".credentials.json"
    assert out == (
        "service: never ran for probe laptop\n"
        "WHAT                     LAST    STATE\n"
        "source vendor            never   unknown (never polled)\n"
        "source feed              never   unknown (never polled)\n"
        "check api-reachable      2m ago  ok\n"
        "check api-authenticated  2m ago  skipped: MONITOR_TEST_KEY is not set\n"
        "check api-down           2m ago  server_error: HTTP 503, expected 200: "
        "upstream unavailable\n"
        f"check credentials        2m ago  skipped: no credentials file at {nowhere}\n"
        "failing now: check api-down\n"
    )


def test_results_says_skipped_once_per_skipped_run(config: Path, capsys) -> None:
    checked(config)

    _, out = monitor(capsys, config, "results", "--check", "api-authenticated")

    header, row = out.splitlines()
    assert header.split() == ["AT", "CHECK", "RESULT", "CLASS", "STATUS", "LATENCY", "DETAIL"]
    assert row.startswith("2026-04-14 10:00Z  api-authenticated  skipped  -      -       ")
    assert row.endswith(" ms     MONITOR_TEST_KEY is not set")
    assert row.count("skipped") == 1


def test_a_failed_poll_is_failing_and_says_its_source_is_unknown(config: Path, capsys) -> None:
    polled(config)

    status, out = monitor(capsys, config, "status")

    assert status == 1
    assert out == (
        "service: never ran for probe laptop\n"
        "WHAT                     LAST    STATE\n"
        "source vendor            2m ago  unknown (backing off until 10:05Z after 1 failure): "
        "/api/v2/summary.json: HTTP 503 Service Unavailable; /api/v2/incidents.json: HTTP 404 Not Found; "
        "/api/v2/scheduled-maintenances.json: HTTP 404 Not Found\n"
        "source feed              2m ago  unknown (last poll failed): HTTP 404 Not Found\n"
        "check api-reachable      never   never run\n"
        "check api-authenticated  never   never run\n"
        "check api-down           never   never run\n"
        "check credentials        never   never run\n"
        "failing now: source vendor, source feed\n"
    )


RUN_KEYS = {
    "check",
    "probe",
    "started_at",
    "ok",
    "skipped",
    "failure_class",
    "http_status",
    "duration_ms",
    "detail",
    "request_id",
    "phases_ms",
}
SOURCE_KEYS = {
    "name",
    "kind",
    "url",
    "last_poll",
    "last_success_at",
    "page_status",
    "health",
    "components",
    "open_incidents",
    "consecutive_failures",
    "backoff_until",
}
POLL_KEYS = {"at", "outcome", "http_status", "error", "note", "duration_ms", "bytes"}


def test_its_json_has_every_key_and_every_fact_the_text_shows(config: Path, capsys) -> None:
    checked(config)
    polled(config)

    _, text = monitor(capsys, config, "status")
    status, out = monitor(capsys, config, "status", "--json")
    document = json.loads(out)

    assert status == 0  # --json says what fails; it is not an error to ask
    assert set(document) == {"at", "service", "probes", "sources", "checks", "failing"}
    assert document["at"] == "2026-04-14T10:02:00Z"
    assert document["service"] == {
        "probe": "laptop",
        "state": "never ran",
        "running": False,
        "holder": None,
        "host": None,
        "pid": None,
        "started_at": None,
        "last_seen": None,
        "stopped_at": None,
    }
    assert [(p["probe"], p["state"]) for p in document["probes"]] == [("laptop", "no service")]
    for source in document["sources"]:
        assert set(source) == SOURCE_KEYS
        assert set(source["last_poll"]) == POLL_KEYS
    vendor, feed = document["sources"]
    assert (vendor["name"], vendor["last_poll"]["at"], vendor["last_poll"]["outcome"]) == (
        "vendor",
        "2026-04-14T10:00:00Z",
        "error",
    )
    assert vendor["last_poll"]["error"].startswith("/api/v2/summary.json: HTTP 503")
    assert vendor["backoff_until"] == "2026-04-14T10:05:00Z"
    assert feed["last_poll"]["error"] == "HTTP 404 Not Found"
    for check in document["checks"]:
        assert set(check) == {"check", "probe", "state", "last_run"}
        assert set(check["last_run"]) == RUN_KEYS
        assert check["last_run"]["started_at"] == "2026-04-14T10:00:00Z"
    assert [(c["check"], c["state"], c["last_run"]["detail"]) for c in document["checks"]] == [
        ("api-reachable", "ok", "HTTP 401 as expected (the API is up and its auth layer answers)"),
        ("api-authenticated", "skipped", "MONITOR_TEST_KEY is not set"),
        ("api-down", "failed", "HTTP 503, expected 200: upstream unavailable"),
        (
            "credentials",
            "skipped",
            f"no credentials file at {config.parent / 'nowhere' / '.credentials.json'}",
        ),
    ]
    assert document["failing"] == ["source vendor", "source feed", "check api-down"]
    assert text_rows(text) == json_rows(document)


def text_rows(text: str) -> list[tuple[str, str]]:
    """(WHAT, STATE) of each row of the table, read back from the text."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("WHAT"))
    state_at = lines[start].index("STATE")
    return [(line[:state_at].split()[1], line[state_at:]) for line in lines[start + 1 : -1]]


def json_rows(document: dict[str, Any]) -> list[tuple[str, str]]:
    """The same rows, built from the JSON alone: it must hold what the text says."""
    rows = []
    for source in document["sources"]:
        error = (source["last_poll"] or {}).get("error")
        rows.append((source["name"], f"{source['health']}: {error}" if error else source["health"]))
    for check in document["checks"]:
        run = check["last_run"]
        said = {"ok": "ok", "skipped": "skipped", "failed": run and run["failure_class"]}
        state = check["state"]
        cell = "never run" if run is None else said[state]
        rows.append((check["check"], cell if state == "ok" else f"{cell}: {run['detail']}"))
    return rows
