"""Alembic environment: runs against the engine monitor hands it (see store/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from monitor.store.engine import WRITE_OPTION, create_db_engine
from monitor.store.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("run migrations through 'monitor db upgrade' or set sqlalchemy.url")
    return create_db_engine(url) if url.startswith("sqlite") else create_engine(url)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # As a writer: on SQLite the migration takes the write lock before it
    # reads the current revision, so two processes opening a new file at
    # once migrate it once instead of one failing with "database is locked".
    engine = _engine().execution_options(**{WRITE_OPTION: True})
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
