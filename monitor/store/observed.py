"""Writes and reads of observed failures: what ``monitor import`` brought in from the user's logs.

Imports can be large (a week of a busy tool's log is 100,000 lines), so rows
go in as Core executemany batches, never as ORM objects, each batch in its
own short write transaction: a running ``monitor run`` waits at most one
batch for the write lock, and an import cut short is finished by running it
again (fingerprints make the repeat add only what is missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from monitor.correlate.windows import Observation

if TYPE_CHECKING:  # the parser's regexes are not needed to read observations back
    from monitor.observed import ObservedLine
    from monitor.store import Store
    from monitor.store.sqlread import Reader

BATCH = 5_000


def record_observations(
    store: Store,
    rows: Iterable[ObservedLine],
    *,
    origin: str,
    source: str | None,
    imported_at: datetime,
) -> int:
    """Insert ``rows``, skipping fingerprints already stored; return how many were new.

    ``rows`` is consumed lazily, one batch at a time, so a file is never
    held in memory whole and each batch is built before its transaction
    takes the write lock.
    """
    # Imported here: ``list_observations`` is read by ``why``, which loads no SQLAlchemy.
    from monitor.store.models import ObservedEvent
    from monitor.store.upsert import insert_on_conflict

    # The Table, not the mapped class: rows go through Core, with no ORM bookkeeping.
    table = ObservedEvent.metadata.tables["observed_event"]
    added = 0
    statement = insert_on_conflict(store.engine.dialect.name, table, ["fingerprint"])
    for batch in _batches(rows, BATCH):
        values = [
            {
                "fingerprint": row.fingerprint,
                "at": row.at,
                "source": source,
                "target": row.target,
                "failure_class": row.failure_class,
                "error": row.error,
                "origin": origin,
                "imported_at": imported_at,
            }
            for row in batch
        ]
        with store.write() as session, session.begin():
            result = session.execute(statement, values)
            # executemany's rowcount counts only rows inserted: a conflict is
            # DO NOTHING and not counted (sqlite3 sums it over the batch).
            added += max(int(getattr(result, "rowcount", 0) or 0), 0)
    return added


def list_observations(
    reader: Reader, lo: datetime, hi: datetime, *, source: str | None = None
) -> list[Observation]:
    """Observed failures from ``lo`` to ``hi`` (inclusive), oldest first.

    ``source`` keeps only failures imported for that status source. The
    range is on ``at`` alone so the query walks ``ix_observed_event_at``.
    """
    mine = "" if source is None else " AND source = :source"
    return [
        Observation(at=at, failure_class=failure_class, source=name, target=target, error=error)
        for at, failure_class, name, target, error in reader.rows(
            "SELECT at, failure_class, source, target, error FROM observed_event "
            f"WHERE at >= :lo AND at <= :hi{mine} ORDER BY at, id",
            {"lo": lo, "hi": hi, "source": source},
            times=(0,),
        )
    ]


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
