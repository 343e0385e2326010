"""Is it me or is it them, asked of real status histories: one TOML file per moment.

Every ``<family>/<name>.toml`` beside this module is one scenario (README.md
in this folder lists the fields): which real status history to serve, what
the user's tools logged, the moment asked about, and the verdicts the
principles allow. Each runs end to end through the CLI, in process: the
history is served on 127.0.0.1 and polled (``monitor poll``), synthetic check
runs are recorded through the store's own functions, the log is imported
(``monitor import``), and ``monitor why --at ... --json`` answers. Nothing
leaves loopback: the configured checks are never run, only their recorded
runs are read.

The per-family score and every wrong answer are printed at the end of the
run (conftest.py); a wrong high-confidence verdict fails on its own assert.
"""

from __future__ import annotations

import json
import shutil
import socket
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.times import parse_duration
from tests.loopback import LoopbackServer
from tests.scenarios.score import Outcome

HERE = Path(__file__).parent
TESTS = HERE.parent
SCENARIOS = sorted(HERE.glob("*/*.toml"))
FAMILIES = (
    "component_match",
    "before_declared",
    "auth_quiet",
    "auth_unrelated",
    "dns_refused",
    "after_resolution",
    "undeclared_5xx",
    "quiet",
    "maintenance",
    "stray_line",
    "page_unreadable",
    "fixed_since",
    "probes",
)
VERDICTS = frozenset({"upstream", "local", "network", "inconclusive", "healthy", "no_data"})
RANK = {"low": 0, "medium": 1, "high": 2}
KEYS = frozenset(
    {
        "family",
        "vendor",
        "reason",
        "source",
        "at",
        "window",
        "format",
        "lines",
        "checks",
        "runs",
        "expect",
        "confidence_at_most",
        "summary_must_not_contain",
        "explained_by",
    }
)
SOURCE_KEYS = frozenset(
    {"name", "kind", "summary", "incidents", "maintenances", "feed", "status", "page"}
)
RUN_KEYS = frozenset(
    {"check", "at", "result", "failure_class", "http_status", "detail", "every", "until", "probe"}
)
UNREADABLE = {"http_500", "refused"}


@dataclass(frozen=True, slots=True)
class Scenario:
    """One file, read and checked: a mistake in a file fails loudly, never quietly passes."""

    id: str
    family: str
    vendor: str
    reason: str
    source: dict[str, Any]
    at: str
    window: str
    format: str
    lines: tuple[str, ...]
    checks: tuple[dict[str, Any], ...]
    runs: tuple[dict[str, Any], ...]
    expect: tuple[str, ...]
    confidence_at_most: str | None
    summary_must_not_contain: tuple[str, ...]
    explained_by: tuple[str, ...]

    @property
    def unreadable(self) -> bool:
        return self.source.get("page") in UNREADABLE


def load(path: Path) -> Scenario:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    where = path.relative_to(HERE)
    unknown = set(data) - KEYS
    assert not unknown, f"{where}: unknown keys {sorted(unknown)}"
    source = data["source"]
    assert not set(source) - SOURCE_KEYS, f"{where}: unknown source keys"
    assert source["kind"] in ("statuspage", "feed", "statusio"), f"{where}: source.kind"
    assert source.get("page", "served") in UNREADABLE | {"served"}, f"{where}: source.page"
    assert data["family"] == path.parent.name, f"{where}: family is not its folder"
    assert data["expect"], f"{where}: expect nothing"
    assert set(data["expect"]) <= VERDICTS, f"{where}: expect"
    cap = data.get("confidence_at_most")
    assert cap is None or cap in RANK, f"{where}: confidence_at_most"
    assert data.get("format", "jsonl") in ("jsonl", "text"), f"{where}: format"
    assert len(data["reason"].split()) >= 8, f"{where}: say why, by the principles"
    assert "explained_by" not in data or data["expect"] == ["upstream"], f"{where}: explained_by"
    for run in data.get("runs", []):
        assert not set(run) - RUN_KEYS, f"{where}: unknown run keys"
        assert run["result"] in ("pass", "fail", "skip"), f"{where}: run result"
        assert (run["result"] == "fail") == ("failure_class" in run), f"{where}: failure_class"
    return Scenario(
        id=f"{path.parent.name}/{path.stem}",
        family=data["family"],
        vendor=data["vendor"],
        reason=data["reason"],
        source=source,
        at=data["at"],
        window=data.get("window", "30m"),
        format=data.get("format", "jsonl"),
        lines=tuple(data.get("lines", ())),
        checks=tuple(data.get("checks", ())),
        runs=tuple(data.get("runs", ())),
        expect=tuple(data["expect"]),
        confidence_at_most=cap,
        summary_must_not_contain=tuple(data.get("summary_must_not_contain", ())),
        explained_by=tuple(data.get("explained_by", ())),
    )


class Pages:
    """Status histories on 127.0.0.1: each distinct ``source`` table is served once, at its own path."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.urls: dict[str, str] = {}

    def url_for(self, source: dict[str, Any]) -> str:
        key = json.dumps(source, sort_keys=True)
        if key not in self.urls:
            self.urls[key] = self._serve(source, f"/p{len(self.urls)}")
        return self.urls[key]

    def _serve(self, source: dict[str, Any], prefix: str) -> str:
        tail, bodies = _endpoints(source)
        page = source.get("page")
        if page == "refused":
            return f"http://127.0.0.1:{closed_port()}{prefix}{tail}"
        for path, body in bodies.items():
            if page == "http_500":
                self.server.route(prefix + path, _ERROR_PAGE, status=500, content_type="text/html")
            else:
                self.server.route(prefix + path, body, content_type=_content_type(path))
        return f"{self.server.url}{prefix}{tail}"


def _endpoints(source: dict[str, Any]) -> tuple[str, dict[str, bytes]]:
    """The configured URL's tail under the prefix, and the body of each path polled."""
    if source["kind"] == "statuspage":
        return "", _statuspage_bodies(source)
    if source["kind"] == "feed":
        tail = "/" + Path(source["feed"]).name
        return tail, {tail: fixture(source["feed"])}
    tail = "/1.0/status/" + Path(source["status"]).stem
    return tail, {tail: fixture(source["status"])}


_ERROR_PAGE = b"<html><body><h1>500 Internal Server Error</h1></body></html>"


def _statuspage_bodies(source: dict[str, Any]) -> dict[str, bytes]:
    """The three Statuspage endpoints: the fixtures named, else an empty shell for the page.

    A fixture may hold only ``incidents.json`` (the trimmed Claude mirror) or
    lack ``scheduled-maintenances.json`` (GitHub's); the missing endpoint is
    served as the page object with empty lists, which declares nothing.
    """
    incidents = fixture(source["incidents"])
    summary = fixture(source["summary"]) if "summary" in source else None
    page = json.loads(summary or incidents)["page"]
    if summary is None:
        shell = {"page": page, "components": [], "incidents": [], "scheduled_maintenances": []}
        summary = json.dumps(shell).encode()
    maintenances = (
        fixture(source["maintenances"])
        if "maintenances" in source
        else json.dumps({"page": page, "scheduled_maintenances": []}).encode()
    )
    return {
        "/api/v2/summary.json": summary,
        "/api/v2/incidents.json": incidents,
        "/api/v2/scheduled-maintenances.json": maintenances,
    }


def _content_type(path: str) -> str:
    if path.endswith(".atom"):
        return "application/atom+xml"
    if path.endswith(".rss"):
        return "application/rss+xml"
    return "application/json"


def fixture(relative: str) -> bytes:
    """A payload named relative to tests/ (``fixtures/...`` real, ``scenarios/data/...`` derived)."""
    return (TESTS / relative).read_bytes()


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def pages() -> Iterator[Pages]:
    with LoopbackServer() as server:
        yield Pages(server)


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated once: each scenario starts from a copy, not from running Alembic."""
    from monitor.store import open_store

    path = tmp_path_factory.mktemp("template") / "monitor.db"
    open_store(f"sqlite:///{path}").close()
    wal = path.with_name("monitor.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "copy only a checkpointed database"
    return path


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def write_config(scenario: Scenario, directory: Path, url: str) -> Path:
    source = scenario.source
    blocks = [
        '[monitor]\nprobe = "scenario"\n',
        '[http]\ntimeout = "2s"\nconnect_timeout = "1s"\n',
        f"[[source]]\nname = {toml_value(source['name'])}\n"
        f"kind = {toml_value(source['kind'])}\nurl = {toml_value(url)}\n",
    ]
    for check in scenario.checks:
        body = "".join(f"{key} = {toml_value(value)}\n" for key, value in check.items())
        blocks.append("[[check]]\n" + body)
    path = directory / "config.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def expand(runs: tuple[dict[str, Any], ...]) -> Iterator[dict[str, Any]]:
    """Each ``[[runs]]`` entry, repeated ``every`` interval up to ``until`` when given."""
    for run in runs:
        at, last = when(run["at"]), when(run.get("until", run["at"]))
        step = parse_duration(run["every"]) if "every" in run else timedelta(0)
        assert at <= last, run
        assert step > timedelta(0) or at == last, run
        while at <= last:
            yield {**run, "at": at}
            if step == timedelta(0):
                break
            at += step


def record_runs(config_path: Path, runs: tuple[dict[str, Any], ...]) -> None:
    """Record check runs as ``monitor check`` would, through the store's public functions."""
    from monitor.checks.runner import spec_of
    from monitor.config import load_config
    from monitor.store import open_store
    from monitor.store.checkruns import record_check_run, sync_checks

    config = load_config(config_path)
    store = open_store(config.database_url)
    try:
        expanded = sorted(expand(runs), key=lambda r: r["at"])
        with store.write() as session, session.begin():
            specs = [spec_of(check) for check in config.checks]
            ids = sync_checks(session, specs, expanded[0]["at"])
            for run in expanded:
                result = run["result"]
                record_check_run(
                    session,
                    check_id=ids[run["check"]],
                    probe=run.get("probe", config.probe),
                    started_at=run["at"],
                    duration_ms=42.0,
                    ok=result != "fail",
                    skipped=result == "skip",
                    failure_class=run.get("failure_class"),
                    http_status=run.get("http_status"),
                    request_id=None,
                    server_date=None,
                    detail=run.get("detail", result),
                    facts={},
                )
    finally:
        store.close()


class HarnessError(Exception):
    """The scenario could not be set up (a poll or an import went wrong): not a verdict."""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def ask(
    scenario: Scenario,
    pages: Pages,
    directory: Path,
    database: Path,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, Any]:
    """Poll, record runs, import, and ask ``why``: the answer as ``--json`` gives it."""
    config = write_config(scenario, directory, pages.url_for(scenario.source))
    shutil.copyfile(database, directory / "monitor.db")  # the config's default database
    status, out, err = cli(capsys, "--config", str(config), "poll")
    if status != (1 if scenario.unreadable else 0):
        raise HarnessError(f"monitor poll exited {status}: {out}{err}")
    if scenario.runs:
        record_runs(config, scenario.runs)
    if scenario.lines:
        log = directory / ("tool.jsonl" if scenario.format == "jsonl" else "tool.log")
        log.write_text("".join(line + "\n" for line in scenario.lines), encoding="utf-8")
        name = scenario.source["name"]
        status, out, err = cli(
            capsys,
            *("--config", str(config), "import", str(log), "--json"),
            *("--source", name, "--format", scenario.format, "--tz", "UTC"),
        )
        if status != 0:
            raise HarnessError(f"monitor import exited {status}: {err}")
        report = json.loads(out)
        if report["unreadable"] or report["new"] != len(scenario.lines):
            raise HarnessError(f"import read {report['new']} of {len(scenario.lines)}: {report}")
    status, out, err = cli(
        capsys,
        *("--config", str(config), "why", "--json", "--tz", "UTC"),
        *("--at", scenario.at, "--window", scenario.window),
    )
    if status != 0:
        raise HarnessError(f"monitor why exited {status}: {err}")
    answer: dict[str, Any] = json.loads(out)
    return answer


def judge(scenario: Scenario, answer: dict[str, Any]) -> Outcome:
    verdict, confidence, summary = answer["verdict"], answer["confidence"], answer["summary"]
    problem = ""
    cap = scenario.confidence_at_most
    if cap is not None and RANK[confidence] > RANK[cap]:
        problem = f"confidence above {cap}"
    said = [p for p in scenario.summary_must_not_contain if p.lower() in summary.lower()]
    if said:
        problem = f"summary says {said[0]!r}"
    titles = scenario.explained_by
    if titles and verdict == "upstream" and not any(t.lower() in summary.lower() for t in titles):
        problem = f"not explained by {' or '.join(repr(t) for t in titles)}"
    return Outcome(
        id=scenario.id,
        family=scenario.family,
        expected=scenario.expect,
        verdict=verdict,
        confidence=confidence,
        summary=summary,
        right=verdict in scenario.expect and not problem,
        problem=problem,
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=[f"{p.parent.name}/{p.stem}" for p in SCENARIOS])
def test_scenario(
    path: Path,
    pages: Pages,
    empty_database: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    scoreboard: list[Outcome],
) -> None:
    scenario = load(path)
    try:
        answer = ask(scenario, pages, tmp_path, empty_database, capsys)
    except Exception as exc:  # counted as a wrong answer, then reported as it is
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        scoreboard.append(
            Outcome(scenario.id, scenario.family, scenario.expect, "error", "-", error, False)
        )
        if isinstance(exc, HarnessError):
            pytest.fail(f"{scenario.id}: {exc}")
        raise
    outcome = judge(scenario, answer)
    scoreboard.append(outcome)
    told = (
        f"expected {'/'.join(scenario.expect)}, got {outcome.verdict} ({outcome.confidence}): "
        f"{outcome.summary}\nwhy expected: {scenario.reason}"
    )
    # A wrong answer given with high confidence is the worst failure: its own assert.
    assert not outcome.wrong_high, f"wrong with high confidence: {told}"
    assert outcome.verdict in scenario.expect, told
    assert not outcome.problem, f"{outcome.problem}: {told}"


def test_the_suite_covers_every_family_over_three_vendors() -> None:
    scenarios = [load(path) for path in SCENARIOS]
    families = Counter(s.family for s in scenarios)
    vendors = {s.vendor for s in scenarios}

    assert len(scenarios) >= 60
    assert set(families) == set(FAMILIES)
    assert min(families.values()) >= 4, families
    assert {"github", "digitalocean", "saucelabs"} <= vendors
