"""A real PostgreSQL for the tests: a throw-away local cluster, or one named by the environment.

``MONITOR_TEST_POSTGRES_URL`` names a server to use instead (a URL whose user
may CREATE DATABASE, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).
Without it, the server binaries (Debian's ``/usr/lib/postgresql/<version>/bin``
or ``initdb`` on PATH) start a cluster in a temporary folder on a free
127.0.0.1 port, with trust authentication on loopback only and durability off
(``fsync=off``: nothing in it must survive a crash), which is stopped and
deleted when the session ends. PostgreSQL refuses to run as root, so as root
the cluster belongs to the ``postgres`` account.

Neither available: the PostgreSQL tests are skipped, except under ``CI``,
where a missing PostgreSQL is an error: CI must never pass without them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url

URL_VARIABLE = "MONITOR_TEST_POSTGRES_URL"
SERVER_ACCOUNT = "postgres"  # who owns the cluster when the tests run as root
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class PostgresServer:
    """A running server the tests may create and drop databases on."""

    admin_url: URL  # a maintenance database, connected to for CREATE/DROP DATABASE

    @contextlib.contextmanager
    def fresh_database(self) -> Iterator[str]:
        """A new, empty database for one test, dropped afterwards however the test ended.

        ``WITH (FORCE)`` ends connections a failed test left open, so one
        test's leftovers never block the next.
        """
        name = f"monitor_test_{uuid.uuid4().hex[:16]}"
        self._execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as connection:
            connection.execute(statement.encode())


def _libpq(url: URL) -> str:
    """The URL as libpq reads it (no ``+psycopg`` driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_server() -> Iterator[PostgresServer]:
    """The body of the session fixture: yields a server, or skips (fails under CI)."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield PostgresServer(make_url(given).set(drivername="postgresql+psycopg"))
        return
    binaries = server_binaries()
    problem = _why_not_local(binaries)
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL tests cannot run under CI: {problem}", pytrace=False)
        pytest.skip(f"no PostgreSQL: {problem} (or set {URL_VARIABLE})")
    assert binaries is not None
    with local_cluster(binaries) as server:
        yield server


def server_binaries() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``: the newest Debian one, or PATH."""
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: (
            int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0
        ),
    )
    if debian:
        return Path(debian[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _why_not_local(binaries: Path | None) -> str | None:
    if binaries is None:
        return "no PostgreSQL server binaries (initdb) found"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            return f"running as root and there is no {SERVER_ACCOUNT!r} account to run it as"
    return None


@contextlib.contextmanager
def local_cluster(binaries: Path) -> Iterator[PostgresServer]:
    """Start a throw-away cluster on a free loopback port; stop and delete it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    data = folder / "data"
    owner = _owner()
    try:
        if owner is not None:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        account = owner.pw_name if owner is not None else pwd.getpwuid(os.geteuid()).pw_name
        _run(owner, binaries / "initdb", "-D", data, "-U", account, "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")  # fmt: skip
        port = _free_port()
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={port}",
                f"-c unix_socket_directories={folder}",
                # Durability is worthless for a cluster deleted at the end: skip it.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        _run(owner, binaries / "pg_ctl", "-D", data, "-l", folder / "server.log", "-o", options,
             "-w", "-t", str(START_TIMEOUT_S), "start")  # fmt: skip
        try:
            yield PostgresServer(
                URL.create(
                    "postgresql+psycopg",
                    username=account,
                    host="127.0.0.1",
                    port=port,
                    database="postgres",
                )
            )
        finally:
            _run(owner, binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _owner() -> pwd.struct_passwd | None:
    """The account to run the server as: ``postgres`` when we are root, else ourselves (None)."""
    return pwd.getpwnam(SERVER_ACCOUNT) if os.geteuid() == 0 else None


def _run(owner: pwd.struct_passwd | None, program: Path, *args: str | Path) -> None:
    command = [str(program), *map(str, args)]
    if owner is not None:
        command = ["runuser", "-u", owner.pw_name, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{program.name} failed ({done.returncode}): {done.stderr.strip()}")


def _free_port() -> int:
    """A port free on 127.0.0.1 now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
