"""Bring a database's schema to the version this code expects.

Every command opens the database through ``ensure_schema``. The common case,
a database already at head, costs one small query and does not import
Alembic at all; only a database that is behind pays for running migrations.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError

from monitor.errors import DatabaseError
from monitor.store.files import open_private, still_at
from monitor.store.revision import HEAD_REVISION as HEAD_REVISION  # re-exported

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig


def migrations_dir() -> Path:
    """The Alembic environment: inside the package in a wheel, top-level in a checkout."""
    packaged = Path(__file__).resolve().parent.parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic config bound to ``engine``, with no alembic.ini needed."""
    from alembic.config import Config as AlembicConfig

    # Alembic's default stdout is bound when alembic is first imported; pass
    # the current one so redirected output (tests, daemons) stays valid.
    config = AlembicConfig(stdout=sys.stdout)
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, or None for a new (or pre-Alembic) file."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return None if row is None else str(row[0])


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run migrations up to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine, *, attempts: int = 5) -> bool:
    """Upgrade the database if it is behind; return True when migrations ran.

    A database stamped with a revision this code does not know was written
    by a newer monitor: refuse rather than guess. Several processes opening
    a new file at once contend for it; a loser waits, re-reads the revision
    (usually the winner has migrated it by then) and tries again.
    """
    try:
        if current_revision(engine) == HEAD_REVISION:
            return False  # the everyday case: one small query, no lock, no Alembic
    except OperationalError:
        pass  # another process is creating the file right now: take the slow path
    with _migration_lock(engine):
        for attempt in range(attempts):
            # Connections opened while another process was converting the file
            # to WAL can stay stale; every attempt starts from fresh ones. (Not
            # on a server: the lock's own connection is checked out right now.)
            if engine.url.get_backend_name() == "sqlite":
                engine.dispose()
            try:
                return _ensure_schema_once(engine)
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.1 * (attempt + 1))
    return False


# The pg_advisory_lock key that serialises migrations on a PostgreSQL
# database: "monitor" in ASCII, so it is recognisable in pg_locks (classid
# 7171950, objid 1769238386, objsubid 1) and unlikely to meet another
# application's key in a shared database.
MIGRATION_LOCK_KEY = 0x6D6F6E69746F72


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One process at a time checks and migrates a database.

    PostgreSQL: a session-level advisory lock on ``MIGRATION_LOCK_KEY``, held
    on its own connection while the migrations run on others. Without it,
    probes starting together on an empty database all create the same tables
    and all but one fail (``pg_type_typname_nsp_index``). The lock ends with
    its connection, so a killed process never leaves it held.

    SQLite file: an flock on ``<database>.migrate.lock`` beside it, held for
    a migration's duration (seconds at most) and removed by its holder before
    letting go (``exclusive_lock_file``), so no command leaves a file behind. In-memory
    SQLite has one user: no lock.
    """
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with engine.connect() as connection:
            _wait_for_advisory_lock(connection)
            connection.commit()  # the lock outlives the transaction; keep none open meanwhile
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                connection.commit()
        return
    database = engine.url.database
    if backend != "sqlite" or not database or database == ":memory:":
        yield
        return
    with exclusive_lock_file(Path(database).with_name(Path(database).name + ".migrate.lock")):
        yield


@contextlib.contextmanager
def exclusive_lock_file(path: Path) -> Iterator[None]:
    """Hold an flock on ``path`` (created if need be), and remove the file before letting go.

    Why a file of its own, and not the database file: SQLite locks its file
    with POSIX record locks, which a process loses on *any* close of that
    file, ours included; and a transaction on the database cannot be the
    lock, since Alembic migrates on connections of its own (a held write
    lock would block them). A lock on the folder would hold every database
    in it. So a lock file, which only exists while someone migrates.

    Removing it safely: the holder unlinks the file while still holding the
    lock. A process that opened the file before that and was waiting then
    holds a lock on a file no longer at ``path`` (or on one that a newcomer
    has since created there); it sees that the inode at ``path`` is not the
    one it locked, and starts again. So the lock that counts is always the
    one on the file now at ``path``, and only its holder ever removes it.

    Crash-safe: the kernel drops a dead holder's flock; the file it leaves is
    locked and then removed by the next process that migrates.
    """
    while True:
        fd = open_private(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if still_at(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder removed it while we waited: lock what is there now
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


# How long a process waits for another one's migration before saying so.
MIGRATION_WAIT_S = 600


def _wait_for_advisory_lock(connection: Connection) -> None:
    """Take the migration lock, or stop after ``MIGRATION_WAIT_S`` naming who holds it.

    A stuck migrator must not leave every probe hanging without a word.
    """
    deadline = time.monotonic() + MIGRATION_WAIT_S
    key = {"key": MIGRATION_LOCK_KEY}
    while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar():
        if time.monotonic() > deadline:
            holders = connection.execute(
                text(
                    "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.objid = (:key)::bigint & 4294967295"
                ),
                key,
            ).all()
            who = "; ".join(
                f"pid {pid} from {addr or 'a local socket'}" for pid, addr, _ in holders
            )
            raise DatabaseError(
                f"another monitor has been migrating this database for over "
                f"{MIGRATION_WAIT_S // 60} minutes ({who or 'holder unknown'}); if it is stuck, "
                "stop it (its lock ends with its connection) and start again"
            )
        connection.commit()
        time.sleep(0.2)


def _ensure_schema_once(engine: Engine) -> bool:
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return False
    if revision is not None and not _is_known(engine, revision):
        raise DatabaseError(
            f"database schema is at revision {revision!r}, which this version of monitor "
            "does not know; it was written by a newer monitor. Upgrade monitor "
            "(pip install -U monitor) or point database.url at another database."
        )
    upgrade(engine)
    return True


def _is_known(engine: Engine, revision: str) -> bool:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(engine))
    return any(script.revision == revision for script in scripts.walk_revisions())
