"""What a bad day looks like: slow pages, failed writes, racing processes, broken settings.

Each test pins one of the review fixes: the overall fetch deadline, ca_file
adding to the public CAs, per-source write isolation, which endpoint failures
end a source's poll, migrating a new file under the write lock, and database
and config mistakes reported as messages rather than tracebacks.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import OperationalError

import monitor.polling.record
from monitor.cli import main
from monitor.store import open_store
from monitor.store.engine import create_db_engine
from monitor.store.ingest import apply_snapshot as real_apply_snapshot
from monitor.store.migrate import HEAD_REVISION
from monitor.store.models import Base, ComponentStatus, Incident, Poll, Source
from monitor.transport import tls_context
from tests.conftest import fixture_bytes, run_monitor
from tests.loopback import LoopbackServer

EMPTY_MAINTENANCES = b'{"scheduled_maintenances": []}'
SQLITE_EXPECTED = (
    "expected a SQLAlchemy URL such as 'sqlite:///monitor.db' or 'postgresql+psycopg://host/db'"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def serve_github(server: LoopbackServer, prefix: str) -> str:
    server.route(f"{prefix}/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route(
        f"{prefix}/api/v2/incidents.json", fixture_bytes("github/incidents-2026-07-31.json")
    )
    server.route(f"{prefix}/api/v2/scheduled-maintenances.json", EMPTY_MAINTENANCES)
    return server.url + prefix


def poll_log(database: Path) -> list[tuple[str, Poll]]:
    """Every poll-log row, oldest first, with its source's name."""
    store = open_store(f"sqlite:///{database}")
    try:
        with store.read() as session:
            rows = session.execute(
                select(Source.name, Poll).join(Poll, Poll.source_id == Source.id).order_by(Poll.id)
            )
            return [(name, poll) for name, poll in rows.all()]
    finally:
        store.close()


def per_source(database: Path, model: type[Base]) -> dict[str, int]:
    """How many rows of ``model`` each source has (sources with none are absent)."""
    store = open_store(f"sqlite:///{database}")
    try:
        with store.read() as session:
            rows = session.execute(
                select(Source.name, func.count())
                .select_from(model)
                .join(Source, Source.id == model.source_id)  # type: ignore[attr-defined]
                .group_by(Source.name)
            )
            return dict(rows.all())
    finally:
        store.close()


def requested(server: LoopbackServer) -> list[str]:
    return [path for path, _ in server.requests]


# --- the overall deadline ------------------------------------------------------------------


def test_it_cuts_off_a_server_trickling_the_body_at_the_overall_deadline(
    server: LoopbackServer, write_config, capsys
) -> None:
    body = b"{" + b" " * 38 + b"}"
    assert len(body) == 40  # at 0.2 s a byte: about 8 s to send in full
    server.route("/slow/status", body, trickle=0.2)
    config = write_config(
        sources=[{"name": "slow", "kind": "statusio", "url": server.url + "/slow/status"}],
        http='timeout = "1s"\nconnect_timeout = "1s"\n',
    )

    status, out, _ = run(capsys, "--config", str(config), "poll")

    # No single read waits 1 s (a byte comes every 0.2 s), so only the
    # overall deadline can have stopped it.
    assert status == 1
    assert out == "slow  error: timed out after 1s reading the response\n"
    ((name, logged),) = poll_log(config.parent / "monitor.db")
    assert name == "slow"
    assert logged.outcome == "error"
    assert logged.error == "timed out after 1s reading the response"
    assert logged.http_status == 200
    assert 1000 <= logged.duration_ms < 3000


# --- ca_file -------------------------------------------------------------------------------


def test_it_trusts_the_public_cas_and_the_configured_ca_file(tls_authority, tmp_path) -> None:
    ca_file = tmp_path / "corp-ca.pem"
    tls_authority.cert_pem.write_to_path(str(ca_file))
    alone = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    alone.load_verify_locations(cafile=str(ca_file))
    (ours,) = alone.get_ca_certs()
    public = httpx.create_ssl_context().get_ca_certs(binary_form=True)

    context = tls_context(str(ca_file))

    certs = context.get_ca_certs()
    assert len(certs) > 1
    assert ours["subject"] in [cert["subject"] for cert in certs]
    binary = context.get_ca_certs(binary_form=True)
    assert set(public) <= set(binary)  # added to, not instead of
    assert len(binary) == len(public) + 1
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


# --- write isolation -----------------------------------------------------------------------


def test_it_logs_a_failed_write_for_one_source_and_still_records_the_others(
    server: LoopbackServer, write_config, monkeypatch, capsys
) -> None:
    config = write_config(
        sources=[
            {"name": "broken", "kind": "statuspage", "url": serve_github(server, "/one")},
            {"name": "steady", "kind": "statuspage", "url": serve_github(server, "/two")},
        ]
    )
    attempts: list[str] = []

    def apply_then_fail_for_broken(session, source_id, *args, **kwargs):
        # Write first, then fail: the rows already in the transaction must go.
        stats = real_apply_snapshot(session, source_id, *args, **kwargs)
        name = session.get(Source, source_id).name
        attempts.append(name)
        if name == "broken":
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        return stats

    monkeypatch.setattr(monitor.polling.record, "apply_snapshot", apply_then_fail_for_broken)

    status, out, _ = run(capsys, "--config", str(config), "poll")

    assert status == 1
    assert sorted(attempts) == ["broken", "steady"]
    lines = out.splitlines()
    assert lines[0].startswith("broken  error: could not record the poll: OperationalError: ")
    assert lines[1].startswith("steady  ok: 50 new incidents, 287 new updates, 12 component")
    database = config.parent / "monitor.db"
    logged = dict(poll_log(database))
    assert logged["broken"].outcome == "error"
    assert (logged["broken"].error or "").startswith("could not record the poll: OperationalError:")
    assert (logged["broken"].error or "").endswith("database is locked")
    assert logged["broken"].new_incidents == 0
    assert logged["steady"].outcome == "ok"
    assert logged["steady"].new_incidents == 50
    assert per_source(database, Incident) == {"steady": 50}
    assert per_source(database, ComponentStatus) == {"steady": 12}

    # The rolled-back source kept no ETags either, so the next poll fetches
    # it in full instead of being told "not modified".
    monkeypatch.undo()
    status, out, _ = run(capsys, "--config", str(config), "poll")

    assert status == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("broken  ok: 50 new incidents, 287 new updates, 12 component")
    assert lines[1].startswith("steady  not modified")
    assert per_source(database, Incident) == {"broken": 50, "steady": 50}


# --- which endpoint failures end a source's poll -------------------------------------------


def test_it_skips_a_pages_other_endpoints_after_a_transport_failure(
    server: LoopbackServer, write_config, capsys
) -> None:
    serve_github(server, "/hangs")
    server.route("/hangs/api/v2/summary.json", b"{}", delay=5.0)
    config = write_config(
        sources=[{"name": "hangs", "kind": "statuspage", "url": server.url + "/hangs"}],
        http='timeout = "1s"\nconnect_timeout = "1s"\n',
    )

    status, out, _ = run(capsys, "--config", str(config), "poll")

    assert status == 1
    assert (
        out == "hangs  error: /api/v2/summary.json: timed out after 1s waiting for the response\n"
    )
    assert requested(server) == ["/hangs/api/v2/summary.json"]
    ((_, logged),) = poll_log(config.parent / "monitor.db")
    assert logged.http_status is None


def test_it_still_fetches_and_records_incidents_when_the_summary_answers_500(
    server: LoopbackServer, write_config, capsys
) -> None:
    serve_github(server, "/half")
    server.route("/half/api/v2/summary.json", b"oops", status=500, content_type="text/plain")
    config = write_config(
        sources=[{"name": "half", "kind": "statuspage", "url": server.url + "/half"}]
    )

    status, out, _ = run(capsys, "--config", str(config), "poll")

    assert status == 1
    assert out == "half  error: /api/v2/summary.json: HTTP 500 Internal Server Error\n"
    assert requested(server) == [
        "/half/api/v2/summary.json",
        "/half/api/v2/incidents.json",
        "/half/api/v2/scheduled-maintenances.json",
    ]
    database = config.parent / "monitor.db"
    ((_, logged),) = poll_log(database)
    assert (logged.outcome, logged.http_status) == ("error", 500)
    assert logged.new_incidents == 50
    assert per_source(database, Incident) == {"half": 50}
    assert per_source(database, ComponentStatus) == {}


# --- migrating a new database from several processes at once ----------------------------------


# Imports come first (Alembic too: open_store imports it lazily) and the
# byte on stdin is the starting gun, so the four race on the file itself,
# not on interpreter start-up. Without the migration's write lock about one
# round in four fails with "database is locked"; five rounds catch it most times.
OPEN_AND_CLOSE = (
    "import sys\n"
    "import alembic.command, alembic.config, alembic.runtime.migration, alembic.script\n"
    "from monitor.store import open_store\n"
    "sys.stdin.read(1)\n"
    "open_store({url!r}).close()\n"
)


@pytest.mark.parametrize("round_", range(5))
def test_it_migrates_a_new_database_once_when_four_processes_open_it_together(
    database_url: str, round_: int
) -> None:
    """On SQLite the migration's flock and write lock keep them apart; on PostgreSQL, the
    advisory lock (without it every round fails on ``pg_type_typname_nsp_index``)."""
    code = OPEN_AND_CLOSE.format(url=database_url)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("g")
            process.stdin.flush()
        results = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    assert [p.returncode for p in processes] == [0, 0, 0, 0], [err for _, err in results]
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = sorted(inspect(connection).get_table_names())
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            if connection.dialect.name == "sqlite":
                integrity = connection.exec_driver_sql("PRAGMA integrity_check").all()
                assert [tuple(row) for row in integrity] == [("ok",)]
    finally:
        engine.dispose()
    assert tables == sorted([*Base.metadata.tables, "alembic_version"])
    assert [tuple(row) for row in versions] == [(HEAD_REVISION,)]
    if database_url.startswith("sqlite:///"):  # the migration lock went with its holder
        database = Path(database_url.removeprefix("sqlite:///"))
        assert not database.with_name(database.name + ".migrate.lock").exists()


# --- database and config mistakes are messages ----------------------------------------------


def test_it_reports_a_database_path_under_a_regular_file_as_a_config_error(
    tmp_path: Path, write_config
) -> None:
    (tmp_path / "afile").write_text("not a folder\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path}/afile/monitor.db"
    config = write_config(extra=f'[database]\nurl = "{url}"\n')

    done = run_monitor(config, "sources", timeout=60)

    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {config}: ")
    assert f"database.url: '{tmp_path / 'afile'}' is a file, not a folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_it_reports_a_file_that_is_not_a_database_as_a_message(
    tmp_path: Path, write_config
) -> None:
    database = tmp_path / "junk.db"
    database.write_bytes(b"this is not an SQLite file, just some text. " * 200)
    config = write_config(extra=f'[database]\nurl = "sqlite:///{database}"\n')

    done = run_monitor(config, "sources", timeout=60)

    assert done.returncode == 1
    assert done.stderr == f"error: cannot open sqlite:///{database}: file is not a database\n"
    assert done.stdout == ""


def test_it_reports_a_database_url_of_an_unknown_kind_as_a_config_error(
    write_config, capsys
) -> None:
    config = write_config(extra='[database]\nurl = "foo://x"\n')

    status, out, err = run(capsys, "--config", str(config), "sources")

    assert status == 2
    assert out == ""
    first, problem = err.splitlines()
    assert first == f"error: {config}: 1 problem in config"
    assert problem.startswith("  database.url: ")
    assert "'foo" in problem


def test_it_names_the_unknown_kind_of_a_database_url(write_config, capsys) -> None:
    config = write_config(extra='[database]\nurl = "foo://x"\n')

    status, _, err = run(capsys, "--config", str(config), "sources")

    assert status == 2
    assert err.splitlines()[1] == f"  database.url: unknown database kind 'foo'; {SQLITE_EXPECTED}"


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://monitor@db.example.com:port/monitor", "postgresql://db.example.com:/m"],
)
def test_it_reports_a_database_url_with_a_bad_port_as_a_config_error(
    url: str, write_config, capsys
) -> None:
    config = write_config(extra=f'[database]\nurl = "{url}"\n')

    status, _, err = run(capsys, "--config", str(config), "sources")

    assert status == 2
    assert err.splitlines()[1].startswith("  database.url: ")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("foo://monitor:hunter2pw@db.example.com/monitor", id="unknown-kind"),
        pytest.param(
            "postgresql+psycopg:/monitor:hunter2pw@db.example.com/monitor", id="one-slash"
        ),
    ],
)
def test_it_never_shows_the_password_of_a_rejected_database_url(
    url: str, write_config, capsys
) -> None:
    config = write_config(extra=f'[database]\nurl = "{url}"\n')

    status, out, err = run(capsys, "--config", str(config), "sources")

    assert status == 2
    assert any(line.startswith("  database.url: ") for line in err.splitlines()[1:])
    assert "hunter2pw" not in out + err


def test_it_hides_the_password_when_a_database_cannot_be_opened(
    write_config, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("MONITOR_DB_PASSWORD", "secret")
    url = "postgresql+psycopg://monitor:${MONITOR_DB_PASSWORD}@127.0.0.1:1/monitor"
    config = write_config(extra=f'[database]\nurl = "{url}"\n')

    status, out, err = run(capsys, "--config", str(config), "sources")

    assert status == 1
    assert err.startswith(
        "error: cannot open postgresql+psycopg://monitor:***@127.0.0.1:1/monitor: "
    )
    assert "secret" not in out + err


def test_it_rejects_credentials_in_a_source_url_without_repeating_them(
    write_config, capsys
) -> None:
    config = write_config(
        sources=[
            {"name": "vendor", "kind": "feed", "url": "https://user:secret@status.example.com"}
        ]
    )

    status, out, err = run(capsys, "--config", str(config), "poll")

    assert status == 2
    assert out == ""
    assert err == (
        f"error: {config}: 1 problem in config\n"
        '  source[0] ("vendor").url: credentials in the URL are not supported '
        "(they would be stored and printed); remove the user:password@ part of "
        "'https://REDACTED@status.example.com'\n"
    )
    assert "secret" not in err
    assert not (config.parent / "monitor.db").exists()
