"""The generated database seen by several probes: copied once per probe, into SQLite and PostgreSQL.

The generator (benchmarks.generate) writes one probe's year into SQLite.
Generating it again per probe would take four times as long and give the
same rows with another name, so each table with a ``probe`` column is copied
once per probe instead: the probe name replaced, ids renumbered
``(id - 1) * P + k + 1`` (unique, still in time order). The probes
themselves (table ``probe``, the one probe the generator wrote) become
``probe-1``... with ids ``k + 1``, and check runs, which name their probe by
id (``probe_id``), are copied once per probe with that id. Every other table
(checks, sources, incidents...) is copied once, as it is.

Both copies go into the app's own schema, made by monitor's migrations:

* SQLite: one ``INSERT ... SELECT`` per table from the attached source file,
  journal off while it runs (the file is labelled complete only at the end);
* PostgreSQL: ``COPY ... FROM STDIN`` fed by SQLite itself (it writes each
  row as a line of COPY's text format, so Python only passes lines on), in
  one transaction that first drops the tables' indexes and constraints and
  truncates them, then recreates every one from its own definition, as
  pg_dump's restore does; then VACUUM ANALYZE (what autovacuum would do).

A copy is labelled with what it holds (a JSON beside the SQLite file, a
comment on the PostgreSQL database) once complete, and reused while the
label matches.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from benchmarks import postgres
from benchmarks.generate import GeneratedSummary
from monitor.store import open_store

if TYPE_CHECKING:  # psycopg is needed only with --postgres-url, so imported only then
    import psycopg

PROBES = ("probe-1", "probe-2", "probe-3", "probe-4")
DATABASE = "monitor_bench_why"  # the PostgreSQL copy's database, kept between runs
BATCH_ROWS = 20_000
TEXT_TYPES = ("TEXT", "VARCHAR", "JSON", "DATETIME")  # declared types needing COPY escapes


@dataclass(frozen=True, slots=True)
class Label:
    """What a copy holds: the source file (by its generated summary) and the probes."""

    source: str  # the generator's description of the source (days, checks, seed, rows)
    probes: tuple[str, ...]

    def text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def label(summary: GeneratedSummary, probes: Sequence[str] = PROBES) -> Label:
    """The label of a copy of the generated file ``summary`` describes."""
    source = (
        f"{summary.days} days x {summary.checks} checks every {summary.interval_s} s, seed "
        f"{summary.seed}, end {summary.end}, {summary.counts['check_result']} check runs"
    )
    return Label(source, tuple(probes))


def sqlite_target(source: Path, probes: Sequence[str] = PROBES) -> Path:
    """Where the SQLite copy of ``source`` lives: beside it, named for the probes."""
    return source.with_name(f"{source.stem}-{len(probes)}probes.db")


@dataclass(frozen=True, slots=True)
class Table:
    """A source table: its columns, and whether it is copied once per probe."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]

    @property
    def per_probe(self) -> bool:
        return (
            self.name == "probe"
            or "probe_id" in self.columns
            or ("probe" in self.columns and "id" in self.columns)
        )


def tables(source: Path) -> list[Table]:
    """Every table of the app's schema in ``source`` (not Alembic's, not SQLite's own)."""
    with closing(_read_only(source)) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version' ORDER BY rowid"
            )
        ]
        found = []
        for name in names:
            info = connection.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
            found.append(
                Table(name, tuple(r[1] for r in info), tuple(str(r[2]).upper() for r in info))
            )
    return found


def count_rows(url: str, table: str) -> int:
    """Rows in ``table`` of the database at ``url`` (either copy, through the app's engine)."""
    store = open_store(url, upgrade=False)
    try:
        with store.read() as session:
            return int(session.scalar(text(f"SELECT count(*) FROM {_quote(table)}")) or 0)
    finally:
        store.close()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _probes_cte(probes: Sequence[str]) -> str:
    values = ", ".join(f"({k}, '{p}')" for k, p in enumerate(probes))
    return f"WITH probes(k, name) AS (VALUES {values})"


def _source_values(table: Table, probes: Sequence[str]) -> list[str]:
    """The SELECT list giving ``table``'s columns for one probe (``probes.k``)."""
    values = []
    for column in table.columns:
        quoted = f"t.{_quote(column)}"
        if table.name == "probe" and column == "id":
            values.append("probes.k + 1")
        elif table.name == "probe" and column == "name":
            values.append("probes.name")
        elif table.per_probe and column == "probe_id":
            values.append("probes.k + 1")
        elif table.per_probe and column == "id":
            values.append(f"({quoted} - 1) * {len(probes)} + probes.k + 1")
        elif table.per_probe and column == "probe":
            values.append("probes.name")
        else:
            values.append(quoted)
    return values


def _select(table: Table, probes: Sequence[str], values: Sequence[str]) -> str:
    """SELECT ``values`` from the source table, once per probe for a per-probe table.

    CROSS JOIN keeps the source table the outer loop: rows come out in id
    (= time) order, each followed by its copies for the other probes.
    """
    if not table.per_probe:
        return f"SELECT {', '.join(values)} FROM src.{_quote(table.name)} AS t"
    return (
        f"{_probes_cte(probes)} SELECT {', '.join(values)} "
        f"FROM src.{_quote(table.name)} AS t CROSS JOIN probes"
    )


# -- SQLite -----------------------------------------------------------------------


def label_path(target: Path) -> Path:
    return target.with_name(target.name + ".copy.json")


def sqlite_copy(
    source: Path, target: Path, label: Label, progress: Callable[[str], None]
) -> float | None:
    """``target``: ``source`` once per probe, in the app's schema; seconds taken (None: reused)."""
    marker = label_path(target)
    if target.exists() and marker.exists() and marker.read_text(encoding="utf-8") == label.text():
        progress(f"using the {len(label.probes)}-probe SQLite copy {target}")
        return None
    began = time.perf_counter()
    for stale in (marker, target, *target.parent.glob(target.name + "-*")):
        stale.unlink(missing_ok=True)
    open_store(f"sqlite:///{target}").close()  # the app's schema, by its migrations
    with closing(sqlite3.connect(f"file:{target}", uri=True, isolation_level=None)) as connection:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")  # 1 GB: the indexes' right edges
        connection.execute("ATTACH ? AS src", (f"file:{source}?mode=ro",))
        connection.execute("BEGIN")
        for table in tables(source):
            progress(f"  SQLite copy: {table.name}")
            columns = ", ".join(map(_quote, table.columns))
            select = _select(table, label.probes, _source_values(table, label.probes))
            connection.execute(f"INSERT INTO main.{_quote(table.name)} ({columns}) {select}")
        connection.execute("COMMIT")
        connection.execute("DETACH src")
        connection.execute("PRAGMA journal_mode=WAL")  # as the app leaves its files
    marker.write_text(label.text(), encoding="utf-8")
    return time.perf_counter() - began


# -- PostgreSQL ---------------------------------------------------------------------


def _line(table: Table, probes: Sequence[str]) -> str:
    """One COPY text-format line per row, built by SQLite: tab-separated, NULL as \\N."""
    parts = []
    for value, kind in zip(_source_values(table, probes), table.types, strict=True):
        text = f"CAST({value} AS TEXT)"
        if kind.split("(")[0] in TEXT_TYPES:
            for char, escaped in (("'\\'", "'\\\\'"), *_CONTROL):
                text = f"replace({text}, {char}, {escaped})"
        parts.append(f"coalesce({text}, '\\N')")
    return " || char(9) || ".join(parts)


_CONTROL = (("char(9)", "'\\t'"), ("char(10)", "'\\n'"), ("char(13)", "'\\r'"))


def postgres_copy(
    source: Path, url: str, name: str, label: Label, progress: Callable[[str], None]
) -> tuple[str, float | None]:
    """Database ``name`` on ``url``'s server: ``source`` once per probe; its URL, seconds taken.

    None for the seconds: a complete copy with the same label was there already.
    """
    if postgres.comment(url, name) == label.text():
        progress(f"using the {len(label.probes)}-probe PostgreSQL copy {name}")
        return postgres.database_url(url, name), None
    from psycopg import sql

    began = time.perf_counter()
    target = postgres.recreate(url, name)
    open_store(target).close()  # the app's schema, by its migrations
    copied = tables(source)
    names = [t.name for t in copied]
    with (
        postgres.connect(target) as connection,
        closing(sqlite3.connect("file::memory:", uri=True)) as reader,
    ):
        reader.execute("ATTACH ? AS src", (f"file:{source}?mode=ro",))
        connection.execute("SET TimeZone = 'UTC'")  # the source's naive times are UTC
        connection.execute("SET maintenance_work_mem = '1GB'")
        rebuild = _drop_indexes(connection, names)
        connection.execute(
            sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, names)))
        )
        for table in copied:
            progress(f"  PostgreSQL COPY: {table.name}")
            _copy_table(reader, connection, table, label.probes)
        for statement in rebuild:
            connection.execute(sql.SQL(statement))
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
    with postgres.connect(target, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    postgres.set_comment(url, name, label.text())
    return target, time.perf_counter() - began


def _copy_table(
    reader: sqlite3.Connection,
    connection: psycopg.Connection[tuple[Any, ...]],
    table: Table,
    probes: Sequence[str],
) -> None:
    from psycopg import sql

    query = _select(table, probes, [_line(table, probes)])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns))
    )
    rows = reader.execute(query)
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        while batch := rows.fetchmany(BATCH_ROWS):
            copy.write("\n".join(row[0] for row in batch) + "\n")


def _drop_indexes(
    connection: psycopg.Connection[tuple[Any, ...]], names: Sequence[str]
) -> list[str]:
    """Drop every constraint and index of the tables; the statements that recreate them.

    Building an index once over the loaded rows is far cheaper than keeping
    it up to date row by row, and a foreign key checked once by a join is
    cheaper than once per row. Keys and indexes come back first, foreign keys
    last (they need the keys they point at).
    """
    from psycopg import sql

    constraints = connection.execute(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid), k.contype = 'f' "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s) "
        "AND k.contype IN ('p', 'u', 'f')",
        (list(names),),
    ).fetchall()
    indexes = connection.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
        (list(names),),
    ).fetchall()
    foreign = [c for c in constraints if c[3]]
    own = [c for c in constraints if not c[3]]
    for table, constraint, _definition, _fk in [*foreign, *own]:
        connection.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(str(table)), sql.Identifier(str(constraint))
            )
        )
    for index, _definition in indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(str(index))))
    add = "ALTER TABLE {} ADD CONSTRAINT {} {}"
    return [
        *(
            sql.SQL(add)
            .format(sql.Identifier(str(t)), sql.Identifier(str(c)), sql.SQL(str(d)))
            .as_string(connection)
            for t, c, d, _fk in own
        ),
        *(str(definition) for _index, definition in indexes),
        *(
            sql.SQL(add)
            .format(sql.Identifier(str(t)), sql.Identifier(str(c)), sql.SQL(str(d)))
            .as_string(connection)
            for t, c, d, _fk in foreign
        ),
    ]
