"""An open store: SQLAlchemy's engine and sessions, the schema brought up to date first.

Imported as ``monitor.store.Store`` and ``monitor.store.open_store`` (the
package loads this module on first use of either).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import DatabaseError
from monitor.store.engine import create_db_engine, session_factory
from monitor.store.migrate import ensure_schema
from monitor.store.sqlread import Reader


@dataclass
class Store:
    """An open database: a reader and a writer session factory over one engine."""

    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]
    migrated: bool = False

    def close(self) -> None:
        self.engine.dispose()

    def reader(self) -> Reader:
        """A plain ``Reader`` on one of the engine's connections, in one read transaction.

        What the service, the charts and the report hand the reads ``why``
        makes without SQLAlchemy (``monitor.store.evidence``): the same SQL
        on the driver's own connection, from the engine's pool. Closing the
        reader ends the transaction and gives the connection back.
        """
        connection = self.engine.connect()
        try:
            transaction = connection.begin()
        except BaseException:
            connection.close()
            raise

        def close() -> None:
            try:
                transaction.rollback()  # it only read
            finally:
                connection.close()

        return reader_of(connection, close=close)

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """``reader()`` for a block: closed (the transaction ended) when the block ends."""
        reader = self.reader()
        try:
            yield reader
        finally:
            reader.close()


def reader_of(
    connection: Session | Connection, *, close: Callable[[], None] | None = None
) -> Reader:
    """A ``Reader`` on the connection a session or connection is using, in its transaction.

    For a read that already holds a session (one snapshot for a dashboard):
    the plain reads see what its own queries see.
    """
    if isinstance(connection, Session):
        connection = connection.connection()
    return Reader(connection.connection.driver_connection, connection.dialect.name, close=close)


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Open ``url``, bringing its schema up to date first unless told not to.

    Raises DatabaseError, naming the database (password hidden), when it
    cannot be opened: a missing driver, an unwritable path, a server down.
    """
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        engine = create_db_engine(url)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"cannot open {shown}: its driver is not installed (pip install {exc.name})"
        ) from None
    except (SQLAlchemyError, OSError) as exc:
        raise _cannot_open(shown, exc) from None
    try:
        migrated = ensure_schema(engine) if upgrade else False
    except BaseException as exc:
        # Close what it opened: a server connection left to the garbage
        # collector is a leak in a long-lived process.
        engine.dispose()
        if isinstance(exc, SQLAlchemyError | OSError):
            raise _cannot_open(shown, exc) from None
        raise
    return Store(
        engine=engine,
        read=session_factory(engine),
        write=session_factory(engine, write=True),
        migrated=migrated,
    )


def _cannot_open(shown: str, exc: BaseException) -> DatabaseError:
    detail = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
    return DatabaseError(f"cannot open {shown}: {detail}")
