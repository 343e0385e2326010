"""The plain DB-API reader: one SQL text on both engines, times and JSON as SQLAlchemy gave them.

And its opener, which reads a database at head through the driver alone and
otherwise says None (the caller then opens the store, which migrates).
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from monitor.errors import DatabaseError
from monitor.store import Store, open_store
from monitor.store.migrate import upgrade
from monitor.store.models import Heartbeat, Maintenance, Source
from monitor.store.sqlread import Reader, open_reader

T0 = datetime(2026, 4, 13, 15, 0, 0, 250_001, tzinfo=UTC)


def seed(store: Store) -> None:
    with store.write() as session, session.begin():
        source = Source(name="github", kind="statuspage", url="https://x.test", created_at=T0)
        session.add(source)
        session.flush()
        for minutes in (0, 10, 20):
            session.add(
                Heartbeat(
                    probe="laptop",
                    started_at=T0 + timedelta(minutes=minutes),
                    last_seen=T0 + timedelta(minutes=minutes, seconds=30),
                    pid=1,
                    host="box",
                )
            )
        session.add(
            Maintenance(
                source_id=source.id,
                external_id="m1",
                title="upgrade",
                status="scheduled",
                components=["API", "Git"],
                first_seen_at=T0,
                last_changed_at=T0,
            )
        )


@pytest.fixture
def reader(store: Store) -> Iterator[Reader]:
    seed(store)
    with store.reading() as opened:
        yield opened


def test_it_binds_and_returns_aware_utc_times(reader: Reader) -> None:
    elsewhere = timezone(timedelta(hours=2))
    rows = reader.rows(
        "SELECT started_at, stopped_at FROM heartbeat WHERE started_at >= :lo ORDER BY started_at",
        {"lo": (T0 + timedelta(minutes=10)).astimezone(elsewhere)},
        times=(0, 1),
    )

    assert rows == [(T0 + timedelta(minutes=10), None), (T0 + timedelta(minutes=20), None)]
    assert all(row[0].tzinfo is UTC for row in rows)
    assert reader.scalar("SELECT max(last_seen) FROM heartbeat", time=True) == T0 + timedelta(
        minutes=20, seconds=30
    )


def test_it_refuses_a_naive_time(reader: Reader) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        reader.rows(
            "SELECT id FROM heartbeat WHERE started_at >= :lo", {"lo": datetime(2026, 4, 13)}
        )


def test_it_spreads_a_list_and_an_empty_one_matches_nothing(reader: Reader) -> None:
    ids = [row[0] for row in reader.rows("SELECT id FROM heartbeat ORDER BY id")]
    query = "SELECT count(*) FROM heartbeat WHERE id IN (:ids) AND probe = :probe"

    assert reader.scalar(query, {"ids": ids[:2], "probe": "laptop"}) == 2
    assert reader.scalar(query, {"ids": (), "probe": "laptop"}) == 0
    assert reader.scalar(query, {"ids": ids, "probe": "laptop"}) == 3


def test_it_parses_json_columns_and_keeps_percent_signs_literal(reader: Reader) -> None:
    row = reader.first(
        "SELECT components, title FROM maintenance WHERE title LIKE 'up%' AND status = :status",
        {"status": "scheduled"},
        json=(0,),
    )

    assert row == (["API", "Git"], "upgrade")
    assert reader.first("SELECT id FROM maintenance WHERE title = :t", {"t": "none"}) is None


def test_a_driver_error_is_a_database_error_of_one_line(reader: Reader) -> None:
    with pytest.raises(DatabaseError, match=r"^database: .*no_such_table"):
        reader.rows("SELECT * FROM no_such_table")


# --- open_reader -------------------------------------------------------------------------


def test_it_reads_a_sqlite_database_at_head_as_the_store_does(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    store = open_store(url)
    try:
        seed(store)
        with store.reading() as through_store:
            expected = through_store.rows("SELECT probe, started_at FROM heartbeat", times=(1,))
    finally:
        store.close()

    reader = open_reader(url)
    assert reader is not None
    with reader:
        assert reader.rows("SELECT probe, started_at FROM heartbeat", times=(1,)) == expected
        with pytest.raises(DatabaseError, match="readonly"):
            reader.rows("DELETE FROM heartbeat")  # read-only use


def test_it_leaves_no_companion_files_and_tightens_an_old_databases_mode(tmp_path: Path) -> None:
    database = tmp_path / "monitor.db"
    open_store(f"sqlite:///{database}").close()
    database.chmod(0o644)

    reader = open_reader(f"sqlite:///{database}")
    assert reader is not None
    reader.rows("SELECT id FROM heartbeat")
    reader.close()

    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.db"]


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("sqlite:///{folder}/absent.db", id="no-such-file"),
        pytest.param("sqlite:///{folder}/monitor.db?timeout=3", id="url-options"),
        pytest.param("sqlite://", id="in-memory"),
        pytest.param("sqlite+aiosqlite:///{folder}/monitor.db", id="another-driver"),
        pytest.param("mysql://db.invalid/monitor", id="another-database"),
        pytest.param("postgresql+psycopg://127.0.0.1:1/monitor", id="unreachable"),
    ],
)
def test_it_leaves_what_it_cannot_simply_read_to_the_store(tmp_path: Path, url: str) -> None:
    open_store(f"sqlite:///{tmp_path / 'monitor.db'}").close()

    assert open_reader(url.format(folder=tmp_path)) is None
    assert not (tmp_path / "absent.db").exists()


def test_it_leaves_a_database_behind_head_to_the_store(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine, "0009")
    finally:
        engine.dispose()

    assert open_reader(database_url) is None

    open_store(database_url).close()  # migrated
    reader = open_reader(database_url)
    assert reader is not None
    reader.close()


def test_it_reads_a_postgresql_database_at_head(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        seed(store)
    finally:
        store.close()

    reader = open_reader(postgres_url)

    assert reader is not None
    with reader:
        assert reader.dialect == "postgresql"
        assert reader.scalar("SELECT min(started_at) FROM heartbeat", time=True) == T0
