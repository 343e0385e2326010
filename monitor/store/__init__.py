"""The store owns SQL: models, engine, migrations and every query live here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import DatabaseError
from monitor.store.engine import create_db_engine, session_factory
from monitor.store.migrate import ensure_schema


@dataclass
class Store:
    """An open database: a reader and a writer session factory over one engine."""

    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]
    migrated: bool = False

    def close(self) -> None:
        self.engine.dispose()


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
