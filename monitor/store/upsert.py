"""``INSERT ... ON CONFLICT``: first writes that tolerate another probe writing the same row.

Several probes share one database; two of them can meet a new source, check,
incident or update at the same moment. A plain INSERT makes the slower one
fail on the unique key. ON CONFLICT lets it skip (DO NOTHING) or overwrite
(DO UPDATE) instead, and on PostgreSQL it waits for the other transaction
first, so a read after it sees the row that won. SQLite and PostgreSQL spell
it the same way but SQLAlchemy keeps it per dialect: this is the one place
that chooses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_on_conflict(
    dialect: str | Session,
    target: type[Any] | Table,
    keys: Sequence[str],
    *,
    update: Sequence[str] = (),
) -> Insert:
    """INSERT into ``target``; a row whose ``keys`` exist is skipped, or has ``update`` overwritten.

    ``dialect`` is a dialect name or a session bound to the database. With
    no ``update`` columns the conflict is DO NOTHING, and RETURNING yields
    only the rows really inserted: the caller reads the others back.
    """
    name = dialect if isinstance(dialect, str) else dialect.get_bind().dialect.name
    if name == "sqlite":
        statement: sqlite.Insert | postgresql.Insert = sqlite.insert(target)
    elif name == "postgresql":
        statement = postgresql.insert(target)
    else:
        raise NotImplementedError(f"monitor does not support {name} databases")
    if not update:
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={column: statement.excluded[column] for column in update}
    )
