"""Real ``monitor run`` children: resident memory and CPU on the loopback server, and the HTTP
API (``/api/why``) answering over a copy of the generated database."""

from __future__ import annotations

import http.client
import itertools
import shutil
import statistics
import time
from datetime import UTC
from urllib.parse import urlencode, urlsplit

from benchmarks.measure import Reference, Row, expect, samples
from benchmarks.registry import Context, Figure
from benchmarks.service_config import (
    MAX_COMPRESSED_S,
    http_checks,
    service_config,
    shipped_runs_per_ten_minutes,
    shipped_service,
    shipped_shape,
)
from benchmarks.service_process import (
    START_TIMEOUT_S,
    alive,
    count,
    idle_rss,
    log_tail,
    measure_window,
    monitor_run,
    problems,
    query,
    rss_bytes,
    stop,
    wait_until,
)
from benchmarks.why import KINDS, moments
from monitor.config import load_config
from monitor.configfile import lock_path_for
from monitor.discovery import read_lock
from monitor.service.jobs.answer import ANSWER_EVERY
from monitor.store import open_store
from monitor.views.why import WhyQuestion, why_output

FIGURE_MEMORY = "service resident memory after warm-up"
FIGURE_CPU = "service CPU, 20 checks at 30 s against 127.0.0.1"
MEMORY_S = 90
LIBRARIES = ("httpx", "sqlalchemy.orm", "pydantic", "apscheduler.schedulers.background")
CPU_INTERVAL_S, CPU_WINDOW_S = 30, 60  # the window holds rounds 1 and 2: [15, 75] s
QUICK_INTERVAL_S, QUICK_WINDOW_S = 1, 1  # [0.5, 1.5] s holds round 1
REQUESTS, REQUESTS_QUICK = 100, 5
FIGURE_REQUESTS = f"`/api/why`, {REQUESTS} requests in a row to a running service"
FIGURE_RSS = "service RSS with the API on, after the requests"
SETTLE_S = ANSWER_EVERY.total_seconds() + 2  # each service worked out its answer once
EVERY_JOB = (  # every check and every source ran at least once
    "SELECT (SELECT count(DISTINCT check_id) FROM check_result) >= ? "
    "AND (SELECT count(DISTINCT source_id) FROM poll) >= ?"
)


def run_memory(context: Context) -> list[Row]:
    """The shipped config's shape on loopback, compressed intervals, RSS every second."""
    plan = shipped_service(context.folder(), context.loopback({}).url)
    context.loopback(plan.routes)
    read = query(plan.config.parent / "monitor.db")
    rss: list[float] = []
    warm_at, tick = 0.0, 0
    with monitor_run(plan.config) as process:
        started = time.monotonic()
        # The whole run, or with --quick until a sample after every job ran once.
        while not warm_at or (tick <= MEMORY_S and not context.quick):
            time.sleep(max(0.0, started + tick - time.monotonic()))
            alive(process, plan.config)
            expect(tick < START_TIMEOUT_S or bool(warm_at), "no warm-up" + log_tail(plan.config))
            if not warm_at and count(read, EVERY_JOB, plan.checks, plan.sources):
                warm_at = time.monotonic() - started
            if warm_at:
                rss.append(rss_bytes(process.pid))
            tick += 1
        peak, ran = rss_bytes(process.pid, "VmHWM"), time.monotonic() - started
        stop(process, plan.config)
    found = problems([plan.config], read)
    expect(not found, "; ".join(found[:5]))
    runs, polls = (count(read, f"SELECT count(*) FROM {t}") for t in ("check_result", "poll"))
    libraries, bare = idle_rss(LIBRARIES, ())
    reference = Reference("idle python + the same libraries", (libraries,))
    return [  # "at most 100 MB", read as 10^6 bytes: the stricter reading
        Row(FIGURE_MEMORY, (rss[-1],), "MB", 100e6, "<= 100 MB", reference=reference),
        Row("  RSS each second after warm-up", tuple(rss), "MB"),
        Row("  peak RSS (VmHWM, kernel-tracked)", (peak,), "MB"),
        Row("  warm-up: until every job had run once", (warm_at,), "s"),
        Row(f"  job runs done in {ran:.0f} s (checks + polls)", (runs + polls,), "n"),
        Row("  of which polls", (polls,), "n"),
        Row("  job runs 10 min at shipped intervals does", (shipped_runs_per_ten_minutes(),), "n"),
        Row("  an idle plain python process (no imports)", (bare,), "MB"),
    ]


def run_cpu(context: Context) -> list[Row]:
    """20 http checks at 30 s; the service's CPU share over whole rounds."""
    quick = (QUICK_INTERVAL_S, QUICK_WINDOW_S)
    interval, window_s = quick if context.quick else (CPU_INTERVAL_S, CPU_WINDOW_S)
    url = f"sqlite:///{(home := context.folder()) / 'monitor.db'}"
    checks = http_checks(20, f"{context.loopback({'/ok': b'{}'}).url}/ok", interval)
    store = open_store(url)  # migrated before the child starts, as for the probes
    try:
        window = measure_window(
            store, {"bench": service_config(home, url, check=checks)}, 20, interval, window_s
        )
    finally:
        store.close()
    expect(not window.errors, "; ".join(window.errors[:5]))
    expected = 20 * int((interval / 2 + window_s) // interval)
    share = window.cpu[0] * interval / CPU_INTERVAL_S  # --quick: scaled to a 30 s interval
    return [
        Row(FIGURE_CPU, (share,), "%", 0.02, "< 2 % of a core", strict=True),
        Row(f"  check runs in the {window_s:g} s window (expected {expected})", window.runs, "n"),
        Row("  same window, CPU seconds", window.cpu_s, "s"),
        Row("  start-up: imports and first round (CPU)", window.startup_cpu, "s"),
        Row("  SIGTERM to exit (status 0)", window.stop_s, "s"),
    ]


def get(base: str, path: str) -> bytes:
    """One GET on a connection of its own, as a command line makes it; it must answer 200."""
    connection = http.client.HTTPConnection(urlsplit(base).hostname or "", urlsplit(base).port)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    expect(response.status == 200, f"GET {path} answered {response.status}: {body[:300]!r}")
    return body


def run_api(context: Context) -> list[Row]:
    """The API's answers to why, beside the same in this process; its RSS beside a service
    without the API, both over a copy of the generated database."""
    count = REQUESTS_QUICK if context.quick else REQUESTS
    shutil.copyfile(context.dataset().path, db := context.folder() / "monitor.db")
    url = f"sqlite:///{db}"  # the services write heartbeats there: the shared file stays as is
    on = service_config(db.parent / "on", url, http={"listen": "127.0.0.1:0"})
    off = service_config(db.parent / "off", url, probe="bench-off")
    api_lock, off_lock = lock_path_for(url, "bench", on), lock_path_for(url, "bench-off", off)
    with monitor_run(off) as quiet, monitor_run(on) as service:
        started = time.monotonic()
        children = [(quiet, off), (service, on)]
        api = wait_until(
            children, lambda: (read_lock(off_lock).held and read_lock(api_lock).api) or None
        )
        moment = itertools.cycle(at for _, at in moments(context))
        bodies: list[str] = []

        def ask() -> None:
            query = urlencode({"at": next(moment).isoformat(), "tz": "UTC"})
            bodies.append(get(str(api), f"/api/why?{query}").decode())

        walls = samples(ask, count, warm=context.warm)  # the first answer pays for imports
        metrics = get(str(api), "/metrics")
        expect(b"monitor_verdict" in metrics or b"monitor_build_info" in metrics, "no metrics")
        time.sleep(0 if context.quick else max(0.0, started + SETTLE_S - time.monotonic()))
        rss_on, rss_off = rss_bytes(service.pid), rss_bytes(quiet.pid)
        stop(service, on)
        stop(quiet, off)
    config, texts = load_config(on), []
    store = open_store(config.database_url)
    try:
        moment = itertools.cycle(at for _, at in moments(context))

        def answer() -> None:
            with store.reading() as reader:  # as the service reads for each request
                question = WhyQuestion(at=next(moment))
                texts.append(why_output(reader, config, question, tz=UTC, as_json=True) + "\n")

        in_process = samples(answer, count, warm=context.warm)
    finally:
        store.close()
    expect(bodies == texts, "the API's answers differ from why_output's" + log_tail(on))
    (bare,) = idle_rss(["monitor"])
    in_process_ref = Reference("why_output in process, same moments", in_process)
    without = Reference("the same service, no [http] listen", (rss_off,))
    return [
        Row(
            FIGURE_REQUESTS.replace("100", str(count)),
            walls,
            "ms",
            0.030,
            "<= 30 ms median",
            reference=in_process_ref,
        ),
        Row(f"  slowest of the {count} ({', '.join(KINDS)})", (max(walls),)),
        Row("  mean of the in-process reference", (statistics.fmean(in_process),)),
        Row(FIGURE_RSS, (rss_on,), "MB", 100e6, "<= 100 MB", reference=without),
        Row('  python -c "import monitor", idle', (bare,), "MB"),
    ]


NOTES_MEMORY = (
    "service figures: one run each, whatever --repeat says, of a real `python -m monitor "
    "--config <tmp>/config.toml run` child, read from /proc/<pid> (so median = min = "
    "max on their main rows). The only DNS question asked is for localhost.",
    f"service memory: the shipped config.toml's {shipped_shape()}, every URL on the "
    "loopback server (statuspage sources serve the github fixtures, the feed the "
    "saucelabs Atom fixture; the http checks are answered 401/200/204, the token "
    "endpoint 400 invalid_grant, the clock check's URL 200), ANTHROPIC_API_KEY a "
    "placeholder so api-authenticated runs; credentials_file reads a placeholder file, "
    "local_port a free port, dns resolves localhost. Intervals COMPRESSED: a shipped "
    f"minute became a second, at most {MAX_COMPRESSED_S} s. Ten minutes at the shipped "
    f"intervals is {shipped_runs_per_ten_minutes()} job runs; the run lasts {MEMORY_S} "
    "s (--quick: until the first sample after warm-up) and does the job runs in its row. "
    "RSS = VmRSS from /proc/<pid>/status each second once every job had run once; the "
    "figure is the last sample, the sub-row the spread, VmHWM the kernel's peak; MB = "
    "10^6 bytes. The database starts empty, so the migration runs (Alembic and Mako stay "
    "resident; a restart on an up-to-date database settles lower). Not compressed: the "
    "heartbeat (30 s) and the retention pass (first after 5 min). Every check run must "
    "pass and every poll succeed, else the harness stops. Reference: VmRSS of `python "
    f"-c 'import {', '.join(LIBRARIES)}; sleep'` (the libraries the service imports at "
    "top level) half a second after its imports, right after the service run; the "
    "sub-row: a plain python process importing nothing, started with it. The difference "
    "is monitor's own code and data (its modules, Alembic, the scheduler's threads).",
)
NOTES_CPU = (
    f"service CPU: 20 http checks every {CPU_INTERVAL_S} s (jitter up to a tenth), on "
    "one loopback route answering 200, the database migrated before the child started. "
    "The window opens half an interval after the start-up round is recorded and lasts "
    f"{CPU_WINDOW_S} s: utime+stime of the child (all threads, /proc/<pid>/stat, 10 ms "
    "ticks) over its wall time. It holds two rounds; APScheduler 3 adds each jitter to "
    "the previous fire time, so a check really runs every ~31.5 s and two rounds per 60 "
    f"s overstate the average a little. --quick: every {QUICK_INTERVAL_S} s, a "
    f"{QUICK_WINDOW_S} s window (one round), the share scaled by {QUICK_INTERVAL_S}/"
    f"{CPU_INTERVAL_S} (idle ticks too): an estimate. Then SIGTERM: exit 0. No "
    "reference: an idle process's CPU is zero, and a bare loop of the same requests is "
    "the check-overhead figure's reference.",
)
NOTES_API = (
    "api: a `monitor run` child over a copy of the generated database, [http] listen = "
    "127.0.0.1:0, no sources or checks, found through its lock file. "
    f"{REQUESTS} GET /api/why?at=T&tz=UTC ({REQUESTS_QUICK} with --quick) in a row, "
    "each on a new connection (as a command line makes it), T cycling through a moment "
    "of each kind the generator planted; wall time from connect to the last byte, after "
    "one uncounted. The answers must equal why_output's, or the harness stops. "
    "Reference: the same why_output calls in this process on the same file (store "
    f"opened outside the timer). Memory: its VmRSS {SETTLE_S:g} s after its start (after "
    "the requests, a /metrics scrape and one answer-for-now round; --quick: right after "
    "the requests), beside the same service without [http] listen (probe bench-off, "
    "same file, started just before and idle meanwhile) read at the same moment, and an "
    'idle `python -c "import monitor"`.',
)
FIGURES = (
    Figure(
        "service-memory",
        run_memory,
        ((FIGURE_MEMORY, "<= 100 MB"),),
        repeats=False,
        notes=NOTES_MEMORY,
    ),
    Figure(
        "service-cpu", run_cpu, ((FIGURE_CPU, "< 2 % of a core"),), repeats=False, notes=NOTES_CPU
    ),
    Figure(
        "service-api",
        run_api,
        ((FIGURE_REQUESTS, "<= 30 ms median"), (FIGURE_RSS, "<= 100 MB")),
        repeats=False,
        notes=NOTES_API,
    ),
)
