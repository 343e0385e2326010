"""``monitor report`` end to end: GitHub's real history served on 127.0.0.1, runs around it.

The range is 2026-07-16 08:00 to 2026-07-17 02:00 UTC. From the fixture
(tests/fixtures/github/incidents-2026-07-31.json), three incidents fall in it:

* "Disruption with some GitHub services" (critical, 09:13-12:20, no
  components): the service only ran from 15:00, so **not watched**.
* "Claude Fable 5 experiencing degraded performance" (minor, 21:05-22:04, on
  Copilot AI Model Providers): watched, but the API checks do not use that
  component: **not seen**.
* "Degraded REST API Availability" (major, declared 22:51:13.718, resolved
  00:14:08.536, on API Requests; an update states 22:21-23:50; API Requests
  degraded from the 22:58:23 update to the 00:00:47 one).

The checks saw (every five minutes):

* api 500s 22:30-23:20, first pass 23:25: the REST API incident, **first seen
  22:30:00**, so declared 21 min 13.7 s later (**+21.2 min**), resolved 49 min
  8.5 s after the checks recovered at 23:25 (**49.1 min**);
* api 500s 16:00-16:20, first pass 16:25, the control fine: **never declared,
  25.0 min**;
* api 503s 18:00-18:05 while the control timed out 18:00-18:05: this side's
  network, neither undeclared nor downtime.

Watched: the heartbeat, 15:00-01:00, **600 min**. Down as measured: 25 + 55
(22:30-23:25) = **80 min**, so 86.7 %. Down as declared: API Requests' hit,
widened to the stated 22:21 start (its first degraded update came within ten
minutes of the declaration) and ending at 00:00:47.214: **99.8 min**, so
83.4 %. Outages seen: the REST API incident and the undeclared one, so **50 %**
declared.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.checks.runner import spec_of
from monitor.cli import main
from monitor.config import load_config
from monitor.store import open_store
from monitor.store.checkruns import record_check_run, sync_checks
from monitor.store.heartbeats import start_heartbeat, stop_heartbeat
from tests.conftest import fixture_bytes
from tests.loopback import LoopbackServer

SINCE, UNTIL = "2026-07-16T08:00:00Z", "2026-07-17T02:00:00Z"
PAGE = {"id": "kctbh9vrtdwd", "name": "GitHub", "url": "https://www.githubstatus.com"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7, day, hour, minute, tzinfo=UTC)


def every_five(start: datetime, end: datetime) -> list[datetime]:
    times, now = [], start
    while now <= end:
        times.append(now)
        now += timedelta(minutes=5)
    return times


@pytest.fixture
def github(tmp_path: Path, server: LoopbackServer, database_url: str) -> Path:
    server.route("/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route("/api/v2/incidents.json", fixture_bytes("github/incidents-2026-07-31.json"))
    server.route(
        "/api/v2/scheduled-maintenances.json",
        json.dumps({"page": PAGE, "scheduled_maintenances": []}).encode(),
    )
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[monitor]
probe = "laptop"

[database]
url = "{database_url}"

[[source]]
name = "github"
kind = "statuspage"
url = "{server.url}"

[[check]]
name = "api"
kind = "http"
url = "https://api.github.com/user"
depends_on = {{ source = "github", components = ["API Requests"] }}

[[check]]
name = "control"
kind = "http"
role = "control"
url = "https://www.gstatic.com/generate_204"
expect_status = [204]
""",
        encoding="utf-8",
    )
    assert run(path, "poll")[0] == 0
    record(path)
    return path


def record(path: Path) -> None:
    """The runs the module docstring lists, and the heartbeat 15:00-01:00."""
    config = load_config(path)
    store = open_store(config.database_url)
    failing = {
        **dict.fromkeys(every_five(at(16, 16), at(16, 16, 20)), ("server_error", 500)),
        **dict.fromkeys(every_five(at(16, 18), at(16, 18, 5)), ("server_error", 503)),
        **dict.fromkeys(every_five(at(16, 22, 30), at(16, 23, 20)), ("server_error", 500)),
    }
    control_down = set(every_five(at(16, 18), at(16, 18, 5)))
    try:
        beat = start_heartbeat(store, probe="laptop", now=at(16, 15), pid=7, host="box")
        with store.write() as session, session.begin():
            ids = sync_checks(session, [spec_of(c) for c in config.checks], at(16, 15))
            for when in every_five(at(16, 15), at(17, 0, 55)):
                _run(session, ids["api"], when, failing.get(when))
                down = ("connect_timeout", None) if when in control_down else None
                _run(session, ids["control"], when + timedelta(seconds=20), down)
        stop_heartbeat(store, beat, at(17, 1))
    finally:
        store.close()


def _run(session: Any, check_id: int, when: datetime, bad: tuple[str, int | None] | None) -> None:
    record_check_run(
        session,
        check_id=check_id,
        probe="laptop",
        started_at=when,
        duration_ms=30.0,
        ok=bad is None,
        skipped=False,
        failure_class=bad[0] if bad else None,
        http_status=bad[1] if bad else 200,
        detail=f"HTTP {bad[1]}" if bad else "HTTP 200",
        facts={},
    )


def run(config: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *args])
    return int(exited.value.code or 0), "", ""


def report_json(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> dict[str, Any]:
    capsys.readouterr()
    status, _, _ = run(config, "report", "--since", SINCE, "--until", UNTIL, "--json", *args)
    out, err = capsys.readouterr()
    assert status == 0, err
    answer: dict[str, Any] = json.loads(out)
    return answer


def test_each_incident_is_seen_missed_or_unwatched_with_its_lag(github, capsys):
    [source] = report_json(capsys, github)["sources"]
    incidents = {i["title"]: i for i in source["incidents"]}
    outage = incidents["Degraded REST API Availability"]
    assert (outage["seen"], outage["first_seen"], outage["seen_by"]) == (
        True,
        "2026-07-16T22:30:00Z",
        ["api"],
    )
    assert outage["lag_minutes"] == 21.2  # declared 22:51:13.7, seen 22:30
    assert outage["recovered"] == "2026-07-16T23:25:00Z"
    assert outage["resolved_after_minutes"] == 49.1  # resolved 00:14:08.5
    fable = incidents["Claude Fable 5 experiencing degraded performance"]
    assert (fable["watched"], fable["seen"]) == (True, False)
    early = incidents["Disruption with some GitHub services"]
    assert (early["watched"], early["seen"]) == (False, False)
    assert source["incidents_by_impact"] == {"critical": 1, "major": 1, "minor": 1}
    assert source["median_lag_minutes"] == 21.2


def test_an_outage_nobody_declared_is_listed_and_this_sides_network_is_not(github, capsys):
    answer = report_json(capsys, github)
    [source] = answer["sources"]
    assert answer["control_ran"] is True
    assert source["undeclared"] == [
        {
            "checks": ["api"],
            "start": "2026-07-16T16:00:00Z",
            "end": "2026-07-16T16:25:00Z",
            "minutes": 25.0,
            "failure_classes": ["server_error"],
        }
    ]
    assert (source["seen_outages"], source["declared_share"]) == (2, 0.5)


def test_uptime_as_declared_and_as_measured_over_watched_time_only(github, capsys):
    answer = report_json(capsys, github)
    [source] = answer["sources"]
    assert answer["range_minutes"] == 18 * 60
    assert answer["watched_minutes"] == 600.0
    assert source["measured_down_minutes"] == 80.0
    assert source["declared_down_minutes"] == 99.8
    assert source["uptime_measured"] == pytest.approx(1 - 80 / 600)
    assert source["uptime_declared"] == pytest.approx(1 - 99.8 / 600)


def test_the_text_says_the_same(github, capsys):
    capsys.readouterr()
    run(github, "report", "--since", SINCE, "--until", UNTIL)
    out = capsys.readouterr().out
    assert out.startswith(
        "Declared versus seen, 2026-07-16 08:00 UTC \u2013 2026-07-17 02:00 UTC: "
        "watched 55.6 % of it (10 h 0 min).\n"
    )
    assert "  declared: 3 incidents (1 critical, 1 major, 1 minor); seen by your checks 1, " in out
    assert "not seen 1, not watched 1\n" in out
    assert "  median declaration lag: declared 21.2 min after your checks saw it\n" in out
    assert "  outages seen 2, declared 50.0 %\n" in out
    assert "  uptime over watched time: declared 83.367 %, measured 86.667 %\n" in out
    assert (
        "  - \u201cDegraded REST API Availability\u201d (major), declared 2026-07-16 22:51 UTC: "
        "seen 2026-07-16 22:30 UTC by api, declared 21.2 min after your checks saw it; "
        "resolved 49.1 min after they recovered\n"
    ) in out
    assert "\u201cDisruption with some GitHub services\u201d (critical), declared" in out
    assert ": not watched then\n" in out
    assert (
        "  - never declared: api failed (server_error) 2026-07-16 16:00 UTC \u2013 "
        "2026-07-16 16:25 UTC, 25 min\n"
    ) in out


def test_a_range_nobody_watched_says_so_and_claims_nothing(github, capsys):
    answer = report_json(capsys, github, "--source", "github")
    assert answer["watched_minutes"] > 0
    capsys.readouterr()
    status, _, _ = run(
        github, "report", "--since", "2026-07-10T00:00:00Z", "--until", "2026-07-11T00:00:00Z"
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "watched 0.0 % of it (0 min)" in out
    assert "Nothing was watched in this range" in out
    assert "uptime over watched time: declared n/a, measured n/a" in out


def test_an_unknown_source_is_a_usage_error_naming_the_configured_ones(github, capsys):
    status, _, _ = run(github, "report", "--source", "gitlab")
    assert status == 2
    assert "no source named 'gitlab' in the config (sources: github)" in capsys.readouterr().err
