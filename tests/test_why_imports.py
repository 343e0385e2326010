"""``monitor why`` on a database at the schema's head loads no SQLAlchemy (issue 17).

Importing SQLAlchemy alone costs more than a whole cold answer may, so a
database already at head is read through its driver (``store.sqlread``).
Asserted on the import set of a real new process, not on a timing: the
command must answer, and nothing heavy may be loaded on the way. A
database behind head still works: it takes the full path and is migrated.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from monitor.store import open_store
from monitor.store.checkruns import CheckSpec, record_check_run, sync_checks
from monitor.store.migrate import HEAD_REVISION, current_revision, upgrade
from tests.imports import imported_by

T0 = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
AT = T0 + timedelta(hours=1)
# What the cold path may not load: SQLAlchemy (issue 17), and what ``why`` never needs.
NOT_LOADED = ("sqlalchemy", "alembic", "matplotlib", "httpx", "apscheduler")


def loaded(modules: set[str]) -> list[str]:
    """The modules of ``NOT_LOADED``'s packages among ``modules``."""
    return sorted(m for m in modules if m.split(".")[0] in NOT_LOADED)


def write_config(folder: Path, database: Path | str) -> Path:
    """A config naming ``database``: a SQLite file, or a URL as it is."""
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    path = folder / "config.toml"
    path.write_text(
        '[monitor]\nprobe = "laptop"\n\n'
        f'[database]\nurl = "{url}"\n\n'
        '[[check]]\nname = "api"\nkind = "http"\nurl = "https://api.example.test/health"\n',
        encoding="utf-8",
    )
    return path


def seed(url: str) -> None:
    """Two hours of runs of one check, failing around ``AT``."""
    store = open_store(url)
    try:
        with store.write() as session, session.begin():
            spec = CheckSpec("api", "http", "vendor", "GET https://api.example.test/health")
            [check_id] = sync_checks(session, [spec], T0).values()
            for minute in range(0, 120):
                at = T0 + timedelta(minutes=minute)
                failed = 50 <= minute < 70
                record_check_run(
                    session,
                    check_id=check_id,
                    probe="laptop",
                    started_at=at,
                    duration_ms=80.0,
                    ok=not failed,
                    failure_class="server_error" if failed else None,
                    http_status=503 if failed else 200,
                    phases_ms={"connect": 12.5, "ttfb": 60.25},
                    detail="HTTP 503" if failed else "HTTP 200",
                    facts={"bytes": 120},
                )
    finally:
        store.close()


def ask_why(config: Path) -> tuple[dict[str, Any], set[str]]:
    process, code, modules = imported_by(
        ["--config", str(config), "why", "--at", AT.isoformat(), "--json"]
    )
    assert code == 0, process.stderr
    return json.loads(process.stdout), modules


def test_why_on_a_database_at_head_imports_no_sqlalchemy(tmp_path: Path) -> None:
    database = tmp_path / "monitor.db"
    seed(f"sqlite:///{database}")

    answer, modules = ask_why(write_config(tmp_path, database))

    assert answer["verdict"] != "no_data"
    [window] = answer["local"]
    assert (window["check"], window["failures"]) == ("api", 20)
    assert loaded(modules) == []
    assert "monitor.store.sqlread" in modules  # it read the database itself


def test_why_on_a_postgresql_database_at_head_imports_no_sqlalchemy(
    tmp_path: Path, postgres_url: str
) -> None:
    seed(postgres_url)

    answer, modules = ask_why(write_config(tmp_path, postgres_url))

    [window] = answer["local"]
    assert (window["check"], window["failures"]) == ("api", 20)
    assert loaded(modules) == []
    assert "psycopg" in modules


def test_timeline_on_a_database_at_head_imports_no_sqlalchemy(tmp_path: Path) -> None:
    database = tmp_path / "monitor.db"
    seed(f"sqlite:///{database}")
    config = write_config(tmp_path, database)

    process, code, modules = imported_by(
        ["--config", str(config), "timeline", "--since", T0.isoformat(), "--json"]
    )

    assert code == 0, process.stderr
    [event] = json.loads(process.stdout)["events"]
    assert (event["check"], event["failures"]) == ("api", 20)
    assert loaded(modules) == []


@pytest.mark.parametrize("revision", ["0009", None])
def test_why_on_a_database_behind_head_migrates_it_and_answers(
    tmp_path: Path, revision: str | None
) -> None:
    """An older schema (or a new, empty file) is opened the full way, migrated, then read."""
    database = tmp_path / "monitor.db"
    if revision is not None:
        engine = create_engine(f"sqlite:///{database}")
        upgrade(engine, revision)
        engine.dispose()

    answer, modules = ask_why(write_config(tmp_path, database))

    assert answer["verdict"] == "no_data"
    assert "sqlalchemy" in modules  # the full path: open_store, which migrated
    engine = create_engine(f"sqlite:///{database}")
    try:
        assert current_revision(engine) == HEAD_REVISION
    finally:
        engine.dispose()
