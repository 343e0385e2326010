"""Figures 4 and 5: synthetic checks through ``run_checks``, against a loopback server.

The server runs in its own process (benchmarks.server), so this process's CPU
time during a ``run_checks`` call is the check machinery's own cost: config
lookups, the ``check`` row sync, the thread pool, the client and request, the
SQLite write of the result. Waiting on the network costs wall time, not CPU.
"""

from __future__ import annotations

import gc
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks import references
from benchmarks.measure import Reference, Row, Span, expect, timed
from benchmarks.poll import Sample
from benchmarks.registry import Context, Figure
from benchmarks.server import RemoteLoopback, RouteSpec
from monitor.checks.context import CheckContext
from monitor.checks.runner import RunReport, run_checks
from monitor.config import Config, parse_config
from monitor.store import Store, open_store

FIGURE_HTTP = "check run overhead, http (CPU)"
FIGURE_TCP = "check run overhead, tcp (CPU)"
FIGURE_LOCAL_PORT = "check run overhead, local_port (CPU)"
FIGURE_FIFTY = "50 loopback http checks: wall - slowest"
TARGET_OVERHEAD_S = 0.005
TARGET_FIFTY_S = 1.0
RUNS_PER_REPEAT = 15  # few: each run is preceded by a gc.collect(), which costs more than the run
RUNS_PER_REPEAT_QUICK = 5
FIFTY = 50
SLOW_DELAY_S = 1.0
TIMEOUT = "10s"  # well above the slow route's delay
KINDS = ((FIGURE_HTTP, "http"), (FIGURE_TCP, "tcp"), (FIGURE_LOCAL_PORT, "local_port"))
WORKERS = 32  # run_checks' thread pool

Setup = tuple[Store, Config, CheckContext]  # run_checks's first three arguments


@contextmanager
def check_setup(checks: Sequence[dict[str, Any]]) -> Iterator[Setup]:
    """A config with ``checks``, a fresh SQLite file and a context, as ``monitor check`` has."""
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp:
        raw = {
            "monitor": {"probe": "bench"},
            "database": {"url": f"sqlite:///{Path(tmp) / 'monitor.db'}"},
            "check": list(checks),
        }
        config = parse_config(raw, Path(tmp) / "config.toml")
        store = open_store(config.database_url)
        context = CheckContext(config_dir=Path(tmp), state_dir=Path(tmp) / "state")
        try:
            yield store, config, context
        finally:
            store.close()


def http_check(name: str, url: str) -> dict[str, Any]:
    return {"name": name, "kind": "http", "url": url, "timeout": TIMEOUT}


def run_overhead(context: Context) -> list[Row]:
    """Figure 4: one check per ``run_checks`` call, for http, tcp and local_port."""
    runs = context.repeat * (RUNS_PER_REPEAT_QUICK if context.quick else RUNS_PER_REPEAT)
    with RemoteLoopback({"/ok": b"{}"}) as server, references.bare_client() as bare:
        port = urlsplit(server.url).port
        assert port is not None
        free = _free_port()
        checks = [
            http_check("http", f"{server.url}/ok"),
            {"name": "tcp", "kind": "tcp", "host": "127.0.0.1", "port": port, "timeout": TIMEOUT},
            {"name": "local_port", "kind": "local_port", "ports": str(free)},
        ]
        floors: dict[str, tuple[str, Callable[[], Span]]] = {
            "http": (
                "bare httpx GET, client reused",
                partial(references.timed_request, bare, f"{server.url}/ok"),
            ),
            "tcp": (
                "bare socket connect + close",
                partial(references.timed_connect, "127.0.0.1", port),
            ),
            "local_port": ("bare socket bind + close", partial(references.timed_bind, free)),
        }
        rows: list[Row] = []
        with check_setup(checks) as setup:
            for figure, name in KINDS:
                single = partial(_single_run, server, setup, name)
                rows += _overhead_rows(figure, single, floors[name], runs)
    return rows


def _overhead_rows(
    figure: str,
    single: Callable[[bool], Sample],
    floor: tuple[str, Callable[[], Span]],
    runs: int,
) -> list[Row]:
    single(True)  # warm-up: first-use costs (TLS context, statement cache), not counted
    label, bare = floor
    bare()
    spaced, floors = [], []
    for _ in range(runs):
        spaced.append(single(True))
        floors.append(bare())
    gc.collect()  # once for the batch: back to back, nothing else runs in between
    warm = [single(False) for _ in range(runs)]
    rows = [
        Row(
            figure,
            tuple(s.cpu for s in spaced),
            target=TARGET_OVERHEAD_S,
            target_label="<= 5 ms CPU",
            reference=Reference(label, tuple(f.cpu for f in floors)),
        ),
        Row("  same run, wall time", tuple(s.wall for s in spaced)),
        Row("  back to back, CPU (warm caches)", tuple(s.cpu for s in warm)),
    ]
    if figure == FIGURE_HTTP:
        rows.append(Row("  loopback server CPU, own process", tuple(s.server_cpu for s in spaced)))
    return rows


def _single_run(server: RemoteLoopback, setup: Setup, name: str, collect: bool) -> Sample:
    """``run_checks`` for the one check ``name``: timed, and checked that it passed."""
    store, config, context = setup
    before = server.stats()
    with timed(collect=collect) as span:
        reports = run_checks(store, config, context, [name])
    after = server.stats()
    _expect_ok(reports, 1)
    if name == "http":
        served = after.requests - before.requests
        expect(served == 1, f"expected 1 request at the server, it saw {served}")
    return Sample(span.wall, span.cpu, after.cpu - before.cpu)


def _free_port() -> int:
    """A port free right now, for the local_port check to find bindable."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True, slots=True)
class FiftyRound:
    """One run of all the checks, in seconds."""

    wall: float  # the run_checks call
    slowest: float  # the slowest check's own duration_ms
    cpu: float
    slow_start: float  # from the call's start to the slow check's started_at


def run_fifty(context: Context, count: int = FIFTY) -> list[Row]:
    """Figure 5: ``count`` http checks in one ``run_checks``, the last one slow."""
    routes: dict[str, RouteSpec] = {"/fast": b"{}", "/slow": {"body": b"{}", "delay": SLOW_DELAY_S}}
    with RemoteLoopback(routes) as server:
        checks = [http_check(f"fast{i}", f"{server.url}/fast") for i in range(count - 1)]
        checks.append(http_check("slow", f"{server.url}/slow"))  # last: it waits for a worker
        urls = [c["url"] for c in checks]
        with check_setup(checks) as setup:
            _expect_ok(run_checks(*setup), count)  # warm-up
            rounds, floors = [], []
            for _ in range(context.repeat):
                rounds.append(_fifty_round(server, setup, count))
                floors.append(references.gets_minus_slowest(urls, WORKERS))
    return [
        Row(
            FIGURE_FIFTY,
            tuple(r.wall - r.slowest for r in rounds),
            target=TARGET_FIFTY_S,
            target_label="<= 1 s",
            reference=Reference(f"{count} bare httpx GETs, {WORKERS} threads", tuple(floors)),
        ),
        Row("  wall time of the run_checks call", tuple(r.wall for r in rounds), unit="s"),
        Row("  slowest check (its duration_ms)", tuple(r.slowest for r in rounds), unit="s"),
        Row("  slow check started, after the call", tuple(r.slow_start for r in rounds)),
        Row("  same call, CPU of this process", tuple(r.cpu for r in rounds), unit="s"),
    ]


def _fifty_round(server: RemoteLoopback, setup: Setup, count: int) -> FiftyRound:
    before = server.stats()
    with timed() as span:
        called_at = datetime.now(UTC)
        reports = run_checks(*setup)
    served = server.stats().requests - before.requests
    _expect_ok(reports, count)
    expect(served == count, f"expected {count} requests at the server, it saw {served}")
    slow = max(reports, key=lambda r: r.duration_ms)
    expect(slow.check == "slow", f"the slowest check was {slow.check}, not the delayed one")
    expect(slow.duration_ms >= SLOW_DELAY_S * 1000, f"the slow check took {slow.duration_ms} ms")
    slow_start = (slow.started_at - called_at).total_seconds()
    return FiftyRound(span.wall, slow.duration_ms / 1000, span.cpu, slow_start)


def _expect_ok(reports: Sequence[RunReport], count: int) -> None:
    expect(len(reports) == count, f"expected {count} check runs, got {len(reports)}")
    failed = [r for r in reports if not r.result.ok]
    expect(
        not failed,
        "expected every check to pass; "
        + "; ".join(f"{r.check}: {r.result.failure_class} {r.result.detail}" for r in failed[:3]),
    )


FIGURES = (
    Figure(
        "check-overhead",
        run_overhead,
        tuple((figure, "<= 5 ms CPU") for figure, _ in KINDS),
        notes=(
            "check run overhead: CPU of one run_checks(store, config, context, [name]) call for "
            "one check (check row sync, thread pool, the check itself - for http a new client "
            "and the request - and the SQLite write of its result); the server's CPU is in its "
            "own process and network wait is not CPU, so this is the overhead excluding network "
            f"wait. {RUNS_PER_REPEAT} runs per repeat ({RUNS_PER_REPEAT_QUICK} with --quick), "
            "each after a gc.collect() outside the timer, as in a scheduled run; 'back to "
            "back' repeats them with nothing in between.",
            "check run overhead references, CPU, each right after one of the figure's runs "
            "(so after its gc.collect, without one of its own): http - one GET to the same URL "
            "by a bare httpx.Client built once (so no client construction, no SQLite); tcp - "
            "socket.create_connection to the same port, then close; local_port - bind the same "
            "free port on 127.0.0.1, then close.",
        ),
    ),
    Figure(
        "check-fifty",
        run_fifty,
        ((FIGURE_FIFTY, "<= 1 s"),),
        notes=(
            f"{FIFTY} checks: one run_checks call for {FIFTY} http checks on one loopback "
            f"server, {FIFTY - 1} answered at once and the last one after a {SLOW_DELAY_S:g} s "
            f"server-side delay (timeouts {TIMEOUT}); the figure is the call's wall time minus "
            "the slowest check's own duration_ms. The slow check is last in config order, so it "
            f"waits for one of run_checks' {WORKERS} workers (the worst case); 'slow check "
            "started' is how long after the call began its run did. Reference: the same "
            f"{FIFTY} URLs, in the same order, fetched by one bare httpx.Client shared by "
            f"{WORKERS} threads: wall time minus the slowest GET.",
        ),
    ),
)
