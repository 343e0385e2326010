"""``monitor run`` as a real process: scheduling, signals, reload, one instance, crash safety."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import fixture_bytes, run_monitor
from tests.loopback import LoopbackServer, wait_until

EMPTY_MAINTENANCES = b'{"scheduled_maintenances": []}'


def serve(server: LoopbackServer) -> None:
    server.route("/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route("/api/v2/incidents.json", fixture_bytes("github/incidents-2026-07-31.json"))
    server.route("/api/v2/scheduled-maintenances.json", EMPTY_MAINTENANCES)
    server.route("/v1/messages", b'{"error": "auth"}', status=401)


def write(
    path: Path,
    server: LoopbackServer,
    *,
    checks: Sequence[str] = ("reachable",),
    source: bool = True,
) -> Path:
    blocks = ['[monitor]\nprobe = "svc"\n']
    if source:
        blocks.append(
            f'[[source]]\nname = "github"\nkind = "statuspage"\nurl = "{server.url}"\ninterval = "1s"\n'
        )
    for name in checks:
        blocks.append(
            f'[[check]]\nname = "{name}"\nkind = "http"\nurl = "{server.url}/v1/messages"\n'
            'expect_status = [401]\ninterval = "1s"\ntimeout = "2s"\n'
        )
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def count(database: Path, sql: str) -> int:
    if not database.exists():
        return 0
    with closing(sqlite3.connect(database, timeout=10)) as connection:
        try:
            return int(connection.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # not migrated yet


@contextmanager
def service(config: Path, *extra: str) -> Iterator[subprocess.Popen[str]]:
    log = open(config.parent / "service.log", "a")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run", *extra],
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        log.close()


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, float]:
    began = time.monotonic()
    process.send_signal(sig)
    code = process.wait(timeout=20)
    return code, time.monotonic() - began


def test_it_polls_and_checks_on_schedule_and_stops_cleanly_on_sigterm(
    server: LoopbackServer, tmp_path: Path
) -> None:
    serve(server)
    config = write(tmp_path / "config.toml", server)
    database = tmp_path / "monitor.db"

    with service(config) as process:
        assert wait_until(lambda: count(database, "SELECT count(*) FROM poll") >= 3, timeout=20)
        assert wait_until(
            lambda: count(database, "SELECT count(*) FROM check_result") >= 3, timeout=20
        )
        code, took = stop(process)

    assert code == 0
    assert took < 10  # the grace period
    assert (
        count(database, "SELECT count(*) FROM incident") == 50
    )  # polled repeatedly, recorded once
    assert (
        count(
            database,
            "SELECT count(*) FROM heartbeat WHERE probe = 'svc' AND stopped_at IS NOT NULL",
        )
        == 1
    )
    assert count(database, "SELECT count(*) FROM poll WHERE outcome = 'not_modified'") >= 1


def test_it_refuses_a_second_service_on_the_same_database_and_probe(
    server: LoopbackServer, tmp_path: Path
) -> None:
    serve(server)
    config = write(tmp_path / "config.toml", server)
    database = tmp_path / "monitor.db"

    with service(config) as first:
        assert wait_until(
            lambda: count(database, "SELECT count(*) FROM heartbeat") >= 1, timeout=20
        )
        second = run_monitor(config, "run", timeout=30)
        stop(first)

    assert second.returncode == 1
    assert "another monitor run already serves this database for probe 'svc'" in second.stderr
    assert f"pid {first.pid}" in second.stderr


def test_it_reloads_on_sighup_and_keeps_running_on_a_broken_config(
    server: LoopbackServer, tmp_path: Path
) -> None:
    serve(server)
    config = write(tmp_path / "config.toml", server, checks=["reachable"])
    database = tmp_path / "monitor.db"
    runs_of = "SELECT count(*) FROM check_result r JOIN \"check\" c ON c.id = r.check_id WHERE c.name = '{}'"

    with service(config) as process:
        assert wait_until(lambda: count(database, runs_of.format("reachable")) >= 1, timeout=20)
        write(config, server, checks=["added"], source=False)
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: count(database, runs_of.format("added")) >= 2, timeout=20)
        polls = count(database, "SELECT count(*) FROM poll")
        reachable = count(database, runs_of.format("reachable"))
        time.sleep(2.5)  # two intervals: a removed job must not run again (bounded, 127.0.0.1 only)
        assert count(database, "SELECT count(*) FROM poll") == polls
        assert (
            count(database, runs_of.format("reachable")) <= reachable + 1
        )  # at most one in flight

        config.write_text("this is = not toml [", encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        added = count(database, runs_of.format("added"))
        assert wait_until(lambda: count(database, runs_of.format("added")) >= added + 2, timeout=20)
        assert process.poll() is None
        code, _ = stop(process)

    log = (tmp_path / "service.log").read_text()
    assert code == 0
    assert "config not reloaded, keeping the running one" in log
    assert "removed source:github" in log


def test_it_survives_kill_9_and_resumes(server: LoopbackServer, tmp_path: Path) -> None:
    serve(server)
    config = write(tmp_path / "config.toml", server)
    database = tmp_path / "monitor.db"

    with service(config) as process:
        assert wait_until(
            lambda: count(database, "SELECT count(*) FROM check_result") >= 3, timeout=20
        )
        process.kill()
        process.wait(timeout=10)
    before = count(database, "SELECT count(*) FROM check_result")
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    with service(config) as again:
        assert wait_until(
            lambda: count(database, "SELECT count(*) FROM check_result") > before + 1, timeout=20
        )
        code, _ = stop(again)

    assert code == 0
    assert count(database, "SELECT count(*) FROM heartbeat") == 2
    assert count(database, "SELECT count(*) FROM incident") == 50


def test_it_answers_status_and_results_while_the_service_writes(
    server: LoopbackServer, tmp_path: Path
) -> None:
    serve(server)
    config = write(tmp_path / "config.toml", server, checks=["a", "b", "c"])
    database = tmp_path / "monitor.db"

    with service(config) as process:
        assert wait_until(
            lambda: count(database, "SELECT count(*) FROM check_result") >= 3, timeout=20
        )
        outputs = [
            run_monitor(config, command, timeout=30)
            for command in ("status", "results", "status", "results")
        ]
        stop(process)

    for done in outputs:
        assert "locked" not in done.stderr, done.stderr
        assert done.returncode == 0, done.stderr
    assert outputs[0].stdout.startswith("service: running for probe svc (pid ")
    assert "failing now: nothing" in outputs[0].stdout


@pytest.mark.parametrize(("expect", "code"), [(401, 0), (200, 1)])
def test_it_runs_everything_once_for_cron(
    expect: int, code: int, server: LoopbackServer, tmp_path: Path
) -> None:
    serve(server)
    config = write(tmp_path / "config.toml", server)
    config.write_text(
        config.read_text().replace("expect_status = [401]", f"expect_status = [{expect}]")
    )

    done = run_monitor(config, "run", "--once", timeout=60)

    assert done.returncode == code, done.stderr
    database = tmp_path / "monitor.db"
    assert count(database, "SELECT count(*) FROM poll") == 1
    assert count(database, "SELECT count(*) FROM check_result") == 1
    assert count(database, "SELECT count(*) FROM heartbeat WHERE stopped_at IS NOT NULL") == 1


def test_it_spreads_jobs_with_bounded_jitter() -> None:
    from monitor.polling.backoff import jitter_for

    assert jitter_for(timedelta(seconds=30)) == 3.0
    assert jitter_for(timedelta(minutes=5)) == 30.0
    assert jitter_for(timedelta(hours=1)) == 30.0  # capped
    assert jitter_for(timedelta(seconds=1)) == 0.1


def test_it_schedules_a_job_per_source_and_check_and_reloads_only_what_changed(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from monitor.config import load_config
    from monitor.service.runtime import Loaded
    from monitor.service.scheduler import Service

    t0 = datetime(2026, 4, 13, 15, 31, tzinfo=UTC)
    config = tmp_path / "config.toml"
    config.write_text(
        '[[source]]\nname = "github"\nkind = "statuspage"\nurl = "http://127.0.0.1:9"\ninterval = "5m"\n'
        '[[check]]\nname = "a"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\ninterval = "30s"\n'
        '[[check]]\nname = "b"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\ninterval = "1m"\n',
        encoding="utf-8",
    )
    svc = Service(str(config), grace=timedelta(seconds=1), clock=lambda: t0)
    try:
        svc._schedule_all(svc.config)
        jobs = {job.id: job for job in svc.scheduler.get_jobs()}

        assert set(jobs) == {"source:github", "check:a", "check:b"}
        assert jobs["check:a"].trigger.interval == timedelta(seconds=30)
        assert jobs["check:a"].trigger.jitter == 3.0
        assert jobs["source:github"].trigger.jitter == 30.0
        assert all(job.next_run_time == t0 for job in jobs.values())  # each runs once at start

        config.write_text(
            config.read_text()
            .replace('interval = "1m"', 'interval = "2m"')
            .replace(
                '[[source]]\nname = "github"\nkind = "statuspage"\nurl = "http://127.0.0.1:9"\ninterval = "5m"\n',
                "",
            )
            + '[[check]]\nname = "c"\nkind = "dns"\nhost = "localhost"\n',
            encoding="utf-8",
        )
        previous, svc.runtime.loaded = svc.config, Loaded.of(load_config(config), "")
        later = t0 + timedelta(minutes=7)
        svc.runtime.clock = lambda: later
        svc._schedule_all(svc.config, previous=previous)
        after = {job.id: job for job in svc.scheduler.get_jobs()}

        assert set(after) == {"check:a", "check:b", "check:c"}
        assert after["check:b"].trigger.interval == timedelta(minutes=2)  # changed: replaced
        assert after["check:b"].next_run_time == later
        assert after["check:c"].next_run_time == later  # added: runs at once
        assert after["check:a"].next_run_time == t0  # unchanged: keeps its timing
    finally:
        svc.runtime.http.close()
        svc.runtime.store.close()


def test_it_logs_a_change_of_state_once_not_every_failing_run(tmp_path: Path, caplog) -> None:
    import logging

    from monitor.service.scheduler import Service

    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    minutes = iter(range(0, 1000, 5))
    svc = Service(
        str(config),
        grace=timedelta(seconds=1),
        clock=lambda: datetime(2026, 4, 14, 9, 0, tzinfo=UTC) + timedelta(minutes=next(minutes)),
    )
    try:
        caplog.set_level(logging.WARNING, logger="monitor.service")
        for ok, state in [
            (True, "ok"),
            (True, "not_modified"),
            (False, "error"),
            (False, "error"),
            (False, "error"),
            (True, "ok"),
            (True, "not_modified"),
        ]:
            svc.runtime.states.report("source github", ok, state, "HTTP 503")
    finally:
        svc.runtime.http.close()
        svc.runtime.store.close()

    assert [r.getMessage() for r in caplog.records] == [
        "[service.state] source github failing: error: HTTP 503",
        "[service.state] source github recovered after 15m (was error)",
    ]
