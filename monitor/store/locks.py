"""Serializing a read-then-write on one name, on every engine the store supports."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (PostgreSQL advisory locks take a bigint).

    Not Python's ``hash``: it differs between processes, and every machine
    must map a name to the same key.
    """
    digest = hashlib.sha256(f"monitor:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def serialize_on(session: Session, name: str) -> None:
    """Hold, until the transaction ends, a lock that every writer naming ``name`` waits for.

    Call it first in a write transaction. SQLite needs nothing more: write
    sessions begin IMMEDIATE (store/engine.py), so one writer at a time
    holds the whole file. PostgreSQL takes ``pg_advisory_xact_lock``; under
    its default READ COMMITTED each later statement sees what the previous
    holder committed, so a check followed by an insert cannot race.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(lock_key(name))))
