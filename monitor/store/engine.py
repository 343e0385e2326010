"""Engine factory: one place that knows how each database must be opened."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.files import make_private

BUSY_TIMEOUT_MS = 10_000


def create_db_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on every connection.

    WAL lets ``monitor status`` read while the service writes; the busy
    timeout turns brief writer contention into a wait instead of "database
    is locked"; foreign keys are off by default in SQLite and we rely on them.
    synchronous=NORMAL under WAL survives a killed process (only a power cut
    can lose the last commits), at a fraction of FULL's fsync cost.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        make_private(Path(database).expanduser())
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from pysqlite so BEGIN is issued when SQLAlchemy
    # says, which is what makes "begin immediate" below possible.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch to WAL, retrying while another process does the same to a new file.

    Converting a fresh file needs an exclusive lock; when two connections
    race for it SQLite answers one with SQLITE_BUSY at once, without the busy
    handler (it would deadlock). Waiting out the other's switch is enough.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_on_begin(connection: Any) -> None:
    # A deferred transaction that reads and then writes can fail with
    # SQLITE_BUSY without waiting for the busy timeout; writers therefore
    # take the write lock up front. Readers stay deferred and, under WAL,
    # never wait for a writer.
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


WRITE_OPTION = "monitor_writer"


def session_factory(engine: Engine, *, write: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the CLI renders them).

    ``write=True`` sessions begin with the write lock held (SQLite), so a
    read-modify-write such as an upsert waits its turn instead of failing.
    """
    bind = engine.execution_options(**{WRITE_OPTION: True}) if write else engine
    return sessionmaker(bind, expire_on_commit=False)
