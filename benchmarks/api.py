"""The service's HTTP API: ``/api/why`` answered by a running ``monitor run``, and its memory."""

from __future__ import annotations

import http.client
import shutil
import statistics
import time
from datetime import UTC
from urllib.parse import urlencode, urlsplit

from benchmarks.measure import Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.service import idle_rss
from benchmarks.service_config import service_config
from benchmarks.service_process import log_tail, monitor_run, rss_bytes, stop, wait_until
from benchmarks.why import KINDS, moments
from monitor.config import load_config
from monitor.configfile import lock_path_for
from monitor.discovery import read_lock
from monitor.service.jobs.answer import ANSWER_EVERY
from monitor.store import open_store
from monitor.views.why import WhyQuestion, why_output

REQUESTS, REQUESTS_QUICK = 100, 20
FIGURE_REQUESTS = f"`/api/why`, {REQUESTS} requests in a row to a running service"
FIGURE_RSS = "service RSS with the API on, after the requests"
SETTLE_S = ANSWER_EVERY.total_seconds() + 2  # read after each service worked out its answer once


def get(base: str, path: str) -> bytes:
    """One GET on a connection of its own, as a command line makes it; it must answer 200."""
    split = urlsplit(base)
    connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    expect(response.status == 200, f"GET {path} answered {response.status}: {body[:300]!r}")
    return body


def run(context: Context) -> list[Row]:
    count = REQUESTS_QUICK if context.quick else REQUESTS
    planted = [at for _, at in moments(context)]
    questions = [planted[i % len(planted)] for i in range(count)]
    home = context.folder()
    db = home / "monitor.db"
    shutil.copyfile(context.dataset().path, db)  # the service writes its heartbeat there
    url = f"sqlite:///{db}"
    on = service_config(home / "on", url, http={"listen": "127.0.0.1:0"})
    off = service_config(home / "off", url, probe="bench-off")  # the reference: no API
    locks = [lock_path_for(url, probe, c) for probe, c in (("bench", on), ("bench-off", off))]
    with monitor_run(off) as quiet, monitor_run(on) as service:
        started = time.monotonic()
        children = [(quiet, off), (service, on)]
        api = wait_until(
            children, lambda: read_lock(locks[0]).api if read_lock(locks[1]).held else None
        )
        walls, bodies = [], []
        for n, at in enumerate([*questions[: context.warm], *questions]):  # the first pays imports
            began = time.perf_counter()
            body = get(api, "/api/why?" + urlencode({"at": at.isoformat(), "tz": "UTC"}))
            if n >= context.warm:
                walls.append(time.perf_counter() - began)
                bodies.append(body.decode())
        metrics = get(api, "/metrics")
        expect(b"monitor_verdict" in metrics or b"monitor_build_info" in metrics, "no metrics")
        time.sleep(0 if context.quick else max(0.0, started + SETTLE_S - time.monotonic()))
        rss_on, rss_off = rss_bytes(service.pid), rss_bytes(quiet.pid)
        stop(service, on)
        stop(quiet, off)
    loaded = load_config(on)
    store = open_store(loaded.database_url)
    try:
        texts, in_process = [], []
        for n, at in enumerate([*questions[: context.warm], *questions]):
            began = time.perf_counter()
            text = why_output(store, loaded, WhyQuestion(at=at), tz=UTC, as_json=True)
            if n >= context.warm:
                in_process.append(time.perf_counter() - began)
                texts.append(text + "\n")
    finally:
        store.close()
    expect(bodies == texts, "the API's answers differ from why_output's" + log_tail(on))
    (bare,) = idle_rss(["monitor"])
    return [
        Row(
            FIGURE_REQUESTS if count == REQUESTS else FIGURE_REQUESTS.replace("100", str(count)),
            tuple(walls),
            target=0.030,
            target_label="<= 30 ms median",
            reference=Reference("why_output in process, same moments", tuple(in_process)),
        ),
        Row(f"  slowest of the {count} ({', '.join(KINDS)})", (max(walls),)),
        Row("  mean of the in-process reference", (statistics.fmean(in_process),)),
        Row(
            FIGURE_RSS,
            (float(rss_on),),
            unit="MB",
            target=100e6,
            target_label="<= 100 MB",
            reference=Reference("the same service, no [http] listen", (float(rss_off),)),
        ),
        Row('  python -c "import monitor", idle', (float(bare),), unit="MB"),
    ]


FIGURES = (
    Figure(
        "service-api",
        run,
        ((FIGURE_REQUESTS, "<= 30 ms median"), (FIGURE_RSS, "<= 100 MB")),
        repeats=False,
        notes=(
            "api: a real `python -m monitor --config <tmp>/config.toml run` child over a copy "
            "of the generated database, [http] listen = 127.0.0.1:0, no sources or checks; its "
            f"port read from the lock file's `api` line. {REQUESTS} GET /api/why?at=T&tz=UTC "
            f"({REQUESTS_QUICK} with --quick) in a row, each on a new connection (as a command "
            "line makes it), T cycling through a moment of each kind the generator planted; "
            "wall time from connect to the last byte, after one uncounted warm-up. The answers "
            "must equal why_output's bytes plus a newline, or the harness stops. Reference: the "
            "same why_output calls in this process on the same file (store opened outside the "
            "timer, one warm-up).",
            f"api memory: VmRSS of that service {SETTLE_S:g} s after its start (after the "
            "requests and a /metrics scrape; one answer-for-now round done; --quick: right "
            "after the requests, before that round), beside the same service with no [http] "
            "listen (probe bench-off, same file, started just before it and idle meanwhile) "
            'read at the same moment, and an idle `python -c "import monitor"`. One run each, '
            "whatever --repeat says.",
        ),
    ),
)
