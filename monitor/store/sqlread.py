"""Reads over a plain DB-API connection (sqlite3 or psycopg 3), with no SQLAlchemy on the way.

``monitor why`` answers in a new process, and importing SQLAlchemy alone
costs more than the whole answer may. So the reads ``why`` and ``timeline``
make are SQL text, written once for both databases and run on the driver's
own connection; what SQLAlchemy's column types did at the edge is done
here instead:

* parameters are written ``:name`` (sqlite3's own style; rewritten to
  ``%(name)s`` for psycopg); a list or tuple value is spread in place, for
  ``IN (:ids)`` (an empty one is ``NULL``: nothing is in it);
* an aware datetime parameter is bound as the column holds it: on SQLite
  as naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff' (``types.UTCDateTime``:
  one fixed format, so comparing text compares times), on PostgreSQL as it
  is (timestamptz); a naive one is refused;
* the result columns named in ``times`` come back as aware UTC datetimes,
  those in ``json`` parsed (SQLite holds JSON as text; psycopg parses it);
* a driver's error is a ``DatabaseError`` ("database: ..."), which the
  command line prints as one line, as it does SQLAlchemy's.

Check runs hold integer milliseconds (``runcodes``): the bulk of what
``why`` reads needs nothing here but ``runcodes.from_ms``. The table named
``check`` is a keyword in both databases: write it ``"check"``.

A ``Reader`` is one read transaction on one connection. Two ways to get
one: ``Store.reading()``, over an open store's engine (the service, the
charts, the report), and ``open_reader(url)`` for a command that has no
store open: it connects with the driver alone and gives None unless the
database is already at ``HEAD_REVISION`` (then the caller opens the store,
which migrates it).
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote

from monitor.errors import DatabaseError
from monitor.store.revision import HEAD_REVISION

# How long a SQLite connection waits for another's lock (engine.py sets the same).
BUSY_TIMEOUT_MS = 10_000

# A ``:name`` parameter: not a PostgreSQL ``::`` cast, not inside a word.
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")

# SQLAlchemy's URL shape (sqlalchemy/engine/url.py), as far as opening needs it.
_URL = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:(?P<user>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?P<host>(?:\[[^/?]+\]|[^/:?]+)?(?::[^/?]*)?)?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X | re.S,
)
# The URLs opened here; any other driver is left to SQLAlchemy (``open_store``).
_SQLITE = frozenset({"sqlite", "sqlite+pysqlite"})
_POSTGRES = frozenset({"postgresql+psycopg"})

Row = tuple[Any, ...]


class Reader:
    """One read transaction on a DB-API connection: SQL text in, plain rows out."""

    __slots__ = ("_bind", "_close", "_errors", "_time", "connection", "dialect")

    def __init__(
        self, connection: Any, dialect: str, *, close: Callable[[], None] | None = None
    ) -> None:
        if dialect == "sqlite":
            import sqlite3

            self._errors: type[Exception] = sqlite3.Error
            self._bind: Callable[[Any], Any] = _sqlite_param
            self._time: Callable[[Any], datetime | None] = _sqlite_time
        elif dialect == "postgresql":
            import psycopg

            self._errors = psycopg.Error
            self._bind = _postgres_param
            self._time = _postgres_time
        else:
            raise ValueError(f"no plain reader for {dialect!r} databases")
        self.connection = connection
        self.dialect = dialect
        self._close = close

    def rows(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        times: Sequence[int] = (),
        json: Sequence[int] = (),
    ) -> list[Row]:
        """Every row ``sql`` gives, with the columns at ``times`` and ``json`` converted."""
        text, values = self._statement(sql, params or {})
        try:
            found: list[Row] = self.connection.execute(text, values).fetchall()
        except self._errors as exc:
            raise _database_error(exc) from exc
        if not (times or json) or not found:
            return found
        time, parse = self._time, self.dialect == "sqlite"
        converted = []
        for row in found:
            items = list(row)
            for index in times:
                items[index] = time(items[index])
            if parse:
                for index in json:
                    value = items[index]
                    items[index] = None if value is None else jsonlib.loads(value)
            converted.append(tuple(items))
        return converted

    def first(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        times: Sequence[int] = (),
        json: Sequence[int] = (),
    ) -> Row | None:
        """The first row (None: no row); write the SQL to give one (``LIMIT 1``)."""
        found = self.rows(sql, params, times=times, json=json)
        return found[0] if found else None

    def scalar(
        self, sql: str, params: Mapping[str, Any] | None = None, *, time: bool = False
    ) -> Any:
        """The first column of the first row (None: no row), an aware datetime if ``time``."""
        row = self.first(sql, params, times=(0,) if time else ())
        return None if row is None else row[0]

    def close(self) -> None:
        """End the read and, for a reader ``open_reader`` made, its connection."""
        if self._close is not None:
            close, self._close = self._close, None
            close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _statement(self, sql: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The driver's SQL text and parameter values for ``sql`` and ``params``."""
        bind = self._bind
        values: dict[str, Any] = {}
        spread: list[tuple[str, int]] = []
        for name, value in params.items():
            if isinstance(value, list | tuple | set | frozenset):
                spread.append((name, len(value)))
                for index, item in enumerate(value):
                    values[f"{name}_{index}"] = bind(item)
            else:
                values[name] = bind(value)
        return _text(self.dialect, sql, tuple(spread)), values


@lru_cache(maxsize=512)
def _text(dialect: str, sql: str, spread: tuple[tuple[str, int], ...]) -> str:
    """``sql`` with list parameters spread and placeholders in the driver's style."""
    for name, count in spread:
        items = ", ".join(f":{name}_{index}" for index in range(count)) or "NULL"
        sql = re.sub(rf"(?<![:\w]):{name}\b", items, sql)
    if dialect == "postgresql":
        sql = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))
    return sql


def _sqlite_param(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} refused: store aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _postgres_param(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} refused: store aware UTC times only")
    return value


def _sqlite_time(value: Any) -> datetime | None:
    """A time SQLAlchemy stored on SQLite (naive UTC text), as an aware UTC datetime."""
    if value is None:
        return None
    moment: datetime = value
    if isinstance(value, str):
        try:  # naive UTC text: read as UTC in one step (six times faster than .replace)
            moment = datetime.fromisoformat(value + "+00:00")
        except ValueError:  # not the usual text: an offset of its own
            moment = datetime.fromisoformat(value)
        if moment.tzinfo is UTC:
            return moment
    assert isinstance(moment, datetime), f"not a time: {value!r}"
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _postgres_time(value: Any) -> datetime | None:
    """A timestamptz (in the session's zone) as UTC."""
    if value is None:
        return None
    assert isinstance(value, datetime), f"not a time: {value!r}"
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _database_error(exc: Exception) -> DatabaseError:
    detail = (str(exc).splitlines() or [""])[0]
    return DatabaseError(f"database: {detail}")


def open_reader(url: str) -> Reader | None:
    """A reader of ``url`` straight through its driver, if it is already at ``HEAD_REVISION``.

    None when this cannot say, which sends the caller to ``open_store`` (it
    migrates, creates, or names the problem): a driver or a URL option
    other than plain ``sqlite`` and ``postgresql+psycopg`` give, a SQLite
    file that does not exist yet, a database that cannot be reached or is
    at another revision. SQLite is opened as ``open_store`` opens it (the
    file made private, the same busy timeout) but never created and never
    written (``query_only``); both read in one transaction, one snapshot.
    """
    match = _URL.fullmatch(url)
    if match is None:
        return None
    if match["name"] in _SQLITE:
        return _open_sqlite(match)
    if match["name"] in _POSTGRES:
        return _open_postgres(url)
    return None


def _open_sqlite(match: re.Match[str]) -> Reader | None:
    import sqlite3

    from monitor.store.files import make_private

    database = unquote(match["database"] or "")
    if match["user"] is not None or match["host"] or match["query"] is not None:
        return None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    if not path.is_file():
        return None
    make_private(path)  # as open_store does: an older version's 0644 file is tightened
    try:
        connection = sqlite3.connect(
            f"file:{quote(str(path))}?mode=rw",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # transactions are begun here, as engine.py does
        )
    except sqlite3.Error:
        return None
    try:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA query_only=ON")
        connection.execute("BEGIN")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        connection.close()
        return None
    if revision is None or revision[0] != HEAD_REVISION:
        connection.close()
        return None
    return Reader(connection, "sqlite", close=connection.close)


def _open_postgres(url: str) -> Reader | None:
    try:
        import psycopg
    except ImportError:
        return None
    conninfo = "postgresql://" + url.split("://", 1)[1]
    try:
        connection = psycopg.connect(conninfo)
    except (psycopg.Error, ValueError):
        return None
    try:
        connection.read_only = True
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.Error:
        connection.close()
        return None
    if revision is None or revision[0] != HEAD_REVISION:
        connection.close()
        return None
    return Reader(connection, "postgresql", close=connection.close)
