"""Synthetic checks through ``run_checks`` against the loopback server.

The server runs in its own process, so this process's CPU during a call is the check
machinery's own: the check row sync, the thread pool, the client and request, the SQLite
write of the result. Waiting on the network costs wall time, not CPU.
"""

from __future__ import annotations

import gc
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from benchmarks.measure import Reference, Row, Span, expect, timed
from benchmarks.registry import Context, Figure
from benchmarks.server import bare_client, free_port
from monitor.checks.context import CheckContext
from monitor.checks.runner import RunReport, run_checks

FIGURE_FIFTY = "50 loopback http checks: wall - slowest"
KINDS = ("http", "tcp", "local_port")
RUNS, RUNS_QUICK = 15, 5  # per repeat; few: the gc.collect() before each costs more than a run
FIFTY = 50
SLOW_S = 1.0
TIMEOUT = "10s"  # well above the slow route's delay
WORKERS = 32  # run_checks' thread pool


def figure(kind: str) -> str:
    return f"check run overhead, {kind} (CPU)"


def http_check(name: str, url: str) -> dict[str, Any]:
    return {"name": name, "kind": "http", "url": url, "timeout": TIMEOUT}


def expect_ok(reports: Sequence[RunReport], count: int) -> None:
    failed = [
        f"{r.check}: {r.result.failure_class} {r.result.detail}" for r in reports if not r.result.ok
    ]
    expect(len(reports) == count, f"expected {count} check runs, got {len(reports)}")
    expect(not failed, f"expected every check to pass: {'; '.join(failed[:3])}")


def run_overhead(context: Context) -> list[Row]:
    """One check per ``run_checks`` call, for http, tcp and local_port, each beside its floor."""
    server = context.loopback({"/ok": b"{}"})
    port = urlsplit(server.url).port
    assert port is not None
    free = free_port()
    checks = [
        http_check("http", f"{server.url}/ok"),
        {"name": "tcp", "kind": "tcp", "host": "127.0.0.1", "port": port, "timeout": TIMEOUT},
        {"name": "local_port", "kind": "local_port", "ports": str(free)},
    ]
    runs = context.repeat * (RUNS_QUICK if context.quick else RUNS)
    rows: list[Row] = []
    with context.fresh_store(check=checks) as (config, store), bare_client() as bare:
        home = config.path.parent
        check_context = CheckContext(config_dir=home, state_dir=home / "state")

        def single(name: str, collect: bool) -> Span:
            """``run_checks`` for the one check ``name``: timed, and it must pass."""
            with timed(collect=collect) as span:
                reports = run_checks(store, config, check_context, [name])
            expect_ok(reports, 1)
            return span

        def bind() -> None:
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(("127.0.0.1", free))

        floors: dict[str, tuple[str, Callable[[], object]]] = {
            "http": (
                "bare httpx GET, client reused",
                lambda: expect(bare.get(f"{server.url}/ok").status_code == 200, "bare GET failed"),
            ),
            "tcp": (
                "bare socket connect + close",
                lambda: socket.create_connection(("127.0.0.1", port), timeout=10).close(),
            ),
            "local_port": ("bare socket bind + close", bind),
        }
        for kind in KINDS:
            label, floor = floors[kind]
            for _ in range(context.warm):  # first-use costs (TLS context, statement cache)
                single(kind, True)
                floor()
            spaced, bare_cpu, server_cpu = [], [], []
            for _ in range(runs):
                span, did = server.during(partial(single, kind, True))
                expect(kind != "http" or did.requests == 1, f"{did.requests} requests, not 1")
                spaced.append(span)
                server_cpu.append(did.cpu)
                with timed(collect=False) as cost:  # right after the run's own gc.collect
                    floor()
                bare_cpu.append(cost.cpu)
            gc.collect()  # once for the batch: back to back, nothing else runs in between
            warm = [single(kind, False) for _ in range(runs)]
            rows += [
                Row(
                    figure(kind),
                    tuple(s.cpu for s in spaced),
                    target=0.005,
                    target_label="<= 5 ms CPU",
                    reference=Reference(label, tuple(bare_cpu)),
                ),
                Row("  same run, wall time", tuple(s.wall for s in spaced)),
                Row("  back to back, CPU (warm caches)", tuple(s.cpu for s in warm)),
            ]
            if kind == "http":
                rows.append(Row("  loopback server CPU, own process", tuple(server_cpu)))
    return rows


def run_fifty(context: Context) -> list[Row]:
    """50 http checks in one ``run_checks``, the last one slow: its wall minus the slowest."""
    server = context.loopback({"/fast": b"{}", "/slow": {"body": b"{}", "delay": SLOW_S}})
    checks = [http_check(f"fast{i}", f"{server.url}/fast") for i in range(FIFTY - 1)]
    checks.append(http_check("slow", f"{server.url}/slow"))  # last: it waits for a worker
    rounds, floors = [], []
    with context.fresh_store(check=checks) as (config, store):
        home = config.path.parent
        check_context = CheckContext(config_dir=home, state_dir=home / "state")
        for n in range(context.warm + context.repeat):
            with timed() as span:
                called_at = datetime.now(UTC)
                reports, did = server.during(lambda: run_checks(store, config, check_context))
            expect_ok(reports, FIFTY)
            expect(did.requests == FIFTY, f"{did.requests} requests at the server, not {FIFTY}")
            slow = max(reports, key=lambda r: r.duration_ms)
            expect(slow.check == "slow", f"the slowest check was {slow.check}, not the slow one")
            expect(slow.duration_ms >= SLOW_S * 1000, f"the slow check took {slow.duration_ms} ms")
            if n >= context.warm:
                started = (slow.started_at - called_at).total_seconds()
                rounds.append((span.wall, slow.duration_ms / 1000, span.cpu, started))
                floors.append(_minus_slowest([c["url"] for c in checks]))
    return [
        Row(
            FIGURE_FIFTY,
            tuple(wall - slowest for wall, slowest, _, _ in rounds),
            target=1.0,
            target_label="<= 1 s",
            reference=Reference(f"{FIFTY} bare httpx GETs, {WORKERS} threads", tuple(floors)),
        ),
        Row("  wall time of the run_checks call", tuple(r[0] for r in rounds), unit="s"),
        Row("  slowest check (its duration_ms)", tuple(r[1] for r in rounds), unit="s"),
        Row("  slow check started, after the call", tuple(r[3] for r in rounds)),
        Row("  same call, CPU of this process", tuple(r[2] for r in rounds), unit="s"),
    ]


def _minus_slowest(urls: Sequence[str]) -> float:
    """GET every URL on WORKERS threads (one shared bare client): wall time minus the slowest."""

    def one(url: str) -> float:
        began = time.perf_counter()
        status = client.get(url).status_code
        expect(status == 200, f"bare GET answered {status}")
        return time.perf_counter() - began

    with (
        bare_client(WORKERS) as client,
        timed() as span,
        ThreadPoolExecutor(max_workers=WORKERS) as pool,
    ):
        durations = list(pool.map(one, urls))
    return span.wall - max(durations)


FIGURES = (
    Figure(
        "check-overhead",
        run_overhead,
        tuple((figure(kind), "<= 5 ms CPU") for kind in KINDS),
        notes=(
            "check run overhead: CPU of one run_checks(store, config, context, [name]) call for "
            "one check (check row sync, thread pool, the check itself - for http a new client "
            "and the request - and the SQLite write of its result); the server's CPU is in its "
            "own process and network wait is not CPU, so this is the overhead excluding network "
            f"wait. {RUNS} runs per repeat ({RUNS_QUICK} with --quick), each after a "
            "gc.collect() outside the timer, as in a scheduled run; 'back to back' repeats them "
            "with nothing in between. References, CPU, each right after one of the figure's "
            "runs (so after its gc.collect, without one of its own): http - one GET to the same "
            "URL by a bare httpx.Client built once (no client construction, no SQLite); tcp - "
            "socket.create_connection to the same port, then close; local_port - bind the "
            "same free port on 127.0.0.1, then close.",
        ),
    ),
    Figure(
        "check-fifty",
        run_fifty,
        ((FIGURE_FIFTY, "<= 1 s"),),
        notes=(
            f"{FIFTY} checks: one run_checks call for {FIFTY} http checks on the loopback "
            f"server, {FIFTY - 1} answered at once and the last after a {SLOW_S:g} s "
            f"server-side delay (timeouts {TIMEOUT}); the figure is the call's wall time minus "
            "the slowest check's own duration_ms. The slow check is last in config order, so it "
            f"waits for one of run_checks' {WORKERS} workers (the worst case); 'slow check "
            "started' is how long after the call began its run did. One uncounted warm-up. "
            f"Reference: the same {FIFTY} URLs, in the same order, fetched by one bare "
            f"httpx.Client shared by {WORKERS} threads: wall time minus the slowest GET.",
        ),
    ),
)
