"""``monitor why``, ``timeline`` and ``status`` answered by a running service: the same bytes, sooner.

A real service (its probe claimed with the instance lock, its API bound to a
free 127.0.0.1 port and advertised in the lock file, as ``monitor run``
does) over a real seeded database, on each engine. Each question is put to
a new ``monitor`` process before the service advertises (the process reads
the database itself) and after (the service answers); the output must be
byte for byte the same, and the modules the second process imported show
that it never opened the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from freezegun import freeze_time

from monitor.cli import main
from monitor.config import load_config
from monitor.service.lock import InstanceLock
from monitor.service.scheduler import Service
from tests.api_client import serving
from tests.api_seed import LATER, api_config, seed_database
from tests.imports import heavy, imported_by
from tests.loopback import LoopbackServer
from tests.test_api_answers import fail_now

# What reading the database needs, and answering through the service must not.
READING = ("monitor.store", "monitor.config", "monitor.correlate", "monitor.views.why")
QUESTIONS = [
    ["why", "--at", "2026-04-14T10:00:00Z", "--json"],
    ["why", "--at", "2026-04-14 10:00", "--tz", "UTC"],
    # No --tz: local times in the asking process's zone, whatever the service's is.
    ["why", "--at", "2026-04-14 11:00", "--window", "1h"],
    ["why", "--at", "2026-04-13T23:00:00Z", "--window", "1h", "--probe", "test-probe"],
    ["timeline", "--since", "2026-04-13", "--until", "2026-04-15", "--json"],
    ["timeline", "--since", "2026-04-14 08:00", "--until", "2026-04-14 12:00"],
    # Refused by the service (400) as by the command itself: exit 2, the same words.
    ["why", "--at", "2026-04-14T10:00:00Z", "--probe", "nobody"],
    ["timeline", "--since", "2026-04-13", "--until", "2026-04-15", "--probe", "nobody"],
]
# The asking processes' zone; the service (this process) runs in the machine's.
ASKING_ZONE = "Europe/Berlin"


@pytest.fixture
def config(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    seed_database(database_url)
    return api_config(tmp_path, database_url)


@contextmanager
def claimed(config: Path) -> Iterator[tuple[Service, InstanceLock]]:
    """The service for ``config``, its probe claimed as ``monitor run`` claims it; not advertised."""
    lock = InstanceLock.acquire(load_config(config))
    try:
        with serving(config, clock=lambda: LATER) as service:
            yield service, lock
    finally:
        lock.release()


def advertise(service: Service, lock: InstanceLock) -> None:
    assert service.api_url is not None
    lock.advertise(service.api_url)


def ask(config: Path, args: list[str]) -> tuple[str, str, int, set[str]]:
    """``monitor --config CONFIG ARGS`` as a new process in ``ASKING_ZONE``."""
    env = {**os.environ, "TZ": ASKING_ZONE}
    env.pop("MONITOR_CONFIG", None)
    process, code, modules = imported_by(["--config", str(config), *args], env=env)
    return process.stdout, process.stderr, code, modules


def test_the_service_answers_each_question_with_the_bytes_the_command_reads_itself(config):
    here = {}
    for args in QUESTIONS:
        out, err, code, modules = ask(config, args)
        assert "monitor.store" in modules, args  # no service: it read the database
        here[tuple(args)] = (out, err, code)

    with claimed(config) as (service, lock):
        advertise(service, lock)
        for args in QUESTIONS:
            out, err, code, modules = ask(config, args)
            assert heavy(modules, *READING) == [], args  # the service answered
            assert (out, err, code) == here[tuple(args)], args

    refused = here[("why", "--at", "2026-04-14T10:00:00Z", "--probe", "nobody")]
    assert refused[2] == 2
    assert "Error: Invalid value for '--probe': no probe 'nobody'" in refused[1]
    assert "local)" in here[("why", "--at", "2026-04-14 11:00", "--window", "1h")][0]


@pytest.mark.parametrize("failing", [False, True], ids=["all-well", "failing"])
def test_status_reads_the_same_from_the_service_with_its_exit_status(
    config, capsys: pytest.CaptureFixture[str], failing: bool
):
    def status(*args: str) -> tuple[str, int]:
        with freeze_time(LATER), pytest.raises(SystemExit) as exited:
            main(["--config", str(config), "status", *args])
        return capsys.readouterr().out, int(exited.value.code or 0)

    with claimed(config) as (service, lock):
        if failing:
            fail_now(service)
        here = [status(), status("--json")]
        advertise(service, lock)
        answered = [status(), status("--json")]
        _, _, _, modules = ask(config, ["status", "--json"])

    assert heavy(modules, *READING, "monitor.views.status") == []  # the service answered
    assert answered == here
    assert [code for _, code in here] == ([1, 0] if failing else [0, 0])


def test_it_reads_the_database_itself_when_the_service_runs_another_config(config):
    with claimed(config) as (service, lock):
        advertise(service, lock)
        args = ["why", "--at", "2026-04-14T10:00:00Z", "--json"]
        through = ask(config, args)
        with config.open("a", encoding="utf-8") as edited:
            edited.write("# edited since the service started\n")
        itself = ask(config, args)

    assert heavy(through[3], *READING) == []
    assert "monitor.store" in itself[3]
    assert itself[:3] == through[:3]


def test_a_typo_is_answered_at_once_without_asking_the_service(config, server: LoopbackServer):
    lock = InstanceLock.acquire(load_config(config))
    try:
        lock.advertise(server.url)  # a service that would record any question put to it
        out, err, code, modules = ask(config, ["why", "--at", "yesterday-ish"])
    finally:
        lock.release()

    assert (out, code) == ("", 2)
    assert "Error: Invalid value for '--at': cannot read 'yesterday-ish'" in err
    assert server.requests == []
    assert heavy(modules, *READING) == []


def test_it_reads_the_database_itself_when_the_same_config_means_another_database(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
):
    """``url = "${NAME}"``, another value in the asking shell: the service's answer is not its."""
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.setenv("SERVICE_TEST_DATABASE", database_url)
    seed_database(database_url)
    config = api_config(tmp_path, "${SERVICE_TEST_DATABASE}")
    # Another database on the same engine: on PostgreSQL the lock file is the
    # same whatever the URL says, so the asking process finds this service.
    folder, _, _ = database_url.rpartition("/")
    other = f"{folder}/other.db" if database_url.startswith("sqlite") else f"{folder}/other"
    args = ["why", "--at", "2026-04-14T10:00:00Z", "--json"]
    with claimed(config) as (service, lock):
        advertise(service, lock)
        same = ask(config, args)
        monkeypatch.setenv("SERVICE_TEST_DATABASE", other)
        elsewhere = ask(config, args)

    assert heavy(same[3], *READING) == []  # the service answered for its own database
    assert "monitor.store" in elsewhere[3]  # and not for another one
    assert elsewhere[0] != same[0]
