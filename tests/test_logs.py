"""Logs: one line per change of state, plain or JSON lines, and no second timestamp in the journal."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.logs import EscapingFormatter, JsonFormatter, formatter, under_journal
from monitor.service.states import StateLog
from tests.loopback import wait_until

T0 = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
HOSTILE = "HTTP 500: \x1b[2J\x1b]0;owned\x07 line\nWARNING forged \x85 \u202egnp.exe \x7f"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_it_logs_a_failure_its_change_of_class_and_its_recovery_once_each(caplog):
    caplog.set_level(logging.DEBUG, logger="monitor.service")
    records = caplog.records
    clock = Clock()
    states = StateLog(clock=clock)
    runs = [
        (0, True, "ok", "fine"),
        (1, False, "server_error", "HTTP 503"),
        (2, False, "server_error", "HTTP 503 again"),  # the same failure: nothing
        (3, False, "server_error", "HTTP 502"),  # the same class: nothing
        (10, False, "timeout", "no answer within 2s"),
        (20, False, "timeout", "no answer within 2s"),
        (48, True, "ok", "fine"),
        (49, True, "ok", "fine"),
        (50, False, "timeout", "no answer within 2s"),
        (50.5, True, "not_modified", ""),
    ]
    for minute, ok, state, detail in runs:
        clock.now = T0 + timedelta(minutes=minute)
        states.report("check api", ok, state, detail)

    assert [r.getMessage() for r in records] == [
        "[service.state] check api failing: server_error: HTTP 503",
        "[service.state] check api failing differently: timeout (was server_error, failing for "
        "9m): no answer within 2s",
        "[service.state] check api recovered after 47m (was timeout)",
        "[service.state] check api failing: timeout: no answer within 2s",
        "[service.state] check api recovered after 30s (was timeout)",
    ]
    assert [r.levelname for r in records] == ["WARNING"] * 5
    assert records[1].fields == {
        "subject": "check api",
        "change": "changed",
        "failure_class": "timeout",
        "previous_class": "server_error",
        "detail": "no answer within 2s",
        "failing_since": "2026-04-14T09:01:00Z",
    }
    assert records[2].fields["failed_for_s"] == 47 * 60


def test_it_keeps_each_subjects_state_apart(caplog):
    caplog.set_level(logging.DEBUG, logger="monitor.service")
    records = caplog.records
    clock = Clock()
    states = StateLog(clock=clock)
    states.report("check a", False, "timeout", "slow")
    states.report("source b", False, "error", "HTTP 500")
    states.report("check a", False, "timeout", "slow")
    states.report("source b", True, "ok", "")
    assert [r.getMessage() for r in records] == [
        "[service.state] check a failing: timeout: slow",
        "[service.state] source b failing: error: HTTP 500",
        "[service.state] source b recovered after 0s (was error)",
    ]


def test_a_note_is_logged_when_it_first_appears_not_every_poll(caplog):
    caplog.set_level(logging.DEBUG, logger="monitor.service")
    states = StateLog(clock=Clock())
    typo = "component 'Git Operation' is not on this page (did you mean 'Git Operations'?)"
    states.noted("source github", (typo,))
    states.noted("source github", (typo,))
    states.noted("source github", ())
    states.noted("source github", (typo, "second note"))
    states.forget({"source github"})
    states.noted("source github", (typo,))
    assert [r.getMessage() for r in caplog.records] == [
        f"[service.state] source github: {typo}",
        f"[service.state] source github: {typo}",
        "[service.state] source github: second note",
        f"[service.state] source github: {typo}",
    ]
    assert caplog.records[0].fields == {
        "subject": "source github",
        "change": "note",
        "detail": typo,
    }


def record(message: str, *args: object, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("monitor.service", logging.WARNING, __file__, 1, message, args, None)
    made.created = T0.timestamp() + 0.25
    if fields:
        made.fields = fields
    return made


def test_json_lines_carry_time_level_logger_message_and_the_records_fields():
    line = JsonFormatter().format(
        record("[service.state] %s failing", "check api", subject="check api", change="failing")
    )
    assert json.loads(line) == {
        "time": "2026-04-14T09:00:00.250Z",
        "level": "WARNING",
        "logger": "monitor.service",
        "message": "[service.state] check api failing",
        "subject": "check api",
        "change": "failing",
    }


def test_json_lines_keep_outside_text_exact_and_harmless():
    line = JsonFormatter().format(record("[poll] %s", HOSTILE, detail=HOSTILE, level="forged"))

    assert "\n" not in line
    assert CONTROL.findall(line) == []
    document = json.loads(line)
    assert document["message"] == f"[poll] {HOSTILE}"
    assert document["detail"] == HOSTILE
    assert document["level"] == "WARNING"  # a field never overwrites the line's own keys


def test_json_lines_scrub_secrets_from_a_traceback():
    secret = "sk-ant-api03-" + "x" * 40
    try:
        raise RuntimeError(f"upstream said: bad key {secret}\n\x1b[2J")
    except RuntimeError:
        failed = logging.LogRecord(
            "monitor.service", logging.ERROR, __file__, 1, "job failed", (), sys.exc_info()
        )
    line = JsonFormatter().format(failed)

    assert secret not in line
    assert CONTROL.findall(line) == []
    assert "RuntimeError" in json.loads(line)["exception"]


def test_plain_lines_escape_outside_text_and_start_with_the_time():
    line = formatter("plain").format(record("[poll] %s", HOSTILE))
    assert "\n" not in line
    assert CONTROL.findall(line) == []
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING monitor.service \[poll\]", line)


def test_journal_lines_leave_the_time_to_the_journal_and_give_the_priority():
    journal = formatter("plain", journal=True)
    assert isinstance(journal, EscapingFormatter)
    assert journal.format(record("[poll] %s", HOSTILE)).startswith(
        "<4>WARNING monitor.service [poll] HTTP 500: \\x1b[2J"
    )
    error = record("boom")
    error.levelno, error.levelname = logging.ERROR, "ERROR"
    assert journal.format(error) == "<3>ERROR monitor.service boom"


def identity(fd: int) -> str:
    status = os.fstat(fd)
    return f"{status.st_dev}:{status.st_ino}"


def test_it_knows_the_journal_by_the_device_and_inode_of_the_stream(tmp_path):
    with (tmp_path / "stderr").open("w") as stream, (tmp_path / "other").open("w") as other:
        assert under_journal(stream, {"JOURNAL_STREAM": identity(stream.fileno())})
        # Inherited from a parent whose output went to the journal; this one's does not.
        assert not under_journal(stream, {"JOURNAL_STREAM": identity(other.fileno())})
        assert not under_journal(stream, {})
        assert not under_journal(stream, {"JOURNAL_STREAM": "not:numbers"})
        assert not under_journal(stream, {"JOURNAL_STREAM": "12"})
    left, right = socket.socketpair()  # the journal hands a service a stream socket
    with left, right, os.fdopen(os.dup(left.fileno()), "w") as stream:
        assert under_journal(stream, {"JOURNAL_STREAM": identity(left.fileno())})


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serving_a_failing_check(tmp_path: Path, *options: str, journal: bool = False) -> list[str]:
    """``monitor [OPTIONS] run`` while its check fails three runs in a row; its stderr a real file."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[monitor]\nprobe = "box"\n[[check]]\nname = "api"\nkind = "http"\n'
        f'url = "http://127.0.0.1:{closed_port()}/v1"\ntimeout = "2s"\ninterval = "1s"\n',
        encoding="utf-8",
    )
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        if journal:
            env["JOURNAL_STREAM"] = identity(stderr.fileno())
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", *options, "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )
        try:
            ran = wait_until(lambda: runs(tmp_path / "monitor.db") >= 3, timeout=60)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert ran, log.read_text(encoding="utf-8")
    return log.read_text(encoding="utf-8").splitlines()


def runs(database: Path) -> int:
    if not database.exists():
        return 0
    with closing(sqlite3.connect(database, timeout=10)) as connection:
        try:
            return int(connection.execute("SELECT count(*) FROM check_result").fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # not migrated yet


def state_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "[service.state]" in line]


def test_a_service_writes_one_plain_line_with_its_time_for_a_failure_that_repeats(tmp_path):
    (line,) = state_lines(serving_a_failing_check(tmp_path))
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING monitor.service ", line)
    assert "[service.state] check api failing: connect_refused: " in line


def test_a_service_under_the_journal_writes_no_time_of_its_own(tmp_path):
    lines = serving_a_failing_check(tmp_path, journal=True)
    (line,) = state_lines(lines)
    assert line.startswith("<4>WARNING monitor.service [service.state] check api failing: ")
    assert all(re.match(r"<\d>[A-Z]+ ", line) for line in lines)


def test_a_service_writes_json_lines_when_asked(tmp_path):
    lines = serving_a_failing_check(tmp_path, "--log-format", "json", journal=True)
    documents = [json.loads(line) for line in lines]  # every line is one JSON document
    (change,) = [d for d in documents if d.get("change")]
    assert change["subject"] == "check api"
    assert change["change"] == "failing"
    assert change["failure_class"] == "connect_refused"
    assert change["logger"] == "monitor.service"
    assert change["level"] == "WARNING"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", change["time"])
