"""A PostgreSQL server given by ``--postgres-url``: the benchmark's own databases on it.

The URL is SQLAlchemy's (``postgresql+psycopg://user@127.0.0.1:55433/postgres``); its database
is only connected to for CREATE and DROP DATABASE, so its user must be allowed those. The
figures' databases are made beside it under fixed names (``monitor_bench_*``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from benchmarks.measure import BenchmarkError
from benchmarks.service_process import cpu_seconds

if TYPE_CHECKING:  # psycopg is needed only with --postgres-url, so imported only then
    import psycopg


def database_url(url: str, name: str) -> str:
    """``url`` pointed at database ``name`` (same server, user, driver)."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
    """A psycopg connection to ``url`` (imported here: only these figures need it)."""
    try:
        import psycopg
    except ModuleNotFoundError:
        raise BenchmarkError(
            "the PostgreSQL figures need psycopg: pip install 'psycopg[binary]'"
        ) from None
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=autocommit)


def admin(url: str, sql: Any, *parameters: object) -> list[tuple[Any, ...]]:
    """One statement on the server's own database (autocommit); its rows."""
    with connect(url, autocommit=True) as connection:
        cursor = connection.execute(sql, parameters or None)
        return cursor.fetchall() if cursor.description else []


def recreate(url: str, name: str) -> str:
    """Drop database ``name`` if it exists, create it empty; its URL."""
    from psycopg import sql

    admin(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin(url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(url, name)


def comment(url: str, name: str) -> str | None:
    """The label on database ``name``, set only once a load committed (None: none, or no such)."""
    found = admin(
        url,
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        name,
    )
    return None if not found or found[0][0] is None else str(found[0][0])


def set_comment(url: str, name: str, text: str) -> None:
    from psycopg import sql

    statement = sql.SQL("COMMENT ON DATABASE {} IS {}")
    admin(url, statement.format(sql.Identifier(name), sql.Literal(text)))


def server_version(url: str) -> str:
    return str(admin(url, "SHOW server_version")[0][0])


def database_size(url: str, name: str) -> int:
    """Bytes database ``name`` takes on the server (tables, indexes, TOAST)."""
    return int(admin(url, "SELECT pg_database_size(%s)", name)[0][0])


def backends_cpu(url: str, name: str) -> dict[int, float]:
    """CPU seconds so far of each server process connected to ``name``, when the server runs on
    this machine (its host is loopback or a socket); none otherwise."""
    if make_url(url).host not in (None, "", "localhost", "127.0.0.1", "::1"):
        return {}
    pids = admin(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        name,
    )
    seconds = {}
    for (pid,) in pids:
        if os.path.exists(f"/proc/{pid}"):
            try:
                seconds[int(pid)] = cpu_seconds(int(pid))
            except OSError:  # gone meanwhile
                continue
    return seconds
