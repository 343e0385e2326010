"""Migration 0010: old check runs converted in place read back as they were written.

A database is migrated to 0009, filled with runs in the old layout (as the
old writer stored them: times to the microsecond, facts as JSON with every
phase in ``phases_ms`` and connect/tls/ttfb in columns too), upgraded, and
every row read back through ``runcodes.decode`` and compared with what was
written, field by field. The stored columns are also compared with what
``runcodes.encode`` writes for the same run, so converted and newly
written rows cannot drift apart. A migration killed with SIGKILL between
batches is finished by the next run.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from monitor.store import runcodes
from monitor.store.engine import create_db_engine
from monitor.store.migrate import HEAD_REVISION, current_revision, ensure_schema, upgrade
from monitor.store.types import UTCDateTime

BATCH_VARIABLE = "MONITOR_MIGRATION_BATCH_ROWS"  # the migration's test hook
TEMPORARY_TABLES = {"check_result_new", "check_result_progress", "check_result_old"}

# The 0009 layout, as the old models wrote it (UTCDateTime: SQLite text to the µs).
OLD = sa.MetaData()
OLD_CHECK = sa.Table(
    "check",
    OLD,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64)),
    sa.Column("kind", sa.String(32)),
    sa.Column("role", sa.String(16)),
    sa.Column("target", sa.Text),
    sa.Column("depends_on_source", sa.String(64)),
    sa.Column("depends_on_components", sa.JSON),
    sa.Column("created_at", UTCDateTime()),
)
OLD_RESULT = sa.Table(
    "check_result",
    OLD,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("check_id", sa.Integer),
    sa.Column("probe", sa.String(64)),
    sa.Column("started_at", UTCDateTime()),
    sa.Column("duration_ms", sa.Double),
    sa.Column("ok", sa.Boolean),
    sa.Column("skipped", sa.Boolean),
    sa.Column("failure_class", sa.String(32)),
    sa.Column("http_status", sa.Integer),
    sa.Column("connect_ms", sa.Double),
    sa.Column("tls_ms", sa.Double),
    sa.Column("ttfb_ms", sa.Double),
    sa.Column("request_id", sa.String(128)),
    sa.Column("server_date", UTCDateTime()),
    sa.Column("detail", sa.Text),
    sa.Column("facts", sa.JSON),
)


@dataclass(frozen=True)
class OldRun:
    """One run as the old layout held it."""

    check: str
    probe: str
    started_at: datetime
    duration_ms: float
    ok: bool = True
    skipped: bool = False
    failure_class: str | None = None
    http_status: int | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    request_id: str | None = None
    server_date: datetime | None = None
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return not self.ok

    def column_phases(self) -> dict[str, float]:
        given = {"connect": self.connect_ms, "tls": self.tls_ms, "ttfb": self.ttfb_ms}
        return {phase: ms for phase, ms in given.items() if ms is not None}


CHECKS = ("api", "resolver", "ssh", "clock", "broken", "port", "notes")
PROBES = ("laptop", "ci-runner", "zürich")
BASE = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _passing(check: str, rng: random.Random) -> dict[str, Any]:
    """What a passing run of ``check`` stores, shaped like the real checks'."""

    def ms(median: float) -> float:
        return round(rng.lognormvariate(0, 0.3) * median, 2)

    if check == "api":
        connect, tls, ttfb = ms(15), ms(30), ms(120)
        total = round(connect + tls + ttfb + 1.5, 2)
        return {
            "duration_ms": round(total + 0.07, 2),
            "http_status": 401,
            "connect_ms": connect,
            "tls_ms": tls,
            "ttfb_ms": ttfb,
            "detail": "HTTP 401 as expected (the API is up and its auth layer answers)",
            "facts": {"phases_ms": {"connect": connect, "tls": tls, "ttfb": ttfb, "total": total}},
        }
    if check == "resolver":  # dns only in the facts: phases_ms goes entirely
        dns = ms(12)
        return {
            "duration_ms": round(dns + 0.05, 2),
            "detail": "api.example.com resolved",
            "facts": {
                "host": "api.example.com",
                "addresses": ["192.0.2.7"],
                "phases_ms": {"dns": dns},
            },
        }
    if check == "ssh":  # dns in the facts, connect in both, and a phase with no column
        dns, connect = ms(2), ms(15)
        return {
            "duration_ms": round(dns + connect + 0.2, 2),
            "connect_ms": connect,
            "detail": "connected to github.com:22",
            "facts": {
                "target": "github.com:22",
                "phases_ms": {"dns": dns, "connect": connect, "queue": 0.25},
            },
        }
    if check == "clock":
        return {
            "duration_ms": ms(150),
            "http_status": 200,
            "detail": "clock within 1s of the server's",
            "facts": {"url": "https://www.example.com/", "skew_s": 0.125, "max_skew_s": 30.0},
        }
    if check == "port":  # the same every time: stored once, as the usual
        return {
            "duration_ms": ms(0.6),
            "detail": "port 54545 is free on 127.0.0.1",
            "facts": {"ports": "54545", "free": True},
        }
    # notes: non-ASCII, escapes, nesting, awkward numbers
    return {
        "duration_ms": ms(3),
        "detail": 'café ☕ 東京: "quoted" and a tab\tin it',
        "facts": {
            "note": "zoë's ☕ at 東京 \\ C:\\Users\\zoë / \u2028 \x7f",
            "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}, "none": []},
            "tiny": 1e-05,
            "big": 12345678901234567890,
            "neg": -0.5,
        },
    }


def old_runs(seed: int = 7, rounds: int = 40) -> list[OldRun]:
    """Runs of several checks on several probes, in the order they were written."""
    rng = random.Random(seed)
    runs: list[OldRun] = []
    for n in range(rounds):
        for c, check in enumerate(CHECKS):
            for p, probe in enumerate(PROBES):
                started = BASE + timedelta(
                    seconds=30 * n + c, microseconds=rng.randrange(1_000_000) + p * 1_000_000 * 7
                )
                values = _passing(check, rng)
                run = OldRun(check, probe, started, **values)
                roll = rng.random()
                if check == "broken" or roll < 0.12:
                    failure = rng.choice(
                        ["server_error", "timeout", "dns_failure", "a_class_from_the_future"]
                    )
                    run = replace(
                        run,
                        ok=False,
                        failure_class=failure,
                        http_status=503 if failure == "server_error" else None,
                        detail=f"{failure}: upstream said no ({n})",
                        facts={
                            "url": "https://api.example.com/",
                            **({"phases_ms": {"connect": 12.5}} if n % 2 else {}),
                        },
                        connect_ms=12.5 if n % 2 else None,
                        tls_ms=None,
                        ttfb_ms=None,
                    )
                elif roll < 0.18:
                    run = replace(run, skipped=True, detail="API_TOKEN is not set", facts={})
                elif roll < 0.25:
                    run = replace(run, detail=f"{run.detail} (slow: attempt {n})")
                if run.http_status is not None:
                    run = replace(
                        run,
                        request_id=f"req_{rng.getrandbits(64):016x}",
                        server_date=started + timedelta(microseconds=rng.randrange(2_000_000)),
                    )
                runs.append(run)
    # Awkward durations: halves of a microsecond round to even, as Python's round() does.
    awkward = [0.0005, 0.0015, 0.0025, 2.0005, 1.2345, 0.49999999999999994e-3, 123.4565]
    for i, duration in enumerate(awkward):
        runs.append(
            OldRun("port", "laptop", BASE + timedelta(hours=2, seconds=i), duration, detail="odd")
        )
    # A connect phase in the facts only (its column empty), and phases_ms empty once removed.
    runs.append(
        OldRun(
            "ssh",
            "laptop",
            BASE + timedelta(hours=3),
            9.5,
            detail="connected to github.com:22",
            facts={"target": "github.com:22", "phases_ms": {"connect": 7.25, "tls": 1.0}},
        )
    )
    # Two runs in one millisecond (below it they differ): the first written is kept.
    twin = BASE + timedelta(hours=4, microseconds=123_400)
    runs.append(OldRun("clock", "laptop", twin, 10.0, detail="first of the twins"))
    runs.append(
        OldRun("clock", "laptop", twin + timedelta(microseconds=500), 11.0, detail="second twin")
    )
    return runs


def build_0009(url: str, runs: list[OldRun]) -> Engine:
    """A database at 0009 holding ``runs``, inserted in their order (ids follow it)."""
    engine = create_db_engine(url)
    upgrade(engine, "0009")
    with engine.begin() as connection:
        connection.execute(
            OLD_CHECK.insert(),
            [
                {
                    "id": i + 1,
                    "name": name,
                    "kind": "http",
                    "role": "vendor",
                    "target": f"https://{name}.example.com/",
                    "depends_on_source": None,
                    "depends_on_components": [],
                    "created_at": BASE,
                }
                for i, name in enumerate(CHECKS)
            ],
        )
        ids = {name: i + 1 for i, name in enumerate(CHECKS)}
        if not runs:
            return engine
        connection.execute(
            OLD_RESULT.insert(), [_old_row(run, check_id=ids[run.check]) for run in runs]
        )
    return engine


def _old_row(run: OldRun, *, check_id: int) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "probe": run.probe,
        "started_at": run.started_at,
        "duration_ms": run.duration_ms,
        "ok": run.ok,
        "skipped": run.skipped,
        "failure_class": run.failure_class,
        "http_status": run.http_status,
        "connect_ms": run.connect_ms,
        "tls_ms": run.tls_ms,
        "ttfb_ms": run.ttfb_ms,
        "request_id": run.request_id,
        "server_date": run.server_date,
        "detail": run.detail,
        "facts": run.facts,
    }


def survivors(runs: list[OldRun]) -> list[OldRun]:
    """The runs the new key keeps: the first written of each (check, probe, millisecond)."""
    kept: dict[tuple[str, str, int], OldRun] = {}
    for run in runs:
        kept.setdefault((run.check, run.probe, runcodes.to_ms(run.started_at)), run)
    return list(kept.values())


def usuals(runs: list[OldRun]) -> dict[str, runcodes.Usual]:
    """Each check's usual: detail and facts (without phases) of its newest passing run."""
    newest: dict[str, OldRun] = {}
    for run in runs:
        if (
            run.ok
            and not run.skipped
            and (run.check not in newest or run.started_at > newest[run.check].started_at)
        ):
            newest[run.check] = run
    return {
        check: runcodes.usual_of(run.detail, run.column_phases(), run.facts)
        for check, run in newest.items()
    }


def stored(engine: Engine) -> dict[tuple[str, str, datetime], runcodes.StoredRun]:
    """Every run in the compact table, decoded, by (check, probe, time)."""
    columns = ", ".join(
        f'"{table}".{column}' for table, column in (c.split(".") for c in runcodes.STORED_COLUMNS)
    )
    query = sa.text(
        f'SELECT {columns} FROM check_result JOIN "check" ON "check".id = check_result.check_id '  # noqa: S608
        "JOIN probe ON probe.id = check_result.probe_id"
    )
    with engine.connect() as connection:
        runs = [runcodes.decode(tuple(row)) for row in connection.execute(query)]
    return {(run.check, run.probe, run.started_at): run for run in runs}


def assert_reads_back(run: OldRun, got: runcodes.StoredRun) -> None:
    """``got`` says what ``run`` said, field by field, as the compact layout keeps it."""
    assert got.started_at == runcodes.truncate_ms(run.started_at)
    assert (got.ok, got.skipped) == ((True, True) if run.skipped else (run.ok, False))
    expected_class = run.failure_class
    if expected_class is not None and expected_class not in runcodes.FAILURE_CODES:
        expected_class = "unclassified"
    assert got.failure_class == expected_class
    assert got.http_status == run.http_status
    assert got.duration_ms == round(run.duration_ms * 1000) / 1000
    phases = {**run.facts.get("phases_ms", {}), **run.column_phases()}
    expected_phases = {
        phase: round(ms * 1000) / 1000 if phase in runcodes.PHASE_COLUMNS else ms
        for phase, ms in phases.items()
    }
    assert got.phases_ms == expected_phases
    if run.failed:
        assert got.request_id == run.request_id
        expected_date = None if run.server_date is None else runcodes.truncate_ms(run.server_date)
        assert got.server_date == expected_date
    else:
        assert (got.request_id, got.server_date) == (None, None)
    assert got.detail == run.detail
    assert got.facts == {k: v for k, v in run.facts.items() if k != "phases_ms"}


def assert_all_read_back(engine: Engine, runs: list[OldRun]) -> None:
    kept = survivors(runs)
    found = stored(engine)
    assert len(found) == len(kept)
    for run in kept:
        key = (run.check, run.probe, runcodes.truncate_ms(run.started_at))
        assert key in found, run
        assert_reads_back(run, found[key])


# --- the conversion ----------------------------------------------------------------------------


def test_every_old_run_reads_back_as_it_was_written(database_url: str) -> None:
    runs = old_runs()
    engine = build_0009(database_url, runs)

    assert ensure_schema(engine) is True

    assert current_revision(engine) == HEAD_REVISION == "0010"
    assert_all_read_back(engine, runs)
    assert not TEMPORARY_TABLES & set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_the_stored_columns_are_what_a_new_writer_stores(database_url: str) -> None:
    """Converted rows equal runcodes.encode's, the usual included.

    Facts: 0010 stores a run's whole facts where they differ from the usual
    (runcodes reads whole facts as they are), where encode stores the keys
    that differ; on PostgreSQL the text is jsonb's, so values are compared.
    """
    runs = old_runs(seed=11)
    engine = build_0009(database_url, runs)
    upgrade(engine)
    sqlite = engine.dialect.name == "sqlite"
    expected_usuals = usuals(runs)

    with engine.connect() as connection:
        checks = {
            name: (check_id, runcodes.Usual(detail, facts))
            for check_id, name, detail, facts in connection.execute(
                sa.text('SELECT id, name, usual_detail, usual_facts FROM "check"')
            )
        }
        probes = {
            str(name): int(probe_id)
            for name, probe_id in connection.execute(sa.text("SELECT name, id FROM probe"))
        }
        rows = {
            (row.check_id, row.probe_id, row.started_ms): row._asdict()
            for row in connection.execute(sa.text("SELECT * FROM check_result"))
        }

    assert sorted(probes, key=probes.__getitem__) == sorted(PROBES)  # ids in name order
    assert checks["broken"][1] == runcodes.Usual()  # never passed: no usual yet
    for name, (_, usual) in checks.items():
        if name in expected_usuals:
            assert usual.detail == expected_usuals[name].detail
            assert _json(usual.facts) == _json(expected_usuals[name].facts)
            if sqlite:
                assert usual.facts == expected_usuals[name].facts
    for run in survivors(runs):
        check_id, usual = checks[run.check]
        expected = runcodes.encode(
            check_id=check_id,
            probe_id=probes[run.probe],
            started_at=run.started_at,
            duration_ms=run.duration_ms,
            ok=run.ok,
            skipped=run.skipped,
            failure_class=run.failure_class,
            http_status=run.http_status,
            phases_ms=run.column_phases(),
            request_id=run.request_id,
            server_date=run.server_date,
            detail=run.detail,
            facts=run.facts,
            usual=usual,
        )
        got = dict(rows[(check_id, probes[run.probe], expected["started_ms"])])
        whole = runcodes.split_phases(run.column_phases(), run.facts)[1]
        facts, expected["facts"] = got.pop("facts"), None
        if sqlite:
            assert facts == (None if whole == usual.facts else whole), run
        else:  # jsonb's text: the same values, not the same characters (see 0010)
            same = usual.facts is not None and _json(whole) == _json(usual.facts)
            assert _json(facts) == (None if same else _json(whole)), run
        assert {**got, "facts": None} == expected, run
    engine.dispose()


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def test_a_new_run_saying_the_usual_stores_neither_detail_nor_facts(sqlite_url: str) -> None:
    """On SQLite the converted usual's text is the text a new run's facts get."""
    runs = old_runs(seed=3, rounds=3)
    engine = build_0009(sqlite_url, runs)
    upgrade(engine)
    port = next(run for run in reversed(runs) if run.check == "port" and run.ok and not run.skipped)
    notes = next(r for r in reversed(runs) if r.check == "notes" and r.ok and not r.skipped)

    with engine.connect() as connection:
        query = sa.text('SELECT name, usual_facts FROM "check"')
        usual = {str(name): facts for name, facts in connection.execute(query)}
    assert usual["port"] == runcodes.facts_text(port.facts)
    assert usual["notes"] == runcodes.facts_text(notes.facts)
    engine.dispose()


def test_facts_the_database_cannot_parse_are_kept_as_they_were(database_url: str) -> None:
    """SQLite refuses the Infinity Python writes; PostgreSQL's jsonb refuses \\u0000."""
    sqlite = database_url.startswith("sqlite")
    odd = {"skew_s": math.inf} if sqlite else {"note": "a\x00b"}
    runs = [
        OldRun("clock", "laptop", BASE, 5.0, detail="fine", facts={"phases_ms": {"dns": 1.5}}),
        OldRun(
            "clock",
            "laptop",
            BASE + timedelta(seconds=30),
            6.0,
            detail="odd",
            facts={**odd, "phases_ms": {"dns": 2.5, "total": 9.0}},
        ),
        OldRun("notes", "laptop", BASE + timedelta(seconds=60), 7.0, facts={"x": 1}),
    ]
    engine = build_0009(database_url, runs)

    upgrade(engine)

    assert_all_read_back(engine, runs)
    from alembic import command

    from monitor.store.migrate import alembic_config

    command.downgrade(alembic_config(engine), "0009")
    with engine.connect() as connection:
        back = connection.execute(OLD_RESULT.select().order_by(OLD_RESULT.c.id)).mappings().all()
    assert [row["facts"] for row in back] == [run.facts for run in runs]
    engine.dispose()


def test_an_empty_old_table_converts_to_an_empty_new_one(database_url: str) -> None:
    engine = build_0009(database_url, [])
    upgrade(engine)
    assert stored(engine) == {}
    assert current_revision(engine) == "0010"
    engine.dispose()


def test_several_batches_convert_the_same_as_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BATCH_VARIABLE, "7")
    runs = old_runs(seed=5, rounds=4)
    engine = build_0009(database_url, runs)

    upgrade(engine)

    assert_all_read_back(engine, runs)
    engine.dispose()


def test_sqlite_gives_the_old_tables_pages_back(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    engine = build_0009(f"sqlite:///{path}", old_runs(rounds=300))
    engine.dispose()
    before = path.stat().st_size

    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()

    with sqlite3.connect(path) as connection:
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
    wal = path.with_name(path.name + "-wal")
    assert free == 0
    assert path.stat().st_size < before / 2
    assert not wal.exists() or wal.stat().st_size == 0


def _convert_with_a_late_row(engine: Engine, late: OldRun) -> None:
    """Run 0010's steps by hand, an older monitor writing ``late`` between the copy and the swap."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    migration = _migration_module()
    with engine.connect() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            migration._prepare(connection)
            migration._commit(connection)
            migration._copy(connection)
            connection.execute(OLD_RESULT.insert(), [_old_row(late, check_id=1)])
            migration._swap(connection)
        connection.commit()


def test_runs_an_older_monitor_writes_during_the_copy_are_carried_over(
    database_url: str,
) -> None:
    """The copy's last batch ends where the old table ended when it began; the swap looks again."""
    runs = old_runs(seed=17, rounds=3)
    engine = build_0009(database_url, runs)
    late = OldRun("api", "laptop", BASE + timedelta(days=1), 12.5, detail="written late")

    _convert_with_a_late_row(engine, late)

    assert_all_read_back(engine, [*runs, late])
    engine.dispose()


def test_a_probe_first_seen_during_the_copy_keeps_its_runs(database_url: str) -> None:
    """The copy names probes by id: one an older monitor began writing meanwhile gets one."""
    runs = old_runs(seed=19, rounds=3)
    engine = build_0009(database_url, runs)
    late = OldRun("api", "new-probe", BASE + timedelta(days=1), 12.5, detail="a new probe")

    _convert_with_a_late_row(engine, late)

    assert_all_read_back(engine, [*runs, late])
    engine.dispose()


def test_facts_written_as_a_difference_downgrade_whole(database_url: str) -> None:
    """A run written after the upgrade stores what moved from its usual; 0009 gets it whole."""
    from alembic import command

    from monitor.store.checkruns import CheckSpec, record_check_run, sync_checks
    from monitor.store.database import open_store
    from monitor.store.migrate import alembic_config

    store = open_store(database_url)
    usual = {"path": "/home/dev/.claude/.credentials.json", "mode": "0600", "age_s": 10}
    with store.write() as session, session.begin():
        ids = sync_checks(session, [CheckSpec("creds", "credentials_file", "vendor", "x")], BASE)
        for minute, age in enumerate((10, 11, 12)):
            record_check_run(
                session,
                check_id=ids["creds"],
                probe="laptop",
                started_at=BASE + timedelta(minutes=minute),
                duration_ms=1.0,
                ok=True,
                detail="token valid",
                facts={**usual, "age_s": age},
            )
    with store.read() as session:
        kept = session.execute(sa.text("SELECT facts FROM check_result")).scalars().all()
    assert any(text and text.startswith(runcodes.CHANGED) for text in kept)

    command.downgrade(alembic_config(store.engine), "0009")

    with store.engine.connect() as connection:
        back = connection.execute(OLD_RESULT.select().order_by(OLD_RESULT.c.started_at)).all()
    assert [row.facts for row in back] == [{**usual, "age_s": age} for age in (10, 11, 12)]
    store.close()


def _migration_module() -> Any:
    """Migration 0010's module, loaded from its file as Alembic loads it."""
    import importlib.util

    from monitor.store.migrate import migrations_dir

    path = migrations_dir() / "versions" / "0010_compact_check_result.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- downgrade -----------------------------------------------------------------------------------


def test_a_downgrade_gives_the_old_layout_back_and_an_upgrade_the_same_rows(
    database_url: str,
) -> None:
    runs = old_runs(seed=13, rounds=6)
    engine = build_0009(database_url, runs)
    upgrade(engine)
    converted = stored(engine)

    from alembic import command

    from monitor.store.migrate import alembic_config

    command.downgrade(alembic_config(engine), "0009")

    assert current_revision(engine) == "0009"
    tables = set(sa.inspect(engine).get_table_names())
    assert "probe" not in tables
    assert not TEMPORARY_TABLES & tables
    with engine.connect() as connection:
        back = connection.execute(OLD_RESULT.select().order_by(OLD_RESULT.c.id)).mappings().all()
    kept = {(r.check, r.probe, runcodes.truncate_ms(r.started_at)): r for r in survivors(runs)}
    names = dict(enumerate(CHECKS, start=1))
    assert len(back) == len(kept)
    for row in back:
        run = kept[(names[row["check_id"]], row["probe"], row["started_at"])]
        assert row["ok"] == (run.ok or run.skipped)
        assert row["skipped"] == run.skipped
        assert row["duration_ms"] == round(run.duration_ms * 1000) / 1000
        assert row["detail"] == run.detail
        assert row["request_id"] == (run.request_id if run.failed else None)
        after = converted[(names[row["check_id"]], row["probe"], row["started_at"])]
        assert row["facts"].get("phases_ms", {}) == after.phases_ms  # all of them, as then
        for phase in ("connect", "tls", "ttfb"):
            assert row[f"{phase}_ms"] == after.phases_ms.get(phase)
        assert {k: v for k, v in row["facts"].items() if k != "phases_ms"} == after.facts

    upgrade(engine)
    assert stored(engine) == converted
    engine.dispose()


# --- a migration killed between batches ----------------------------------------------------------


UPGRADE_SCRIPT = (
    "import sys\n"
    "from monitor.store.engine import create_db_engine\n"
    "from monitor.store.migrate import ensure_schema\n"
    "ensure_schema(create_db_engine(sys.argv[1]))\n"
)


def _last_committed(engine: Engine) -> int | None:
    """The progress row as another connection sees it (None before the table exists)."""
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT last_id FROM check_result_progress")).scalar()
    except sa.exc.DBAPIError:
        return None


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_a_migration_killed_between_batches_is_finished_by_the_next_start(
    engine_name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'monitor.db'}"
        if engine_name == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    runs = old_runs(seed=21, rounds=120)  # some 2,500 runs: over a hundred batches of 20
    build_0009(url, runs).dispose()
    watcher = sa.create_engine(url)  # plain: reads the progress row, takes no locks
    env = {**os.environ, BATCH_VARIABLE: "20"}
    process = subprocess.Popen(
        [sys.executable, "-c", UPGRADE_SCRIPT, url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while (_last_committed(watcher) or 0) == 0:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no batch committed within a minute"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()
    interrupted_at = _last_committed(watcher)
    watcher.dispose()

    engine = create_db_engine(url)
    assert current_revision(engine) == "0009"  # the stamp comes last
    assert interrupted_at is not None
    assert 0 < interrupted_at < len(runs)

    with caplog.at_level(logging.INFO, logger="monitor.store.migrate"):
        assert ensure_schema(engine) is True

    assert f"resumed after id {interrupted_at}" in caplog.text  # went on, did not start over
    assert current_revision(engine) == "0010"
    assert_all_read_back(engine, runs)
    assert not TEMPORARY_TABLES & set(sa.inspect(engine).get_table_names())
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"
