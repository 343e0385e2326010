"""``monitor probes`` and ``monitor status`` with several probes in one database: exact output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from monitor.cli import main
from monitor.store import Store, open_store
from tests.probe_seed import NOW, Run, four_probes, poll, runs, service, write_config


def run(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    """The CLI at ``NOW``: ages and the default span are read from the clock."""
    with freeze_time(NOW), pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, "laptop")


@pytest.fixture
def store(config: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{config.parent / 'monitor.db'}")
    yield opened
    opened.close()


def test_it_lists_every_probe_with_its_state_and_what_it_ran(
    config: Path, store: Store, capsys
) -> None:
    four_probes(store)

    status, out, err = run(capsys, config, "probes")

    assert (status, err) == (0, "")
    assert out == (
        "PROBE   STATE       HOST     PID   STARTED            LAST HEARTBEAT               CHECKS        SOURCES\n"
        "ci      no service  -        -     -                  -                            api           -\n"
        "eu-1    gone        srv-eu   77    2026-04-14 08:00Z  2026-04-14 08:30Z (1h ago)   api           -\n"
        "laptop  running     box-a    4242  2026-04-14 09:00Z  2026-04-14 09:59Z (20s ago)  api, control  claude\n"
        "old     stopped     old-box  9     2026-04-12 10:00Z  2026-04-12 11:00Z (1d ago)   -             -\n"
        "checks and sources: what each probe ran since 2026-04-13 10:00Z\n"
    )


def test_its_json_gives_each_probe_with_times_in_utc(config: Path, store: Store, capsys) -> None:
    four_probes(store)

    status, out, _ = run(capsys, config, "probes", "--json")

    document = json.loads(out)
    by_name = {p["probe"]: p for p in document["probes"]}
    assert status == 0
    assert document["since"] == "2026-04-13T10:00:00Z"
    assert list(by_name) == ["ci", "eu-1", "laptop", "old"]
    assert {name: p["state"] for name, p in by_name.items()} == {
        "ci": "no service",
        "eu-1": "gone",
        "laptop": "running",
        "old": "stopped",
    }
    assert by_name["laptop"] == {
        "probe": "laptop",
        "state": "running",
        "host": "box-a",
        "pid": 4242,
        "started_at": "2026-04-14T09:00:00Z",
        "last_seen": "2026-04-14T09:59:40Z",
        "last_seen_seconds_ago": 20,
        "stopped_at": None,
        "lease_expires_at": "2026-04-14T10:01:10Z",
        "checks": [
            {"name": "api", "count": 1, "last_at": "2026-04-14T09:59:00Z"},
            {"name": "control", "count": 1, "last_at": "2026-04-14T09:59:00Z"},
        ],
        "sources": [{"name": "claude", "count": 1, "last_at": "2026-04-14T09:58:00Z"}],
    }
    assert by_name["eu-1"]["lease_expires_at"] == "2026-04-14T08:31:30Z"  # lapsed: gone
    assert by_name["old"]["lease_expires_at"] is None  # stopped: it holds nothing
    assert by_name["ci"]["host"] is None


def test_since_widens_the_span_what_ran_is_read_over(config: Path, store: Store, capsys) -> None:
    runs(store, [Run("api", "nightly", NOW - timedelta(days=3))])

    _, narrow, _ = run(capsys, config, "probes")
    _, wide, _ = run(capsys, config, "probes", "--since", "4d ago")

    assert narrow == "no probes: no service ever ran, and nothing ran since 2026-04-13 10:00Z\n"
    assert wide.splitlines()[1].split() == [
        "nightly",
        "no",
        "service",
        "-",
        "-",
        "-",
        "-",
        "api",
        "-",
    ]
    assert (
        wide.splitlines()[-1] == "checks and sources: what each probe ran since 2026-04-10 10:00Z"
    )


def test_a_host_name_from_another_machine_is_shown_not_obeyed(
    config: Path, store: Store, capsys
) -> None:
    service(store, "evil", "box\x1b[2J\u202e", 1, NOW - timedelta(minutes=5), NOW)

    _, out, _ = run(capsys, config, "probes")

    assert "\x1b" not in out
    assert "\u202e" not in out
    assert "box\\x1b[2J\\u202e" in out


def test_status_names_the_probe_of_each_run_and_lists_the_other_probes(
    config: Path, store: Store, capsys
) -> None:
    four_probes(store)

    status, out, _ = run(capsys, config, "status")

    assert status == 1  # api fails on ci
    assert out == (
        "service: running for probe laptop on host box-a (pid 4242; last heartbeat 20s ago)\n"
        "other probes:\n"
        "  ci: no service (last wrote 30m ago)\n"
        "  eu-1: gone on srv-eu (pid 77), last heartbeat 1h ago\n"
        "  old: stopped on old-box 1d ago (2026-04-12 11:00Z)\n"
        "WHAT                    LAST     STATE\n"
        "source claude           2m ago   no component status\n"
        "check api @ ci          30m ago  auth_rejected: HTTP 401, expected 200\n"
        "check api @ eu-1        1h ago   ok\n"
        "check api @ laptop      1m ago   ok\n"
        "check control @ laptop  1m ago   ok\n"
        "failing now: check api @ ci\n"
    )


def test_status_json_gains_the_probes(config: Path, store: Store, capsys) -> None:
    four_probes(store)

    _, out, _ = run(capsys, config, "status", "--json")

    document = json.loads(out)
    assert document["failing"] == ["check api @ ci"]
    assert [(p["probe"], p["state"]) for p in document["probes"]] == [
        ("ci", "no service"),
        ("eu-1", "gone"),
        ("laptop", "running"),
        ("old", "stopped"),
    ]
    assert document["service"]["pid"] == 4242


def test_status_with_one_probe_reads_as_it_always_did(config: Path, store: Store, capsys) -> None:
    config.write_text(
        config.read_text() + '[[check]]\nname = "dns"\nkind = "dns"\nhost = "localhost"\n'
    )
    hour, minute = timedelta(hours=1), timedelta(minutes=1)
    service(store, "laptop", "box-a", 4242, NOW - 2 * hour, NOW - hour, stopped=True)
    runs(
        store,
        [
            Run("api", "laptop", NOW - minute),
            Run(
                "control",
                "laptop",
                NOW - 3 * minute,
                ok=False,
                failure_class="timeout",
                detail="timed out",
            ),
        ],
    )
    poll(store, "claude", "laptop", NOW - 2 * minute)

    status, out, _ = run(capsys, config, "status")
    _, as_json, _ = run(capsys, config, "status", "--json")

    assert status == 1
    assert out == (
        "service: not running (probe laptop; last seen 2026-04-14 09:00Z, 1h ago)\n"
        "WHAT           LAST    STATE\n"
        "source claude  2m ago  no component status\n"
        "check api      1m ago  ok\n"
        "check control  3m ago  timeout: timed out\n"
        "check dns      never   never run\n"
        "failing now: check control\n"
    )
    document = json.loads(as_json)
    assert document["failing"] == ["check control"]
    assert [p["probe"] for p in document["probes"]] == ["laptop"]


def test_status_names_the_probe_of_a_check_no_probe_ran_lately(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, "laptop", checks=("api", "control", "dns", "tls"))
    with closing(open_store(f"sqlite:///{tmp_path / 'monitor.db'}")) as store:
        four_probes(store)
        runs(store, [Run("dns", "ci", NOW - timedelta(days=5))])

    _, out, _ = run(capsys, config, "status")

    assert "check dns @ ci          5d ago   ok\n" in out
    assert "check tls               never    never run\n" in out
