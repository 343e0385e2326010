"""The benchmark harness runs end to end (--quick, one repeat) and reports every figure;
the database generator writes what the app itself would read.

Timings are machine-dependent: nothing here asserts on them, only that each
figure was measured and written to the results file. The service figures run
real ``monitor run`` children, so the end-to-end run skips them (they are
still listed, as skipped); what they share with the others (the loopback
server, the context, the config writer, the lost-run count) and the
selection are tested on their own.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import sys
import tomllib
from contextlib import ExitStack, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from benchmarks import registry
from benchmarks.generate import TABLES, GeneratedSummary, generate, load_summary, write
from benchmarks.generate.verify import verify
from benchmarks.harness import FIGURES, KEYS, cells, load_figures, main, parse_args, selected
from benchmarks.measure import BenchmarkError, Reference, Row, command, rounds, samples
from benchmarks.probes import lost_runs
from benchmarks.registry import Context
from benchmarks.service_config import shipped_service, write_toml
from monitor.config import load_config
from monitor.rollups import RawRun, fold
from monitor.store import open_store, runcodes
from monitor.store.checkruns import latest_runs, list_check_runs
from monitor.store.migrate import HEAD_REVISION, current_revision
from monitor.store.models import RollupHourly

MEASURED = (  # with --quick: 20 sources, not 100
    "parse + upsert 50-incident incidents.json",
    "repeat poll answered 304 (CPU)",
    "20 loopback sources polled concurrently",
    "check run overhead, http (CPU)",
    "check run overhead, tcp (CPU)",
    "check run overhead, local_port (CPU)",
    "50 loopback http checks: wall - slowest",
)
REFERENCED = MEASURED  # every one of these has a reference measured in the same run
SERVICE = (
    "service resident memory after warm-up",
    "service CPU, 20 checks at 30 s against 127.0.0.1",
    "`/api/why`, 100 requests in a row to a running service",
    "service RSS with the API on, after the requests",
)
DATABASE = ("database bytes per check result", "bytes per year: 12 checks every 30 s")
TINY_DAYS = 1


def tiny_db(
    path: Path, *, days: int = TINY_DAYS, seed: int = 7, raw_days: int | None = None
) -> GeneratedSummary:
    """A day (or ``days``) of three checks: the first three of the catalog."""
    return generate(path, days=days, checks=3, interval=30, seed=seed, raw_days=raw_days)


def table_rows(markdown: str) -> dict[str, list[str]]:
    """Figure -> its cells (measured, target, reference, ratio) for each main row."""
    rows = {}
    for line in markdown.splitlines():
        if not line.startswith("| ") or line.startswith("| figure |") or line.startswith("| ↳"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        rows[cells[0]] = cells[1:]
    return rows


def test_quick_run_reports_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "RESULTS.md"

    assert main(["--quick", "--repeat", "1", "--skip", "service", "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    written = out.read_text(encoding="utf-8")
    assert "| figure | measured | target | reference | ratio |" in written
    assert "Python: " in written
    assert "CPU: " in written
    assert "Date (UTC): " in written
    assert "skipped: service-memory, service-cpu, service-api" in written
    assert "database: 7 days x 12 checks" in written
    found = table_rows(written)
    for figure in (*MEASURED, *SERVICE, *DATABASE):
        assert figure in printed
        assert figure in found
    for figure in MEASURED:
        _measured, target, reference, ratio = found[figure]
        assert target.endswith((": met", ": MISSED"))
        assert reference != "—"
        assert ratio.endswith("x")
    for figure in SERVICE:
        assert found[figure][0] == "skipped"
    for figure in DATABASE:
        assert found[figure][0].endswith(("B", "MB"))
        assert found[figure][3].endswith("x")


@pytest.mark.parametrize(
    ("argv", "keys"),
    [
        ([], KEYS),
        (["--skip", "service"], tuple(k for k in KEYS if not k.startswith("service"))),
        (["--only", "service"], ("service-memory", "service-cpu", "service-api")),
        (["--only", "poll", "--skip", "poll-hundred"], ("poll-304",)),
        (["--only", "database"], ("database",)),
    ],
)
def test_only_and_skip_select_figures_by_name_or_prefix(
    argv: list[str], keys: tuple[str, ...]
) -> None:
    args = parse_args(argv)

    assert tuple(f.key for f in selected(args.only, args.skip)) == keys


def test_an_unknown_figure_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--skip", "servic"])

    assert "no figure 'servic'" in capsys.readouterr().err


def test_a_figure_module_registers_with_one_line() -> None:
    figures = load_figures(("benchmarks.ingest", "benchmarks.database"))

    assert [f.key for f in figures] == ["ingest", "database"]
    with pytest.raises(ValueError, match="registered twice: ingest"):
        load_figures(("benchmarks.ingest", "benchmarks.ingest"))


def test_the_table_shows_the_reference_and_the_ratio() -> None:
    row = Row("figure", (0.004, 0.002, 0.003), reference=Reference("bare", (0.0015,)))

    _figure, measured, target, reference, ratio = cells(row)

    assert (measured, target, reference, ratio) == (
        "3.0 ms (2.0–4.0)",
        "-",
        "1.5 ms (bare)",
        "2.00x",
    )
    assert cells(Row("no reference", (1.0,), unit="s"))[3:] == ("—", "—")
    assert cells(Row("  a sub-row", (1.0,), unit="s"))[3:] == ("", "")


def test_every_figure_names_its_rows_and_says_how_it_is_measured() -> None:
    for figure in FIGURES:
        assert figure.targets, figure.key
        assert figure.notes, figure.key
        assert all(name and label for name, label in figure.targets), figure.key


def test_the_context_shares_one_loopback_server_and_one_migrated_database(tmp_path: Path) -> None:
    context = Context(1, quick=True)
    with context.stack:
        server = context.loopback({"/a": b"{}"})
        assert context.loopback({"/b": {"body": b"late", "status": 201}}) is server
        with httpx.Client(trust_env=False) as client:
            (first, second), did = server.during(
                lambda: (client.get(f"{server.url}/a"), client.get(f"{server.url}/b"))
            )
            again = client.get(f"{server.url}/a", headers={"If-None-Match": first.headers["etag"]})
        url = context.empty_database(tmp_path / "one.db")
        with context.fresh_store(check=[]) as (config, store):
            assert config.probe == "bench"
            assert config.database_url != url
            assert not store.migrated  # a copy of the file migrated once
        folder = context.folder()
        assert folder.is_dir()
        copied = open_store(url, upgrade=False)
        assert current_revision(copied.engine) == HEAD_REVISION
        copied.close()
    assert (first.status_code, second.status_code, second.content) == (200, 201, b"late")
    assert again.status_code == 304
    assert (did.requests, did.not_modified) == (2, 0)
    assert did.cpu >= 0
    assert not folder.exists()


def test_a_config_is_written_as_toml_and_the_shipped_one_served_on_loopback(
    tmp_path: Path,
) -> None:
    raw = {
        "monitor": {"probe": "p"},
        "check": [{"name": 'a "quoted" name', "headers": {"x-a": "1"}, "ok": True, "n": 2.5}],
        "list": ["é", 3],
    }

    assert tomllib.loads(write_toml(tmp_path / "c.toml", raw).read_text()) == raw

    shipped = shipped_service(tmp_path, "http://127.0.0.1:9")
    config = load_config(shipped.config)
    paths = [u.removeprefix("http://127.0.0.1:9") for u in [s.url for s in config.sources]]
    checks = [c.url.removeprefix("http://127.0.0.1:9") for c in config.checks if c.kind == "http"]
    assert (len(config.sources), len(config.checks)) == (shipped.sources, shipped.checks)
    assert all(any(route.startswith(p) for route in shipped.routes) for p in paths)
    assert all(path in shipped.routes for path in checks)
    assert config.http.listen != "127.0.0.1:9470"


def test_a_timed_command_must_succeed_and_warm_ups_are_not_counted() -> None:
    counter = itertools.count(1)

    assert rounds(lambda: next(counter), 2, warm=1) == [2, 3]
    assert len(samples(lambda: None, 3, warm=2)) == 3
    assert command([sys.executable, "-c", "print('yes')"], printed="yes")() == "yes\n"
    with pytest.raises(BenchmarkError, match="failed"):
        command([sys.executable, "-c", "raise SystemExit(3)"])()


def test_lost_runs_counts_the_fire_times_a_gap_held() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    runs = [start + timedelta(seconds=s) for s in (0, 10, 20, 55, 65)]  # 35 s: two missed

    assert lost_runs(runs, start + timedelta(seconds=70)) == 2
    assert lost_runs(runs, start + timedelta(seconds=100)) == 4


# -- the generator ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GeneratedSummary]:
    """Two days of three checks, the first day also folded into rollups (a retention of a day)."""
    path = tmp_path_factory.mktemp("generated") / "tiny.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(write, "RETENTION_DAYS", 1)
        return path, tiny_db(path, days=2)


def dump_hash(path: Path) -> str:
    """A hash of every row of every table, in each table's key order: equal hashes, equal content."""
    digest = hashlib.sha256()
    with closing(sqlite3.connect(path)) as con:
        for table in TABLES:
            for row in con.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 (scan order: key order)
                digest.update(repr(row).encode())
    return digest.hexdigest()


def stored_runs(path: Path) -> list[tuple[tuple[Any, ...], runcodes.StoredRun, runcodes.Usual]]:
    """Every check_result row as stored, as decoded, and its check's usual."""
    columns = ", ".join(runcodes.STORED_COLUMNS).replace("check.", '"check".')
    with closing(sqlite3.connect(path)) as con:
        raw = {row[:3]: row for row in con.execute("SELECT * FROM check_result")}
        return [
            (raw[row[-2:] + row[2:3]], runcodes.decode(row[:-2]), runcodes.Usual(*row[15:17]))
            for row in con.execute(
                f"SELECT {columns}, check_id, probe_id FROM check_result "  # noqa: S608
                'JOIN "check" ON "check".id = check_id JOIN probe ON probe.id = probe_id'
            )
        ]


def test_the_app_opens_a_generated_database_at_head(tiny: tuple[Path, GeneratedSummary]) -> None:
    path, summary = tiny
    store = open_store(f"sqlite:///{path}")
    try:
        assert current_revision(store.engine) == HEAD_REVISION
        assert not store.migrated
        with store.read() as session:
            runs = list_check_runs(session, limit=5)
            latest = latest_runs(session, ["api-reachable", "api-authenticated", "control"])
        assert len(runs) == 5
        assert all(run.started_at.tzinfo is UTC and run.probe == "laptop" for run in runs)
        assert all(run is not None for run in latest.values())
    finally:
        store.close()
    assert summary.checks == 3


def test_every_row_is_what_encode_writes_for_its_run(tiny: tuple[Path, GeneratedSummary]) -> None:
    runs = stored_runs(tiny[0])
    for stored, run, usual in runs:
        again = runcodes.encode(
            check_id=stored[0], probe_id=stored[1], started_at=run.started_at,
            duration_ms=run.duration_ms, ok=run.ok, skipped=run.skipped,
            failure_class=run.failure_class, http_status=run.http_status,
            phases_ms=run.phases_ms, request_id=run.request_id, server_date=run.server_date,
            detail=run.detail, facts=run.facts, usual=usual,
        )  # fmt: skip
        assert tuple(again.values()) == stored
    passes = [run for _, run, _ in runs if run.ok and not run.skipped]
    failures = [(stored, run) for stored, run, _ in runs if not run.ok]
    assert 0.9 < len(passes) / len(runs) < 0.995
    assert sum(stored[-2] is None for stored, _, _ in runs) > 0.9 * len(passes)  # the usual
    assert all(run.phases_ms.keys() >= {"connect", "tls", "ttfb"} for run in passes)
    assert any(run.request_id and run.request_id.startswith("req_") for _, run in failures)
    assert all(stored[11] is None and stored[12] is None for stored, run, _ in runs if run.ok)


def test_counts_match_the_summary(tiny: tuple[Path, GeneratedSummary]) -> None:
    path, summary = tiny
    with closing(sqlite3.connect(path)) as con:
        counts = {
            t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
            for t in TABLES
        }

    assert counts == summary.counts
    assert counts["check_result"] > 0.8 * 3 * 2880 * 2
    assert counts["incident"] >= 3
    assert 4 * counts["incident"] <= counts["incident_update"] <= 6 * counts["incident"]
    assert counts["poll"] > 0
    assert counts["heartbeat"] >= 2
    assert counts["rollup_hourly"] > 0
    assert load_summary(path) == summary


def test_the_same_seed_gives_the_same_database(tmp_path: Path) -> None:
    first = tiny_db(tmp_path / "first.db")
    again = tiny_db(tmp_path / "again.db")
    tiny_db(tmp_path / "other.db", seed=8)

    assert dump_hash(tmp_path / "again.db") == dump_hash(tmp_path / "first.db")
    assert again.interesting == first.interesting
    assert dump_hash(tmp_path / "other.db") != dump_hash(tmp_path / "first.db")


def test_rollups_are_retentions_fold_of_the_raw_runs(tiny: tuple[Path, GeneratedSummary]) -> None:
    path, summary = tiny
    store = open_store(f"sqlite:///{path}")
    try:
        with store.read() as session:
            stored = {
                (r.check_id, r.probe, r.hour): r for r in session.scalars(select(RollupHourly))
            }
    finally:
        store.close()
    cutoff = datetime.fromisoformat(summary.end.replace("Z", "+00:00")) - timedelta(days=1)
    folded = fold(
        RawRun(row[0], run.probe, run.started_at, run.duration_ms, run.ok, run.skipped,
               run.failure_class)
        for row, run, _ in stored_runs(path) if run.started_at < cutoff
    )  # fmt: skip

    assert len(folded) == len(stored) > 24
    assert any(r.failures for r in folded)
    for rollup in folded:
        row = stored[rollup.key]
        assert (row.runs, row.failures, row.skipped) == (
            rollup.runs,
            rollup.failures,
            rollup.skipped,
        )
        assert (row.p50_ms, row.p95_ms) == (rollup.p50_ms, rollup.p95_ms)
        assert row.failure_classes == rollup.failure_classes


def test_every_kind_of_moment_points_at_what_it_says(tiny: tuple[Path, GeneratedSummary]) -> None:
    path, summary = tiny
    with closing(sqlite3.connect(path)) as con:
        for kind in ("upstream_incident", "stale_token", "vpn"):
            moment = summary.moment(kind)
            at = datetime.fromisoformat(moment.at.replace("Z", "+00:00"))
            assert moment.raw
            for check in moment.checks:
                failure = con.execute(
                    'SELECT r.failure_class FROM check_result r JOIN "check" c ON c.id = '
                    "r.check_id WHERE c.name = ? AND r.started_ms <= ? ORDER BY r.started_ms "
                    "DESC LIMIT 1",
                    (check, runcodes.to_ms(at)),
                ).fetchone()
                assert failure is not None, (kind, check)
                assert failure[0] is not None, (kind, check)
            first = con.execute(
                'SELECT r.failure_class FROM check_result r JOIN "check" c ON c.id = r.check_id '
                "WHERE c.name = ? AND r.started_ms <= ? ORDER BY r.started_ms DESC LIMIT 1",
                (moment.checks[0], runcodes.to_ms(at)),
            ).fetchone()
            assert first == (runcodes.failure_code(moment.failure_class),)
        upstream = summary.moment("upstream_incident")
        external_id = upstream.note.split()[2]  # "claude incident <id> 'title' (impact)"
        open_then = con.execute(
            "SELECT count(*) FROM incident WHERE external_id = ? AND created_at <= ? "
            "AND resolved_at >= ?",
            (external_id, *[upstream.at.replace("T", " ").rstrip("Z")] * 2),
        ).fetchone()[0]
        assert open_then == 1
        gap = summary.moment("gap")
        bounds = [runcodes.to_ms(datetime.fromisoformat(t.replace("Z", "+00:00")))
                  for t in (gap.start, gap.end)]  # fmt: skip
        inside = "SELECT count(*) FROM check_result WHERE started_ms BETWEEN ? AND ?"
        assert con.execute(inside, bounds).fetchone()[0] == 0
    assert summary.interesting["quiet"]


def test_every_planted_moment_gets_its_verdict_from_why(
    tiny: tuple[Path, GeneratedSummary],
) -> None:
    assert verify(tiny[0]) == []


def test_raw_days_keeps_the_newest_runs_and_folds_the_rest(tmp_path: Path) -> None:
    tiny_db(tmp_path / "all.db", days=2)
    summary = tiny_db(tmp_path / "recent.db", days=2, raw_days=1)
    raw_from = runcodes.to_ms(datetime.fromisoformat(summary.raw_from.replace("Z", "+00:00")))
    recent = "SELECT * FROM check_result WHERE started_ms >= ? ORDER BY 1, 2, 3"
    dumps = {}
    for name in ("all", "recent"):
        with closing(sqlite3.connect(tmp_path / f"{name}.db")) as con:
            oldest = con.execute("SELECT min(started_ms) FROM check_result").fetchone()[0]
            hours = con.execute("SELECT count(DISTINCT hour) FROM rollup_hourly").fetchone()[0]
            dumps[name] = (oldest, con.execute(recent, (raw_from,)).fetchall(), hours)

    assert dumps["recent"][0] >= raw_from > dumps["all"][0]
    # Each run is drawn from its check and tick alone: it does not depend on what else is written.
    assert dumps["recent"][1] == dumps["all"][1]
    assert dumps["recent"][2] == 24  # the day the runs aged out of, folded
    assert dumps["all"][2] == 0  # a retention of 90 days has not folded anything yet


def test_the_dataset_is_generated_once_then_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "CACHE", tmp_path)
    monkeypatch.setattr(registry, "YEAR", registry.Parameters(days=1, checks=2))
    lines: list[str] = []
    with ExitStack() as stack:
        first = registry.provide(None, False, lines.append, stack)
        again = registry.provide(None, False, lines.append, stack)
        given = registry.provide(first.path, True, lines.append, stack)

    assert first.generated_now
    assert not again.generated_now
    assert not given.generated_now
    assert first.path == again.path == tmp_path / "year.db"
    assert again.summary == first.summary == given.summary
    assert any("using the cached" in line for line in lines)
