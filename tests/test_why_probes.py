"""``monitor why`` and ``timeline`` over several probes in one real SQLite database.

Two probes on two hosts: the laptop cannot resolve the API while the CI
runner calls it fine in the same minutes. Runs and heartbeats are written
through the store's own functions, as the service writes them; the answer
is read through the CLI.
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

START = datetime(2026, 4, 14, 11, 30, tzinfo=UTC)
AT = "2026-04-14T12:00:00Z"
HOSTS = {"laptop": "laptop.example", "ci": "runner-7"}

CONFIG = """
[monitor]
probe = "laptop"

[[check]]
name = "api"
kind = "http"
url = "https://api.anthropic.com/v1/models"

[[check]]
name = "control"
kind = "http"
role = "control"
url = "https://www.gstatic.com/generate_204"
expect_status = [204]
"""


@pytest.fixture
def two_probes(tmp_path: Path, database_url: str) -> Path:
    """The laptop's api fails DNS 11:40-12:10; the runner's passes throughout; controls pass.

    On each engine: a team's probes share a PostgreSQL database.
    """
    path = tmp_path / "config.toml"
    path.write_text(CONFIG + f'\n[database]\nurl = "{database_url}"\n', encoding="utf-8")
    config = load_config(path)
    store = open_store(config.database_url)
    try:
        beats = {
            probe: start_heartbeat(store, probe=probe, now=START, pid=100 + n, host=host)
            for n, (probe, host) in enumerate(HOSTS.items())
        }
        with store.write() as session, session.begin():
            ids = sync_checks(session, [spec_of(c) for c in config.checks], START)
            for step in range(31):
                at = START + timedelta(minutes=2 * step)
                for probe in HOSTS:
                    broken = probe == "laptop" and at.hour == 11 and at.minute >= 40
                    broken |= probe == "laptop" and at.hour == 12 and at.minute < 10
                    _run(session, ids["api"], probe, at, broken)
                    _run(session, ids["control"], probe, at + timedelta(seconds=30), False)
        for beat in beats.values():
            stop_heartbeat(store, beat, START + timedelta(hours=1, minutes=1))
    finally:
        store.close()
    return path


def _run(session: Any, check_id: int, probe: str, at: datetime, broken: bool) -> None:
    record_check_run(
        session,
        check_id=check_id,
        probe=probe,
        started_at=at,
        duration_ms=12.0,
        ok=not broken,
        skipped=False,
        failure_class="dns_failure" if broken else None,
        http_status=None if broken else 200,
        request_id=None,
        server_date=None,
        detail="Temporary failure in name resolution" if broken else "HTTP 200",
        facts={},
    )


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    assert exited.value.code in (0, None), err
    return out


def why_json(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(
        cli(capsys, config, "why", "--at", AT, "--tz", "UTC", "--json", *args)
    )
    return answer


def test_it_blames_the_one_probe_that_fails_while_the_other_gets_through(two_probes, capsys):
    answer = why_json(capsys, two_probes)
    assert (answer["verdict"], answer["confidence"]) == ("network", "high")
    assert "probe laptop" in answer["summary"]
    assert "probe ci" in answer["summary"]
    assert {w["probe"] for w in answer["local"]} == {"laptop"}
    assert answer["probes"] == [
        {
            "probe": "ci",
            "host": "runner-7",
            "runs": 61,
            "failed": [],
            "passed": ["api", "control"],
        },
        {
            "probe": "laptop",
            "host": "laptop.example",
            "runs": 61,
            "failed": ["api"],
            "passed": ["control"],
        },
    ]


def test_it_says_which_probe_saw_what(two_probes, capsys):
    out = cli(capsys, two_probes, "why", "--at", AT, "--tz", "UTC")
    assert "  api on laptop [vendor] dns_failure: 15 failed of 15," in out
    assert "Probes:\n  ci (host runner-7): 61 runs; passed api, control\n" in out
    assert "  laptop (host laptop.example): 61 runs; failed api; passed control\n" in out
    # Both services ran at once: one watch, said once.
    assert "service up 2026-04-14 11:30 UTC \u2013 2026-04-14 12:31 UTC)" in out


def test_probe_narrows_to_one_machine(two_probes, capsys):
    runner = why_json(capsys, two_probes, "--probe", "ci")
    assert runner["verdict"] == "healthy"
    assert runner["probes"] == []
    laptop = why_json(capsys, two_probes, "--probe", "laptop")
    # Alone, the laptop has only its own word: a DNS failure with its control fine.
    assert laptop["verdict"] == "network"
    assert laptop["confidence"] != "high"
    assert "probe ci" not in laptop["summary"]
    assert {w["probe"] for w in laptop["local"]} == {"laptop"}
    assert [s["start"] for s in laptop["coverage"]["service"]] == ["2026-04-14T11:30:00Z"]


def test_timeline_names_the_probe_and_narrows_to_one(two_probes, capsys):
    span = ("--since", "2026-04-14 11:00", "--until", "2026-04-14 13:00", "--tz", "UTC")
    events = json.loads(cli(capsys, two_probes, "timeline", *span, "--json"))["events"]
    assert [(e.get("check"), e["probe"]) for e in events] == [("api", "laptop")]
    assert "nothing failed" in cli(capsys, two_probes, "timeline", *span, "--probe", "ci")


def test_a_probe_that_never_ran_here_is_a_usage_error_naming_those_that_did(two_probes, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(two_probes), "why", "--at", AT, "--probe", "lapton"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "no probe 'lapton' in this database (probes here: ci, laptop)" in err
