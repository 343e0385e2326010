"""``monitor why`` end to end: status pages and APIs served on 127.0.0.1, through the CLI.

Each scenario is one of the cases the tool exists for: the April 2026
outages (them), a stale token on disk (me), a VPN (the path between), an
outage the vendor has not declared yet, and the quiet and unwatched times.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from monitor.cli import main
from tests.conftest import run_monitor
from tests.loopback import LoopbackServer

PAGE = {"id": "tymt9n04zgry", "name": "Claude", "url": "https://status.claude.com"}
API = "Claude API (api.anthropic.com)"
LOGIN = "claude.ai"
UNRESOLVABLE = "monitor-why-test.invalid"


def update(
    status: str, body: str, at: str, components: list[tuple[str, str, str]]
) -> dict[str, Any]:
    return {
        "id": f"u-{status}-{at}",
        "status": status,
        "body": body,
        "created_at": at,
        "display_at": at,
        "affected_components": [
            {"code": name[:8], "name": name, "old_status": old, "new_status": new}
            for name, old, new in components
        ],
    }


def incident(
    ident: str, name: str, impact: str, start: str, end: str, updates: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": ident,
        "name": name,
        "status": "resolved",
        "impact": impact,
        "created_at": start,
        "started_at": start,
        "resolved_at": end,
        "updated_at": end,
        "shortlink": f"https://stspg.io/{ident}",
        "incident_updates": updates,
        "components": [{"name": API}, {"name": LOGIN}],
    }


# The two April 2026 incidents. The login one was declared at 16:10, long
# after users saw it; only its final update states the real window.
APRIL = {
    "page": PAGE,
    "incidents": [
        incident(
            "adminapi0414",
            "Degraded performance on admin API endpoints",
            "major",
            "2026-04-14T09:24:00Z",
            "2026-04-14T15:21:00Z",
            [
                update(
                    "resolved",
                    "This incident has been resolved.",
                    "2026-04-14T15:21:00Z",
                    [(API, "degraded_performance", "operational")],
                ),
                update(
                    "investigating",
                    "We are investigating degraded performance on admin API endpoints.",
                    "2026-04-14T09:24:00Z",
                    [(API, "operational", "degraded_performance")],
                ),
            ],
        ),
        incident(
            "login0413",
            "Elevated errors on login",
            "major",
            "2026-04-13T16:10:00Z",
            "2026-04-13T16:40:00Z",
            [
                update(
                    "resolved",
                    "Users saw elevated errors on login between 15:31 to 16:19 UTC. "
                    "This has been resolved.",
                    "2026-04-13T16:40:00Z",
                    [(LOGIN, "partial_outage", "operational")],
                ),
                update(
                    "investigating",
                    "We are investigating elevated errors on login.",
                    "2026-04-13T16:10:00Z",
                    [(LOGIN, "operational", "partial_outage")],
                ),
            ],
        ),
    ],
}
QUIET = {"page": PAGE, "incidents": []}


def serve_claude(server: LoopbackServer, incidents: dict[str, Any]) -> str:
    summary: dict[str, object] = {
        "page": PAGE,
        "status": {"indicator": "none", "description": "All good"},
    }
    summary |= {"components": [], "incidents": [], "scheduled_maintenances": []}
    server.route("/claude/api/v2/summary.json", json.dumps(summary).encode())
    server.route("/claude/api/v2/incidents.json", json.dumps(incidents).encode())
    server.route(
        "/claude/api/v2/scheduled-maintenances.json",
        json.dumps({"page": PAGE, "scheduled_maintenances": []}).encode(),
    )
    return f"{server.url}/claude"


def write_config(
    tmp_path: Path, page: str, checks: str = "", database_url: str | None = None
) -> Path:
    """A laptop probe on ``page``; the database beside the config unless ``database_url``."""
    database = f'[database]\nurl = "{database_url}"\n' if database_url else ""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[monitor]
probe = "laptop"
{database}
[http]
timeout = "2s"
connect_timeout = "1s"

[[source]]
name = "claude"
kind = "statuspage"
url = "{page}"
{checks}""",
        encoding="utf-8",
    )
    return path


def vendor_checks(server: LoopbackServer, control_url: str | None = None) -> str:
    depends = f'depends_on = {{ source = "claude", components = ["{API}"] }}'
    return f"""
[[check]]
name = "api-reachable"
kind = "http"
method = "POST"
url = "{server.url}/v1/messages"
expect_status = [401]
timeout = "1s"
{depends}

[[check]]
name = "api-authenticated"
kind = "http"
url = "{server.url}/v1/models"
headers = {{ x-api-key = "${{MONITOR_TEST_KEY}}" }}
when_env = "MONITOR_TEST_KEY"
timeout = "1s"
{depends}

[[check]]
name = "control"
kind = "http"
role = "control"
url = "{control_url or server.url + "/generate_204"}"
expect_status = [204]
timeout = "1s"
"""


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def why(capsys, config: Path, *args: str) -> dict[str, Any]:
    status, out, err = run(capsys, "--config", str(config), "why", "--json", *args)
    assert status == 0, err
    answer: dict[str, Any] = json.loads(out)  # `why --json` prints one object
    return answer


def observed(
    tmp_path: Path, name: str, lines: list[tuple[str, str]], target: str = "api.anthropic.com"
) -> Path:
    path = tmp_path / name
    path.write_text(
        "".join(
            json.dumps({"at": at, "error": error, "target": target}) + "\n" for at, error in lines
        ),
        encoding="utf-8",
    )
    return path


def every_five_minutes(day: str, start: str, end: str, error: str) -> list[tuple[str, str]]:
    h, m = (int(x) for x in start.split(":"))
    lines = []
    while f"{h:02d}:{m:02d}" <= end:
        lines.append((f"{day}T{h:02d}:{m:02d}:07Z", error))
        m += 5
        h, m = h + m // 60, m % 60
    return lines


@pytest.fixture
def april(server: LoopbackServer, tmp_path: Path, capsys, database_url: str) -> Path:
    """The April 2026 status page polled, and what the user's tools logged imported.

    On each engine: these are the answers the tool exists for.
    """
    config = write_config(tmp_path, serve_claude(server, APRIL), database_url=database_url)
    assert run(capsys, "--config", str(config), "poll")[0] == 0
    rejected = every_five_minutes(
        "2026-04-14",
        "09:40",
        "11:00",
        'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
        '"message":"Invalid authentication credentials"}}',
    )
    # The login page (claude.ai, the component the login incident hit) timing out.
    timeouts = every_five_minutes("2026-04-13", "15:32", "15:38", "Request timed out.")
    for name, lines, target in (
        ("api.jsonl", rejected, "api.anthropic.com"),
        ("login.jsonl", timeouts, "claude.ai"),
    ):
        status, _, err = run(
            capsys, "--config", str(config), "import", str(observed(tmp_path, name, lines, target))
        )
        assert status == 0, err
    return config


def test_it_blames_the_declared_api_incident_for_the_april_14_401s(april, capsys) -> None:
    answer = why(capsys, april, "--at", "2026-04-14 10:00", "--tz", "UTC")

    assert answer["verdict"] == "upstream"
    assert "Degraded performance on admin API endpoints" in answer["summary"]
    assert answer["at"] == "2026-04-14T10:00:00Z"
    [window] = answer["local"]
    assert window["observed"] == "api.anthropic.com"
    assert window["failure_classes"] == ["auth_rejected"]
    assert (window["start"], window["end"]) == ("2026-04-14T09:40:07Z", "2026-04-14T11:00:07Z")
    assert window["failures"] == 17
    titles = {u["title"]: u for u in answer["upstream"] if u["kind"] == "incident"}
    assert titles["Degraded performance on admin API endpoints"]["start"] == "2026-04-14T09:24:00Z"
    assert titles["Degraded performance on admin API endpoints"]["url"] == (
        "https://stspg.io/adminapi0414"
    )
    assert "reinstall" in answer["next_step"]


def test_it_reads_the_real_login_window_from_the_update_text(april, capsys) -> None:
    """Declared at 16:10, but the update says 15:31-16:19: timeouts at 15:32 line up."""
    answer = why(capsys, april, "--at", "2026-04-13 15:35", "--tz", "UTC", "--window", "10m")

    assert answer["verdict"] == "upstream"
    login = next(u for u in answer["upstream"] if u["title"] == "Elevated errors on login")
    # The stated 15:31-16:19 moves the start back; the declared end stays.
    assert (login["start"], login["end"]) == ("2026-04-13T15:31:00Z", "2026-04-13T16:40:00Z")
    assert (login["declared_start"], login["declared_end"]) == (
        "2026-04-13T16:10:00Z",
        "2026-04-13T16:40:00Z",
    )
    assert login["stated_in_update"] is True
    assert any("stated in an update" in reason for reason in answer["reasons"])


def test_it_prints_the_verdict_first_with_utc_and_local_times(april, capsys) -> None:
    status, out, _ = run(
        capsys,
        "--config",
        str(april),
        "why",
        "--at",
        "2026-04-14 12:00",
        "--tz",
        "Europe/Berlin",
    )

    first, second = out.splitlines()[:2]
    assert status == 0
    assert first.startswith("upstream (")
    # 12:00 in Berlin (CEST) is 10:00 UTC.
    assert second.startswith("at 2026-04-14 10:00 UTC (12:00 CEST local)")
    assert "Local evidence:" in out
    assert "Upstream evidence:" in out
    assert "Next step:" in out


def test_it_tells_the_story_of_the_afternoon_in_time_order(april, capsys) -> None:
    status, out, _ = run(
        capsys,
        "--config",
        str(april),
        "timeline",
        "--since",
        "2026-04-13 15:00",
        "--until",
        "2026-04-13 17:00",
        "--tz",
        "UTC",
        "--json",
    )

    events = json.loads(out)["events"]
    assert status == 0
    assert [(e["side"], e["start"]) for e in events] == sorted(
        [(e["side"], e["start"]) for e in events], key=lambda pair: pair[1]
    )
    sides = [e["side"] for e in events]
    assert sides[0] == "upstream"  # the stated 15:31 start precedes the first timeout
    assert "local" in sides


@pytest.fixture
def api(server: LoopbackServer) -> LoopbackServer:
    server.route("/generate_204", b"", status=204)
    return server


def checked(tmp_path: Path, server: LoopbackServer, capsys, checks: str, database_url: str) -> Path:
    """The page polled, then three rounds of checks (a minute and a half of a service)."""
    config = write_config(tmp_path, serve_claude(server, QUIET), checks, database_url)
    assert run(capsys, "--config", str(config), "poll")[0] == 0
    for _ in range(3):
        run(capsys, "--config", str(config), "check")
    return config


def test_it_blames_the_stale_token_when_the_api_answers_but_refuses_it(
    api: LoopbackServer, tmp_path: Path, capsys, monkeypatch, database_url: str
) -> None:
    monkeypatch.setenv("MONITOR_TEST_KEY", "sk-ant-stale-0000")
    api.route("/v1/messages", b'{"error": "x-api-key required"}', status=401)
    api.route("/v1/models", b'{"error": "Invalid authentication credentials"}', status=401)
    config = checked(tmp_path, api, capsys, vendor_checks(api), database_url)

    answer = why(capsys, config)

    assert (answer["verdict"], answer["confidence"]) == ("local", "high")
    # The check sends an API key from the environment: the fix is the key, not a re-login.
    assert "api key" in answer["next_step"].lower()
    assert "credentials file" not in answer["next_step"]
    assert any("answers 401" in reason for reason in answer["reasons"])
    assert "sk-ant-stale" not in json.dumps(answer)


def test_it_blames_the_network_when_dns_and_the_control_fail(
    api: LoopbackServer, tmp_path: Path, capsys, database_url: str
) -> None:
    control_url = f"http://127.0.0.1:{closed_port()}/generate_204"
    checks = f"""
[[check]]
name = "api-dns"
kind = "dns"
host = "{UNRESOLVABLE}"
depends_on = {{ source = "claude" }}

[[check]]
name = "control"
kind = "http"
role = "control"
url = "{control_url}"
expect_status = [204]
timeout = "1s"
"""
    config = checked(tmp_path, api, capsys, checks, database_url)

    answer = why(capsys, config)

    assert answer["verdict"] == "network"
    assert f"DNS for {UNRESOLVABLE} failed" in answer["summary"]
    assert "control target 127.0.0.1 failed" in answer["summary"]
    assert f"Make {UNRESOLVABLE} resolve" in answer["next_step"]


def test_it_warns_of_an_outage_not_yet_declared(
    api: LoopbackServer, tmp_path: Path, capsys, database_url: str
) -> None:
    api.route("/v1/messages", b"upstream connect error", status=503)
    config = checked(tmp_path, api, capsys, vendor_checks(api), database_url)

    answer = why(capsys, config)

    assert (answer["verdict"], answer["confidence"]) == ("upstream", "medium")
    assert "not (yet) declared" in answer["summary"]
    [window] = answer["local"]
    assert (window["check"], window["failure_classes"]) == ("api-reachable", ["server_error"])


def test_it_calls_a_quiet_time_healthy(
    api: LoopbackServer, tmp_path: Path, capsys, database_url: str
) -> None:
    api.route("/v1/messages", b"{}", status=401)
    config = checked(tmp_path, api, capsys, vendor_checks(api), database_url)

    answer = why(capsys, config)

    assert answer["verdict"] == "healthy"
    assert answer["local"] == []
    assert answer["coverage"]["watching"] is True
    assert answer["coverage"]["runs"] == 6


def test_it_says_no_data_for_a_time_nobody_watched(april, capsys) -> None:
    answer = why(capsys, april, "--at", "2026-04-14 20:00", "--tz", "UTC")

    assert answer["verdict"] == "no_data"
    assert answer["coverage"]["watching"] is False


def test_a_bare_time_ahead_of_the_clock_is_about_yesterday(april, capsys) -> None:
    # Asked at 14:44, "15:40" is a moment still to come today: the one meant is yesterday's.
    with freeze_time("2026-04-14 14:44:00"):
        answer = why(capsys, april, "--at", "15:40", "--tz", "UTC", "--window", "10m")

    assert answer["at"] == "2026-04-13T15:40:00Z"
    assert answer["verdict"] != "no_data"


@pytest.mark.parametrize(
    ("at", "shown"),
    [("2099-01-01", "2099-01-01 00:00Z"), ("today 23:59", "2026-04-14 23:59Z")],
)
def test_it_refuses_a_moment_still_to_come(april, capsys, at, shown) -> None:
    with freeze_time("2026-04-14 14:44:00"):
        status, out, err = run(capsys, "--config", str(april), "why", "--at", at, "--tz", "UTC")

    assert (status, out) == (2, "")
    assert err.splitlines()[-1] == (
        f"Error: Invalid value for '--at': {at!r} is {shown}, still to come: "
        "why explains what has already happened"
    )


def test_it_still_lists_what_upstream_said_when_nobody_watched(april, capsys) -> None:
    answer = why(capsys, april, "--at", "2026-04-14 13:00", "--tz", "UTC", "--window", "5m")

    assert answer["verdict"] == "no_data"
    assert [u["title"] for u in answer["upstream"] if u["kind"] == "incident"] == [
        "Degraded performance on admin API endpoints"
    ]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("--at", "yesterday-ish"), "cannot read 'yesterday-ish' as a time"),
        (("--at", "2026-04-14 10:00", "--tz", "Mars/Olympus"), "unknown time zone"),
        (("--window", "0s"), "--window"),
        (("--window", "soon"), "--window"),
        (("--window", "25h"), "use `monitor timeline`"),
        (("--at", "0001-01-01T00:10Z"), "out of range"),
        (("--at", "9999-12-31T23:59Z"), "out of range"),
        (("--at", "1000000d ago"), "too far back"),
    ],
)
def test_it_rejects_bad_arguments_with_exit_2(april, capsys, args, complaint) -> None:
    status, out, err = run(capsys, "--config", str(april), "why", *args)

    assert status == 2
    assert out == ""
    assert complaint in err


def test_it_answers_as_a_new_process_without_heavy_imports(april) -> None:
    """``why`` must start fast: no HTTP client, scheduler, migrations tool or plotting."""
    probe = (
        "import sys, json\n"
        "from monitor.cli import main\n"
        "try:\n"
        f"    main(['--config', {str(april)!r}, 'why', '--json', '--at', '2026-04-14T10:00Z'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('httpx', 'apscheduler', 'alembic', 'matplotlib', 'feedparser')\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )

    assert json.loads(done.stdout)["verdict"] == "upstream"
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
    assert run_monitor(april, "why", "--at", "2026-04-14T10:00Z").returncode == 0


def test_the_installed_command_flushes_everything_before_its_fast_exit(april) -> None:
    """``entry`` ends the process without interpreter teardown: nothing may be lost."""
    answered = run_monitor(april, "why", "--json", "--at", "2026-04-14T10:00Z")
    refused = run_monitor(april, "why", "--at", "whenever")

    assert answered.returncode == 0
    assert json.loads(answered.stdout)["verdict"] == "upstream"
    assert refused.returncode == 2
    assert "cannot read 'whenever' as a time" in refused.stderr


def test_it_says_the_status_page_could_not_be_read_instead_of_nothing_declared(
    tmp_path: Path, capsys
) -> None:
    """Every poll failed (nothing listens): unknown is not quiet."""
    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}/claude")
    assert run(capsys, "--config", str(config), "poll")[0] == 1
    lines = every_five_minutes(
        "2026-04-14", "09:40", "10:20", "API Error: 500 Internal server error"
    )
    status, _, err = run(
        capsys, "--config", str(config), "import", str(observed(tmp_path, "api.jsonl", lines))
    )
    assert status == 0, err

    answer = why(capsys, config, "--at", "2026-04-14 10:00", "--tz", "UTC")
    status, out, _ = run(
        capsys, "--config", str(config), "why", "--at", "2026-04-14 10:00", "--tz", "UTC"
    )

    assert answer["verdict"] == "upstream"
    assert answer["confidence"] != "high"
    assert "could not be read" in answer["summary"]
    assert "not (yet) declared" not in answer["summary"]
    [unread] = answer["unreadable_sources"]
    assert (unread["source"], unread["last_read"]) == ("claude", None)
    assert "refused" in unread["reason"].lower()
    assert "nothing declared" not in out
    assert "the claude status page has never been read (every poll failed since" in out


def test_it_says_an_empty_timeline_was_not_watched(april, capsys) -> None:
    status, out, _ = run(
        capsys,
        "--config",
        str(april),
        "timeline",
        "--since",
        "2026-04-10 10:00",
        "--until",
        "2026-04-10 12:00",
        "--tz",
        "UTC",
    )
    assert status == 0
    assert out.startswith("nothing recorded 2026-04-10 10:00 UTC")
    assert "the monitor was not watching then" in out


def test_before_any_poll_it_says_no_status_page_was_read_not_that_nothing_was_declared(
    api: LoopbackServer, tmp_path: Path, capsys, database_url: str
) -> None:
    api.route("/v1/messages", b"{}", status=401)
    config = write_config(tmp_path, serve_claude(api, QUIET), vendor_checks(api), database_url)
    run(capsys, "--config", str(config), "check")  # no poll: the page was never read

    status, out, _ = run(capsys, "--config", str(config), "why", "--tz", "UTC")
    answer = why(capsys, config)

    assert status == 0
    upstream = out.split("Upstream evidence:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert upstream == [
        "  no status page has been read for this moment: what they declared is unknown",
        "  the claude status page has never been read (run `monitor poll`): what it declared "
        "then is unknown",
    ]
    assert "nothing declared" not in out
    assert [s["source"] for s in answer["unreadable_sources"]] == ["claude"]


def test_once_polled_it_names_the_page_that_declared_nothing(
    api: LoopbackServer, tmp_path: Path, capsys, database_url: str
) -> None:
    api.route("/v1/messages", b"{}", status=401)
    config = checked(tmp_path, api, capsys, vendor_checks(api), database_url)

    _, out, _ = run(capsys, "--config", str(config), "why", "--tz", "UTC")

    upstream = out.split("Upstream evidence:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert upstream == ["  nothing declared on the claude status page"]
