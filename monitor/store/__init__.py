"""The store owns SQL: models, engine, migrations and every query live here.

Importing the package costs nothing: ``Store`` and ``open_store`` live in
``monitor.store.database`` (SQLAlchemy's engine, sessions and migrations)
and are loaded on first use, so ``from monitor.store import Store,
open_store`` works as ever while a command that reads through the driver
alone (``monitor.store.sqlread``, what ``monitor why`` takes) never loads
SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.store.database import Store, open_store

__all__ = ["Store", "open_store"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from monitor.store import database

        return getattr(database, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
