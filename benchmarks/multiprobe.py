"""The generated database seen by several probes: copied once per probe, into SQLite and PostgreSQL.

Each table with a ``probe`` column is copied once per probe (the name replaced, ids renumbered
``(id - 1) * P + k + 1``: unique, still in time order); every other table once, as it is. Both
copies go into the app's own schema, made by its migrations: SQLite by ``INSERT ... SELECT`` from
the attached source; PostgreSQL by ``COPY ... FROM STDIN`` of the same SELECT's rows, in one
transaction that drops the tables' indexes and constraints and rebuilds each from its own
definition afterwards, as pg_dump's restore does, then VACUUM ANALYZE. A copy is labelled with
what it holds once complete (a JSON beside the SQLite file, a comment on the PostgreSQL database)
and reused while the label matches.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks import postgres
from benchmarks.generate import GeneratedSummary
from monitor.store import open_store

PROBES = ("probe-1", "probe-2", "probe-3", "probe-4")
DATABASE = "monitor_bench_why"  # the PostgreSQL copy's database, kept between runs


@dataclass(frozen=True, slots=True)
class Label:
    """What a copy holds: the source file (by its generated summary) and the probes."""

    source: str
    probes: tuple[str, ...]

    def text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def label(summary: GeneratedSummary, probes: Sequence[str] = PROBES) -> Label:
    s = summary
    return Label(
        f"{s.days} days x {s.checks} checks every {s.interval_s} s, seed {s.seed}, end {s.end}, "
        f"{s.counts['check_result']} check runs",
        tuple(probes),
    )


def sqlite_target(source: Path, probes: Sequence[str] = PROBES) -> Path:
    """Where the SQLite copy of ``source`` lives: beside it, named for the probes."""
    return source.with_name(f"{source.stem}-{len(probes)}probes.db")


def count_rows(url: str, table: str) -> int:
    """Rows in ``table`` of the database at ``url`` (either copy, through the app's engine)."""
    store = open_store(url, upgrade=False)
    try:
        with store.read() as session:
            return int(session.scalar(text(f"SELECT count(*) FROM {_quote(table)}")) or 0)
    finally:
        store.close()


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]

    @property
    def per_probe(self) -> bool:
        """Probes themselves, rows naming a probe by id, and rows naming it by name with an id."""
        return (
            self.name == "probe"
            or "probe_id" in self.columns
            or ("probe" in self.columns and "id" in self.columns)
        )

    def values(self, probes: Sequence[str]) -> list[str]:
        """The SELECT list giving the columns for one probe (``probes.k``, ``probes.name``).

        The generator wrote one probe: it becomes ``probe-1``... with id ``k + 1``,
        and check runs, which name their probe by id, follow it.
        """
        if self.name == "probe":
            per_probe = {"id": "probes.k + 1", "name": "probes.name"}
        else:
            per_probe = {
                "id": f"(t.id - 1) * {len(probes)} + probes.k + 1",
                "probe": "probes.name",
                "probe_id": "probes.k + 1",
            }
        return [
            per_probe[c] if self.per_probe and c in per_probe else f"t.{_quote(c)}"
            for c in self.columns
        ]

    def select(self, probes: Sequence[str], values: Sequence[str]) -> str:
        """``values`` from the source table, once per probe for a per-probe table; CROSS JOIN
        keeps the source the outer loop, so rows come out in id (= time) order."""
        query = f"SELECT {', '.join(values)} FROM src.{_quote(self.name)} AS t"
        if not self.per_probe:
            return query
        rows = ", ".join(f"({k}, '{p}')" for k, p in enumerate(probes))
        return f"WITH probes(k, name) AS (VALUES {rows}) {query} CROSS JOIN probes"


def tables(source: Path) -> list[Table]:
    """Every table of the app's schema in ``source`` (not Alembic's, not SQLite's own)."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as connection:
        names = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version' ORDER BY rowid"
        ).fetchall()
        found = []
        for (name,) in names:
            info = connection.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
            found.append(Table(name, tuple(r[1] for r in info)))
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_copy(
    source: Path, target: Path, label: Label, progress: Callable[[str], None]
) -> float | None:
    """``target``: ``source`` once per probe, in the app's schema; seconds taken (None: reused)."""
    marker = target.with_name(target.name + ".copy.json")
    if target.exists() and marker.exists() and marker.read_text(encoding="utf-8") == label.text():
        progress(f"using the {len(label.probes)}-probe SQLite copy {target}")
        return None
    began = time.perf_counter()
    for stale in (marker, target, *target.parent.glob(target.name + "-*")):
        stale.unlink(missing_ok=True)
    open_store(f"sqlite:///{target}").close()  # the app's schema, by its migrations
    with closing(sqlite3.connect(f"file:{target}", uri=True, isolation_level=None)) as connection:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):  # 1 GB
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("ATTACH ? AS src", (f"file:{source}?mode=ro",))
        connection.execute("BEGIN")
        for table in tables(source):
            progress(f"  SQLite copy: {table.name}")
            columns = ", ".join(map(_quote, table.columns))
            select = table.select(label.probes, table.values(label.probes))
            connection.execute(f"INSERT INTO main.{_quote(table.name)} ({columns}) {select}")
        connection.execute("COMMIT")
        connection.execute("DETACH src")
        connection.execute("PRAGMA journal_mode=WAL")  # as the app leaves its files
    marker.write_text(label.text(), encoding="utf-8")
    return time.perf_counter() - began


def postgres_copy(
    source: Path, url: str, name: str, label: Label, progress: Callable[[str], None]
) -> tuple[str, float | None]:
    """Database ``name`` on ``url``'s server: ``source`` once per probe; its URL, seconds taken
    (None: a complete copy with the same label was there already)."""
    if postgres.comment(url, name) == label.text():
        progress(f"using the {len(label.probes)}-probe PostgreSQL copy {name}")
        return postgres.database_url(url, name), None
    from psycopg import sql

    began = time.perf_counter()
    target = postgres.recreate(url, name)
    open_store(target).close()  # the app's schema, by its migrations
    copied = tables(source)
    with (
        postgres.connect(target) as connection,
        closing(sqlite3.connect("file::memory:", uri=True)) as reader,
    ):
        reader.execute("ATTACH ? AS src", (f"file:{source}?mode=ro",))
        connection.execute("SET TimeZone = 'UTC'")  # the source's naive times are UTC
        connection.execute("SET maintenance_work_mem = '1GB'")
        rebuild = _drop_indexes(connection, [t.name for t in copied])
        names = sql.SQL(", ").join(sql.Identifier(t.name) for t in copied)
        connection.execute(sql.SQL("TRUNCATE {}").format(names))
        for table in copied:
            progress(f"  PostgreSQL COPY: {table.name}")
            rows = reader.execute(table.select(label.probes, table.values(label.probes)))
            columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table.name), columns
            )
            with connection.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        for definition in rebuild:
            connection.execute(sql.SQL(definition))
        for table in copied:
            if "id" in table.columns:
                connection.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({0}, 'id'), max(id)) FROM {1} "
                        "HAVING max(id) IS NOT NULL"
                    ).format(sql.Literal(_quote(table.name)), sql.Identifier(table.name))
                )
        connection.commit()
    progress("  PostgreSQL: VACUUM ANALYZE")
    postgres.admin(target, "VACUUM ANALYZE")
    postgres.set_comment(url, name, label.text())
    return target, time.perf_counter() - began


def _drop_indexes(connection: Any, names: Sequence[str]) -> list[str]:
    """Drop every constraint and index of the tables; the statements that recreate them.

    An index built once over the loaded rows is far cheaper than one kept up to date row by
    row, a foreign key checked once by a join cheaper than once per row. Keys and indexes come
    back first, foreign keys last (they need the keys they point at).
    """
    from psycopg import sql

    constraints = connection.execute(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid), k.contype = 'f' "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s) "
        "AND k.contype IN ('p', 'u', 'f') ORDER BY k.contype = 'f' DESC",
        (list(names),),
    ).fetchall()
    indexes = connection.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
        (list(names),),
    ).fetchall()
    add: dict[bool, list[str]] = {False: [], True: []}  # foreign key?
    for table, constraint, definition, foreign in constraints:  # foreign keys first
        ids = sql.Identifier(str(table)), sql.Identifier(str(constraint))
        connection.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(*ids))
        again = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}")
        add[bool(foreign)].append(again.format(*ids, sql.SQL(definition)).as_string(connection))
    for index, _definition in indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(str(index))))
    return [*add[False], *(str(definition) for _, definition in indexes), *add[True]]
