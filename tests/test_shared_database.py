"""Several probes, one database: first writes that meet another probe's never fail.

Each probe here has its own engine (as separate machines would) and its own
``[monitor] probe`` name; they start together behind a barrier, so they race
on the database itself, not on start-up. Every race repeats on a fresh
database, since only a first write can collide.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import ProgrammingError

from monitor.checks.context import CheckContext
from monitor.checks.runner import run_checks
from monitor.config import Config, load_config
from monitor.polling.poll import poll_sources
from monitor.store import Store, open_store, runcodes
from monitor.store.engine import create_db_engine
from monitor.store.models import (
    Check,
    CheckRun,
    Heartbeat,
    Incident,
    IncidentUpdate,
    Poll,
    Probe,
    Source,
    UpdateComponent,
)
from tests.conftest import fixture_bytes, run_monitor
from tests.loopback import LoopbackServer, wait_until
from tests.test_service import service, stop

PROBES = ("laptop", "ci-runner")
ROUNDS = range(4)
T = TypeVar("T")


def serve_github(server: LoopbackServer) -> None:
    server.route("/api/v2/summary.json", fixture_bytes("github/summary-2026-07-31.json"))
    server.route("/api/v2/incidents.json", fixture_bytes("github/incidents-2026-07-31.json"))
    server.route("/api/v2/scheduled-maintenances.json", b'{"scheduled_maintenances": []}')
    server.route("/v1/messages", b'{"error": "auth"}', status=401)


def probe_config(folder: Path, probe: str, database_url: str, server: LoopbackServer) -> Config:
    """One probe's config: its own name and folder, the shared database, one source, one check."""
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        f'[monitor]\nprobe = "{probe}"\n'
        f'[database]\nurl = "{database_url}"\n'
        f'[[source]]\nname = "github"\nkind = "statuspage"\nurl = "{server.url}"\n'
        f'[[check]]\nname = "api-reachable"\nkind = "http"\nurl = "{server.url}/v1/messages"\n'
        "expect_status = [401]\n",
        encoding="utf-8",
    )
    return load_config(path)


@pytest.fixture
def probes(
    database_url: str, server: LoopbackServer, tmp_path: Path
) -> Iterator[list[tuple[Config, Store]]]:
    """Two probes on one fresh database, each with its own engine. The schema is made first:
    the migration race has its own test; this one is about first rows."""
    serve_github(server)
    configs = [probe_config(tmp_path / name, name, database_url, server) for name in PROBES]
    stores = [open_store(config.database_url) for config in configs]
    yield list(zip(configs, stores, strict=True))
    for store in stores:
        store.close()


def together(work: Callable[[Config, Store], T], probes: list[tuple[Config, Store]]) -> list[T]:
    """Run ``work`` for every probe at once, released together by a barrier."""
    gun = threading.Barrier(len(probes))

    def one(config: Config, store: Store) -> T:
        gun.wait(timeout=30)
        return work(config, store)

    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = [pool.submit(one, config, store) for config, store in probes]
        return [future.result(timeout=120) for future in futures]


def count(store: Store, model: type[object]) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("round_", ROUNDS)
def test_two_probes_first_polls_of_one_new_source_both_succeed(
    probes: list[tuple[Config, Store]], round_: int
) -> None:
    reports = together(lambda config, store: poll_sources(store, config), probes)

    assert [(r.outcome, r.error) for [r] in reports] == [("ok", None)] * 2
    store = probes[0][1]
    assert count(store, Source) == 1
    assert count(store, Incident) == 50  # both polled the same 50: each stored once
    with store.read() as session:
        polled = sorted(session.scalars(select(Poll.probe)))
        updates = session.scalar(select(func.count(func.distinct(IncidentUpdate.external_id))))
    assert polled == sorted(PROBES)
    assert count(store, IncidentUpdate) == updates  # no update twice
    # Whichever probe added a row counted it: together, each row once.
    assert sum(r.stats.new_incidents for [r] in reports) == 50
    assert sum(r.stats.new_updates for [r] in reports) == updates
    assert count(store, UpdateComponent) > 0


@pytest.mark.parametrize("round_", ROUNDS)
def test_two_probes_first_check_runs_both_succeed(
    probes: list[tuple[Config, Store]], round_: int, tmp_path: Path
) -> None:
    def check(config: Config, store: Store) -> list[object]:
        context = CheckContext(config_dir=config.path.parent, state_dir=tmp_path / config.probe)
        return [(r.probe, r.result.ok) for r in run_checks(store, config, context)]

    results = together(check, probes)

    assert sorted(results) == sorted([[(probe, True)] for probe in PROBES])
    store = probes[0][1]
    assert count(store, Check) == 1
    with store.read() as session:
        assert sorted(session.scalars(run_probes())) == sorted(PROBES)


# --- two `monitor run` services, one PostgreSQL ----------------------------------------------


def service_config(folder: Path, probe: str, database_url: str, server: LoopbackServer) -> Path:
    """A service's config: the same check (name and path) on every probe, its own server."""
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        f'[monitor]\nprobe = "{probe}"\n'
        f'[database]\nurl = "{database_url}"\n'
        f'[[check]]\nname = "api-reachable"\nkind = "http"\nurl = "{server.url}/v1/messages"\n'
        'expect_status = [401]\ninterval = "1s"\ntimeout = "2s"\n',
        encoding="utf-8",
    )
    return path


def run_probes() -> Select[str]:
    """The probe of every run recorded."""
    return select(Probe.name).select_from(CheckRun).join(Probe, Probe.id == CheckRun.probe_id)


def of_probe(probe: str, *, ok: bool) -> list[ColumnElement[bool]]:
    """Runs of ``probe`` that passed (or were skipped), or that failed."""
    passed = CheckRun.outcome != runcodes.FAILED if ok else CheckRun.outcome == runcodes.FAILED
    found = select(Probe.id).where(Probe.name == probe).scalar_subquery()
    return [CheckRun.probe_id == found, passed]


def runs_of(database_url: str, probe: str, *, ok: bool) -> int:
    """How many runs ``probe`` recorded that passed (or failed); 0 before the schema exists."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(CheckRun).where(*of_probe(probe, ok=ok))
            return int(connection.scalar(query) or 0)
    except ProgrammingError:  # not migrated yet
        return 0
    finally:
        engine.dispose()


def test_two_services_on_one_postgresql_record_each_probes_runs_and_why_names_them(
    postgres_url: str, tmp_path: Path
) -> None:
    with LoopbackServer() as server_a, LoopbackServer() as server_b:
        server_a.route("/v1/messages", b"upstream connect error", status=500)
        server_b.route("/v1/messages", b'{"error": "auth"}', status=401)
        config_a = service_config(tmp_path / "a", "probe-a", postgres_url, server_a)
        config_b = service_config(tmp_path / "b", "probe-b", postgres_url, server_b)

        with service(config_a) as process_a, service(config_b) as process_b:
            # First A fails alone ...
            assert wait_until(
                lambda: (
                    runs_of(postgres_url, "probe-a", ok=False) >= 4
                    and runs_of(postgres_url, "probe-b", ok=True) >= 4
                ),
                timeout=30,
            ), (tmp_path / "a" / "service.log").read_text()
            # ... then both fail.
            server_b.route("/v1/messages", b"upstream connect error", status=500)
            assert wait_until(lambda: runs_of(postgres_url, "probe-b", ok=False) >= 3, timeout=30)
            codes = [stop(process_a)[0], stop(process_b)[0]]

    assert codes == [0, 0]
    store = open_store(postgres_url)
    try:
        with store.read() as session:
            probes = set(session.scalars(run_probes()))
            checks = session.scalars(select(Check.name)).all()
            beats = {b.probe: b for b in session.scalars(select(Heartbeat))}
    finally:
        store.close()
    assert probes == {"probe-a", "probe-b"}
    assert checks == ["api-reachable"]  # one check, run from two vantage points
    assert set(beats) == {"probe-a", "probe-b"}
    assert all(b.stopped_at is not None for b in beats.values())

    done = run_monitor(config_a, "why", "--json", timeout=60)

    assert done.returncode == 0, done.stderr
    local = json.loads(done.stdout)["local"]
    assert {(w["check"], w["probe"]) for w in local} == {
        ("api-reachable", "probe-a"),
        ("api-reachable", "probe-b"),
    }
    assert all("server_error" in w["failure_classes"] for w in local)

    # Asked about the minutes when only A failed: B made the same call from the
    # same machine meanwhile, so it is A's own side, named, not the vendor.
    alone = last_run(postgres_url, "probe-b", ok=True) - timedelta(seconds=1.5)
    answer = why_at(config_a, alone, "1500ms")
    assert answer["verdict"] == "local", json.dumps(answer, indent=1)
    assert "Only probe probe-a fails" in answer["summary"]
    assert {view["probe"] for view in answer["probes"]} == {"probe-a", "probe-b"}
    # Asked about the end, when both failed: no longer one probe's trouble; two
    # probes on one host are one vantage point, so no more than one machine's word.
    both = why_at(config_a, last_run(postgres_url, "probe-b", ok=False), "3s")
    assert (both["verdict"], both["confidence"]) == ("upstream", "low"), both["summary"]
    assert "Only probe" not in both["summary"]


def last_run(database_url: str, probe: str, *, ok: bool) -> datetime:
    """When ``probe`` last recorded a run that passed (or failed)."""
    store = open_store(database_url)
    try:
        with store.read() as session:
            query = select(func.max(CheckRun.started_ms)).where(*of_probe(probe, ok=ok))
            found = session.scalar(query)
    finally:
        store.close()
    assert found is not None
    return runcodes.from_ms(found)


def why_at(config: Path, at: datetime, window: str) -> dict[str, Any]:
    """``monitor why --json`` about the seconds around ``at`` (the checks run every second)."""
    done = run_monitor(config, "why", "--json", "--at", at.isoformat(), "--window", window)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_a_stuck_migrator_is_named_instead_of_waited_for_forever(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the migration lock and never lets go: say so, with its pid."""
    import psycopg

    from monitor.errors import DatabaseError
    from monitor.store import migrate

    monkeypatch.setattr(migrate, "MIGRATION_WAIT_S", 1)
    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate.MIGRATION_LOCK_KEY,))
        pid = holder.info.backend_pid
        with pytest.raises(DatabaseError) as raised:
            open_store(postgres_url)
    assert "migrating this database for over" in str(raised.value)
    assert f"pid {pid}" in str(raised.value)
    open_store(postgres_url).close()  # the holder gone, the next start migrates
