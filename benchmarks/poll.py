"""Figures 2 and 3: whole ``poll_sources`` calls against statuspage sources on loopback.

The server runs in a separate process (benchmarks.server), so the CPU time
measured here is the poller's alone; the server's own CPU is reported apart.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks import payloads, references
from benchmarks.measure import Reference, Row, expect, timed
from benchmarks.registry import Context, Figure
from benchmarks.server import RemoteLoopback
from monitor.config import Config, parse_config
from monitor.polling.poll import client_for, poll_sources
from monitor.polling.record import PollReport
from monitor.store import Store, open_store

FIGURE_304 = "repeat poll answered 304 (CPU)"
FIGURE_HUNDRED = "100 loopback sources polled concurrently"
TARGET_304_CPU_S = 0.005
TARGET_HUNDRED_S = 3.0
HUNDRED = 100
ENDPOINTS = 3  # summary, incidents, scheduled-maintenances
WORKERS = 16  # poll_sources' default thread count


@dataclass(frozen=True, slots=True)
class Sample:
    wall: float
    cpu: float
    server_cpu: float = 0.0


def config_for(tmp: Path, sources: Sequence[dict[str, str]]) -> Config:
    raw = {
        "monitor": {"probe": "bench"},
        "database": {"url": f"sqlite:///{tmp / 'monitor.db'}"},
        "http": {"timeout": "10s", "connect_timeout": "5s"},
        "source": list(sources),
    }
    return parse_config(raw, tmp / "config.toml")


Setup = tuple[Config, Store, httpx.Client]


@contextmanager
def polling_setup(sources: Sequence[dict[str, str]]) -> Iterator[Setup]:
    """A fresh database and a pre-built client (neither is part of any figure)."""
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp:
        config = config_for(Path(tmp), sources)
        store = open_store(config.database_url)
        client = client_for(config)
        try:
            yield config, store, client
        finally:
            client.close()
            store.close()


def run_repeat_304(context: Context) -> list[Row]:
    """Figure 2: one statuspage source, already polled once, polled again (three 304s)."""
    routes = payloads.statuspage_routes()
    with RemoteLoopback(routes) as server:
        sources = [{"name": "github", "kind": "statuspage", "url": server.url}]
        urls = [f"{server.url}{path}" for path in routes]
        with polling_setup(sources) as (config, store, client), references.bare_client() as bare:
            names = ["github"]
            _check(poll_sources(store, config, names, client=client), "ok")
            _check(poll_sources(store, config, names, client=client), "not_modified")  # warm-up
            etags = references.etags_of(bare, urls)
            references.conditional_gets(bare, urls, etags)  # warm-up
            samples, floors = [], []
            for _ in range(context.repeat):
                samples.append(_timed_304(server, store, config, names, client))
                floors.append(references.conditional_gets(bare, urls, etags))
    return [
        Row(
            FIGURE_304,
            tuple(s.cpu for s in samples),
            target=TARGET_304_CPU_S,
            target_label="<= 5 ms CPU",
            reference=Reference("3 bare httpx GETs answered 304", tuple(f.cpu for f in floors)),
        ),
        Row("  same poll, wall time", tuple(s.wall for s in samples)),
        Row("  loopback server CPU, own process", tuple(s.server_cpu for s in samples)),
    ]


def _timed_304(
    server: RemoteLoopback, store: Store, config: Config, names: list[str], client: httpx.Client
) -> Sample:
    before = server.stats()
    with timed() as span:
        reports = poll_sources(store, config, names, client=client)
    after = server.stats()
    _check(reports, "not_modified")
    answered = after.not_modified - before.not_modified
    expect(answered == ENDPOINTS, f"expected {ENDPOINTS} answers of 304, server gave {answered}")
    return Sample(span.wall, span.cpu, after.cpu - before.cpu)


def run_hundred(context: Context, count: int = HUNDRED) -> list[Row]:
    """Figure 3: ``count`` sources on one server, first poll into an empty DB, then repeat."""
    routes: dict[str, bytes] = {}
    for i in range(count):
        routes.update(payloads.statuspage_routes(f"/s{i}"))
    with RemoteLoopback(routes) as server:
        sources = [
            {"name": f"s{i}", "kind": "statuspage", "url": f"{server.url}/s{i}"}
            for i in range(count)
        ]
        groups = [
            [f"{server.url}{path}" for path in payloads.statuspage_routes(f"/s{i}")]
            for i in range(count)
        ]
        rounds, floors = [], []
        for _ in range(context.repeat):
            rounds.append(_hundred_round(sources))
            floors.append(references.concurrent_gets(groups, WORKERS))
    return [
        Row(
            FIGURE_HUNDRED,
            tuple(first.wall for first, _ in rounds),
            unit="s",
            target=TARGET_HUNDRED_S,
            target_label="<= 3 s",
            reference=Reference(
                f"{count * ENDPOINTS} bare httpx GETs, {WORKERS} threads",
                tuple(f.wall for f in floors),
            ),
        ),
        Row("  same poll, CPU of this process", tuple(f.cpu for f, _ in rounds), unit="s"),
        Row("  repeat poll of the 100 (all 304)", tuple(a.wall for _, a in rounds), unit="s"),
    ]


def _hundred_round(sources: Sequence[dict[str, str]]) -> tuple[Sample, Sample]:
    names = [s["name"] for s in sources]
    with polling_setup(sources) as (config, store, client):
        with timed() as first:
            reports = poll_sources(store, config, names, client=client)
        _check(reports, "ok", len(names))
        with timed() as again:
            reports = poll_sources(store, config, names, client=client)
        _check(reports, "not_modified", len(names))
    return Sample(first.wall, first.cpu), Sample(again.wall, again.cpu)


def _check(reports: Sequence[PollReport], outcome: str, count: int = 1) -> None:
    expect(len(reports) == count, f"expected {count} poll reports, got {len(reports)}")
    wrong = [r for r in reports if r.outcome != outcome]
    expect(
        not wrong,
        f"expected every poll to be {outcome!r}; "
        + "; ".join(f"{r.source}: {r.outcome} {r.error or ''}".strip() for r in wrong[:3]),
    )


FIGURES = (
    Figure(
        "poll-304",
        run_repeat_304,
        ((FIGURE_304, "<= 5 ms CPU"),),
        notes=(
            "repeat poll: one statuspage source (3 endpoints) already polled once, so all three "
            "requests are conditional and answered 304; the httpx client is built beforehand; "
            "one uncounted warm-up. Reference: the same three URLs fetched one after the other "
            "with If-None-Match by a bare, pre-built httpx.Client (no proxies from the "
            "environment), each answered 304 by the same server; CPU of this process.",
        ),
    ),
    Figure(
        "poll-hundred",
        run_hundred,
        ((FIGURE_HUNDRED, "<= 3 s"),),
        notes=(
            "100 sources: each round starts from an empty SQLite file and a new httpx client "
            "(built outside the timer). Reference: the same 300 URLs (100 sources x 3 "
            f"endpoints) fetched by one bare httpx.Client shared by {WORKERS} threads "
            "(poll_sources' default), a source's three one after the other, bodies read "
            "whole, nothing parsed or written; a new client per round, built outside the timer.",
        ),
    ),
)
