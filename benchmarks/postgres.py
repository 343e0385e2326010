"""A PostgreSQL server given by ``--postgres-url``: throw-away databases on it, and their CPU.

The URL is SQLAlchemy's (``postgresql+psycopg://user@127.0.0.1:55433/postgres``);
its database is only the one connected to for CREATE and DROP DATABASE, so
its user must be allowed those. The figures' own databases are made beside it
under fixed names (``monitor_bench_*``) and dropped or reused by name only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from benchmarks.measure import BenchmarkError
from benchmarks.service_process import cpu_seconds

if TYPE_CHECKING:  # psycopg is needed only with --postgres-url, so imported only then
    import psycopg


def database_url(url: str, name: str) -> str:
    """``url`` pointed at database ``name`` (same server, user, driver)."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def conninfo(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for psycopg directly."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
    """A psycopg connection to ``url`` (psycopg is imported here: only these figures need it)."""
    try:
        import psycopg
    except ModuleNotFoundError:
        raise BenchmarkError(
            "the PostgreSQL figures need psycopg: pip install 'psycopg[binary]>=3.1'"
        ) from None
    return psycopg.connect(conninfo(url), autocommit=autocommit)


def _admin(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    return connect(url, autocommit=True)


def recreate(url: str, name: str) -> str:
    """Drop database ``name`` if it exists, create it empty; its URL."""
    from psycopg import sql

    with _admin(url) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(url, name)


def comment(url: str, name: str) -> str | None:
    """The comment on database ``name`` (None: no comment, or no such database).

    A database the benchmark filled is labelled with what it holds only once
    the load committed, so a label is proof of a complete load.
    """
    with _admin(url) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def set_comment(url: str, name: str, text: str) -> None:
    from psycopg import sql

    with _admin(url) as admin:
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(text))
        )


def server_version(url: str) -> str:
    with _admin(url) as admin:
        row = admin.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def database_size(url: str, name: str) -> int:
    """Bytes database ``name`` takes on the server (tables, indexes, TOAST)."""
    with _admin(url) as admin:
        row = admin.execute("SELECT pg_database_size(%s)", (name,)).fetchone()
    return int(row[0]) if row else 0


def backend_pids(url: str, name: str) -> set[int]:
    """The server processes connected to database ``name`` right now (not this query's)."""
    with _admin(url) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return {int(row[0]) for row in rows}


def local_cpu(pids: Iterable[int]) -> dict[int, float]:
    """utime + stime of each pid readable in this machine's /proc (a remote server's: none)."""
    seconds = {}
    for pid in pids:
        try:
            seconds[pid] = cpu_seconds(pid)
        except OSError:
            continue
    return seconds


def is_local(url: str) -> bool:
    """Whether the server's processes can be read here (its host is loopback, or a socket)."""
    host = make_url(url).host
    return (host in (None, "", "localhost", "127.0.0.1", "::1")) and os.path.isdir("/proc")
