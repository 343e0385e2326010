"""Synthetic checks through ``run_checks`` against the loopback server (in its own process, so
this process's CPU in a call is the check machinery's own, excluding network wait)."""

from __future__ import annotations

import gc
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from benchmarks.measure import Reference, Row, clocked, expect, rounds
from benchmarks.registry import Context, Figure
from benchmarks.server import bare_client, free_port
from monitor.checks.context import CheckContext
from monitor.checks.runner import RunReport, run_checks

FIGURE_FIFTY = "50 loopback http checks: wall - slowest"
RUNS, RUNS_QUICK = 15, 5  # per repeat; few: the gc.collect() before each costs more than a run
FLOORS = {
    "http": "bare httpx GET, client reused",
    "tcp": "bare socket connect + close",
    "local_port": "bare socket bind + close",
}


def figure(kind: str) -> str:
    return f"check run overhead, {kind} (CPU)"


def checking(context: Context, checks: list[dict[str, Any]]) -> Callable[..., list[RunReport]]:
    """``run_checks`` on a fresh database, as ``monitor check`` calls it; every run must pass."""
    config, store = context.stack.enter_context(context.fresh_store(check=checks))
    check_context = CheckContext(config_dir=config.path.parent, state_dir=config.path.parent / "s")

    def run(*names: str) -> list[RunReport]:
        reports = run_checks(store, config, check_context, names)
        failed = [f"{r.check}: {r.result.failure_class}" for r in reports if not r.result.ok]
        expect(len(reports) == len(names or checks) and not failed, f"failed: {failed[:3]}")
        return reports

    return run


def run_overhead(context: Context) -> list[Row]:
    """One check per ``run_checks`` call, for http, tcp and local_port, each beside its floor."""
    server = context.loopback({"/ok": b"{}"})
    url, port, free = f"{server.url}/ok", urlsplit(server.url).port or 0, free_port()
    run = checking(
        context,
        [
            {"name": "http", "kind": "http", "url": url, "timeout": "10s"},
            {"name": "tcp", "kind": "tcp", "host": "127.0.0.1", "port": port, "timeout": "10s"},
            {"name": "local_port", "kind": "local_port", "ports": str(free)},
        ],
    )
    bare = context.stack.enter_context(bare_client())

    def bind() -> None:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", free))

    floors: dict[str, Callable[[], object]] = {
        "http": lambda: expect(bare.get(url).status_code == 200, "a bare GET failed"),
        "tcp": lambda: socket.create_connection(("127.0.0.1", port), timeout=10).close(),
        "local_port": bind,
    }

    def spaced(kind: str) -> tuple[float, float, float, float]:
        """A run after a gc.collect (untimed, as in a scheduled run), then its floor (without)."""
        (span, _), did = server.during(partial(clocked, partial(run, kind)))
        expect(kind != "http" or did.requests == 1, f"{did.requests} requests, not 1")
        floor, _ = clocked(floors[kind], collect=False)
        return span.cpu, span.wall, floor.cpu, did.cpu

    rows: list[Row] = []
    runs = context.repeat * (RUNS_QUICK if context.quick else RUNS)
    for kind in floors:
        cpu, wall, floor, server_cpu = zip(
            *rounds(partial(spaced, kind), runs, context.warm), strict=True
        )
        gc.collect()  # once for the batch: back to back, nothing else runs in between
        warm = tuple(clocked(partial(run, kind), collect=False)[0].cpu for _ in cpu)
        reference = Reference(FLOORS[kind], floor)
        rows += [
            Row(figure(kind), cpu, "ms", 0.005, "<= 5 ms CPU", reference=reference),
            Row("  same run, wall time", wall),
            Row("  back to back, CPU (warm caches)", warm),
        ]
        rows += [Row("  loopback server CPU, own process", server_cpu)] if kind == "http" else []
    return rows


def run_fifty(context: Context) -> list[Row]:
    """50 http checks in one ``run_checks``, the last one slow: its wall minus the slowest."""
    server = context.loopback({"/fast": b"{}", "/slow": {"body": b"{}", "delay": 1.0}})
    urls = [f"{server.url}/fast"] * 49 + [f"{server.url}/slow"]  # last: it waits for a worker
    names = [f"fast{i}" for i in range(49)] + ["slow"]
    check = {"kind": "http", "timeout": "10s"}  # well above the slow route's delay
    run = checking(
        context, [{"name": n, "url": u, **check} for n, u in zip(names, urls, strict=True)]
    )

    def get(client: Any, url: str) -> float:
        began = time.perf_counter()
        expect(client.get(url).status_code == 200, "a bare GET failed")
        return time.perf_counter() - began

    def one() -> tuple[float, float, float, float, float]:
        gc.collect()
        called_at = datetime.now(UTC)
        (span, reports), did = server.during(partial(clocked, run, collect=False))
        slow = max(reports, key=lambda r: r.duration_ms)
        slow_enough = slow.check == "slow" and slow.duration_ms >= 1000
        expect(did.requests == 50 and slow_enough, f"{did.requests} requests; slowest {slow}")
        with bare_client(32) as client, ThreadPoolExecutor(max_workers=32) as pool:
            floor, durations = clocked(lambda: list(pool.map(partial(get, client), urls)))
        started = (slow.started_at - called_at).total_seconds()
        return span.wall, slow.duration_ms / 1000, span.cpu, started, floor.wall - max(durations)

    wall, slowest, cpu, started, floor = zip(
        *rounds(one, context.repeat, context.warm), strict=True
    )
    reference = Reference("50 bare httpx GETs, 32 threads", floor)
    return [
        Row(
            FIGURE_FIFTY,
            tuple(w - s for w, s in zip(wall, slowest, strict=True)),
            "ms",
            1.0,
            "<= 1 s",
            reference=reference,
        ),
        Row("  wall time of the run_checks call", wall, "s"),
        Row("  slowest check (its duration_ms)", slowest, "s"),
        Row("  slow check started, after the call", started),
        Row("  same call, CPU of this process", cpu, "s"),
    ]


NOTES_OVERHEAD = (
    "check run overhead: CPU of one run_checks(store, config, context, [name]) call for one "
    "check (check row sync, thread pool, the check itself - for http a new client and the "
    "request - and the SQLite write of its result): the overhead without network wait. "
    f"{RUNS} runs per repeat ({RUNS_QUICK} with --quick), each after a gc.collect() outside "
    "the timer, as in a scheduled run; 'back to back' repeats them with nothing in between. "
    "References, CPU, each right after one of the figure's runs (after its gc.collect, without "
    "one of its own): http - a GET of the same URL by a bare httpx.Client built once (no client "
    "construction, no SQLite); tcp - socket.create_connection to the same port, then close; "
    "local_port - bind the same free port on 127.0.0.1, then close.",
)
NOTES_FIFTY = (
    "50 checks: one run_checks call for 50 http checks on the loopback server, 49 answered at "
    "once and the last after a 1 s server-side delay (timeouts 10 s); the figure is the call's "
    "wall time minus the slowest check's own duration_ms. The slow check is last in config "
    "order, so it waits for one of run_checks' 32 workers (the worst case); 'slow check "
    "started' is how long after the call began its run did. Reference: the same 50 URLs, in "
    "the same order, fetched by one bare httpx.Client shared by 32 threads: wall time minus "
    "the slowest GET.",
)
FIGURES = (
    Figure(
        "check-overhead",
        run_overhead,
        tuple((figure(k), "<= 5 ms CPU") for k in FLOORS),
        notes=NOTES_OVERHEAD,
    ),
    Figure("check-fifty", run_fifty, ((FIGURE_FIFTY, "<= 1 s"),), notes=NOTES_FIFTY),
)
