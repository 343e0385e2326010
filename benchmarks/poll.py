"""Whole ``poll_sources`` calls against statuspage sources on the loopback server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx

from benchmarks.measure import Reference, Row, Span, expect, rounds, timed
from benchmarks.registry import Context, Figure
from benchmarks.server import bare_client, statuspage_routes
from monitor.config import Config
from monitor.polling.poll import client_for, poll_sources
from monitor.store import Store

FIGURE_304 = "repeat poll answered 304 (CPU)"
FIGURE_HUNDRED = "100 loopback sources polled concurrently"
HUNDRED, HUNDRED_QUICK = 100, 20
WORKERS = 16  # poll_sources' default thread count
Setup = tuple[Config, Store, httpx.Client]


@contextmanager
def polling(context: Context, sources: Sequence[dict[str, str]]) -> Iterator[Setup]:
    """A fresh database and a pre-built client (neither is part of any figure)."""
    http = {"timeout": "10s", "connect_timeout": "5s"}
    with (
        context.fresh_store(source=list(sources), http=http) as (config, store),
        client_for(config) as client,
    ):
        yield config, store, client


def poll(setup: Setup, outcome: str) -> Span:
    """One timed poll_sources call of every source; each must come out as ``outcome``."""
    config, store, client = setup
    with timed() as span:
        reports = poll_sources(store, config, [s.name for s in config.sources], client=client)
    wrong = [f"{r.source}: {r.outcome} {r.error or ''}" for r in reports if r.outcome != outcome]
    expect(len(reports) == len(config.sources) and not wrong, f"not {outcome}: {wrong[:3]}")
    return span


def run_304(context: Context) -> list[Row]:
    """One statuspage source, already polled once, polled again: three 304s."""
    server = context.loopback(routes := statuspage_routes("/github"))
    urls = [f"{server.url}{path}" for path in routes]
    sources = [{"name": "github", "kind": "statuspage", "url": f"{server.url}/github"}]
    with polling(context, sources) as setup, bare_client() as bare:
        poll(setup, "ok")
        etags = {u: bare.get(u).headers["etag"] for u in urls}

        def one() -> tuple[float, float, float, float]:
            span, did = server.during(lambda: poll(setup, "not_modified"))
            expect(did.not_modified == 3, f"the server answered {did.not_modified} of 3 with 304")
            with timed() as floor:
                got = [bare.get(u, headers={"If-None-Match": etags[u]}).status_code for u in urls]
            expect(got == [304] * 3, f"bare conditional GETs answered {got}")
            return span.cpu, span.wall, did.cpu, floor.cpu

        cpu, wall, server_cpu, floor = zip(*context.rounds(one), strict=True)
    reference = Reference("3 bare httpx GETs answered 304", floor)
    return [
        Row(FIGURE_304, cpu, "ms", 0.005, "<= 5 ms CPU", reference=reference),
        Row("  same poll, wall time", wall),
        Row("  loopback server CPU, own process", server_cpu),
    ]


def run_hundred(context: Context) -> list[Row]:
    """100 sources on one server, each round a first poll into an empty database, then again."""
    count = HUNDRED_QUICK if context.quick else HUNDRED
    prefixes = [f"/s{i}" for i in range(count)]
    server = context.loopback({k: v for p in prefixes for k, v in statuspage_routes(p).items()})
    sources = [{"name": p[1:], "kind": "statuspage", "url": server.url + p} for p in prefixes]
    groups = [[server.url + path for path in statuspage_routes(p)] for p in prefixes]

    def one() -> tuple[float, float, float, float]:
        with polling(context, sources) as setup:
            first, again = poll(setup, "ok"), poll(setup, "not_modified")
        with bare_client(WORKERS) as client:  # shaped like poll_sources, built outside the timer

            def fetch(urls: Sequence[str]) -> int:
                return sum(len(client.get(u).content) for u in urls)

            with timed() as floor, ThreadPoolExecutor(max_workers=WORKERS) as pool:
                expect(all(pool.map(fetch, groups)), "a bare GET came back empty")
        return first.wall, first.cpu, again.wall, floor.wall

    wall, cpu, again, floor = zip(*rounds(one, context.repeat, warm=0), strict=True)
    reference = Reference(f"{3 * count} bare httpx GETs, {WORKERS} threads", floor)
    figure = FIGURE_HUNDRED.replace("100", str(count))
    return [
        Row(figure, wall, "s", 3.0, "<= 3 s", reference=reference),
        Row("  same poll, CPU of this process", cpu, "s"),
        Row(f"  repeat poll of the {count} (all 304)", again, "s"),
    ]


NOTES_304 = (
    "repeat poll: one statuspage source (3 endpoints) already polled once, so all three "
    "requests are conditional and answered 304; the httpx client built beforehand; one "
    "uncounted warm-up. Reference: the same three URLs fetched one after the other with "
    "If-None-Match by a bare, pre-built httpx.Client (no proxies from the environment), "
    "each answered 304 by the same server; CPU of this process.",
)
NOTES_HUNDRED = (
    f"100 sources ({HUNDRED_QUICK} with --quick): each round starts from an empty SQLite "
    "file and a new httpx client (built outside the timer). Reference: the same URLs (3 "
    f"per source) fetched by one bare httpx.Client shared by {WORKERS} threads "
    "(poll_sources' default), a source's three one after the other, bodies read whole, "
    "nothing parsed or written; a new client per round, built outside the timer.",
)
FIGURES = (
    Figure("poll-304", run_304, ((FIGURE_304, "<= 5 ms CPU"),), notes=NOTES_304),
    Figure("poll-hundred", run_hundred, ((FIGURE_HUNDRED, "<= 3 s"),), notes=NOTES_HUNDRED),
)
