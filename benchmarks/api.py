"""The service's HTTP API: ``/api/why`` answered by a running ``monitor run``, and its memory.

Both start ``python -m monitor --config <tmp>/config.toml run`` as a child
over a copy of the generated database (the service writes its heartbeat
there, and the shared file must stay as generated), with ``[http] listen =
"127.0.0.1:0"`` and no sources or checks: the API is all it does besides
its heartbeat and its answer for now. The port is read from the lock
file's ``api`` line, as a command line finds it.

References, measured in the same run:

* requests: the same ``monitor.views.why.why_output`` call in this process,
  on the same file, at the same moments: what HTTP and a second process add;
* memory: the same service with no ``[http] listen`` (no API, no
  prometheus-client), read after as long a run; and, beside it, a bare
  ``python -c "import monitor"``.
"""

from __future__ import annotations

import http.client
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from benchmarks import references
from benchmarks.measure import BenchmarkError, Reference, Row, expect
from benchmarks.registry import Context, Figure
from benchmarks.service_config import write_toml
from benchmarks.service_process import (
    START_TIMEOUT_S,
    alive,
    log_tail,
    monitor_run,
    rss_bytes,
    stop,
)
from benchmarks.why import KINDS, moments
from monitor.config import load_config
from monitor.service.jobs.answer import ANSWER_EVERY
from monitor.store import open_store
from monitor.views.why import WhyQuestion, why_output

REQUESTS = 100
TARGET_REQUEST_S = 0.030
TARGET_RSS_BYTES = 100e6
FIGURE_REQUESTS = f"`/api/why`, {REQUESTS} requests in a row to a running service"
FIGURE_RSS = "service RSS with the API on, after the requests"
# Both services are read this long after start: each has worked out its answer once.
SETTLE_S = ANSWER_EVERY.total_seconds() + 2


def _config(folder: Path, db: Path, *, api: bool) -> Path:
    raw: dict[str, object] = {
        "monitor": {"probe": "bench"},
        "database": {"url": f"sqlite:///{db}"},
    }
    if api:
        raw["http"] = {"listen": "127.0.0.1:0"}
    return write_toml(folder / "config.toml", raw)


def _api_url(config: Path, db: Path, alive_check: Callable[[], None]) -> str:
    """The ``api`` line of the service's lock file, once it serves."""
    lock = db.with_name(f"{db.name}.bench.lock")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        alive_check()
        lines = lock.read_text(encoding="utf-8").splitlines() if lock.exists() else []
        if len(lines) > 1 and lines[1].startswith("api "):
            return lines[1].removeprefix("api ")
        time.sleep(0.05)
    raise BenchmarkError(f"the service did not advertise its API within {START_TIMEOUT_S:g} s")


def _get(url: str, path: str) -> bytes:
    """One GET on a connection of its own, as a command line would make it."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise BenchmarkError(f"GET {path} answered {response.status}: {body[:300]!r}")
    return body


def _paths(context: Context) -> list[tuple[str, datetime]]:
    """REQUESTS questions, cycling through a moment of each kind the generator planted."""
    planted = moments(context)
    return [
        (
            "/api/why?" + urlencode({"at": at.isoformat(), "tz": "UTC"}),
            at,
        )
        for _, at in (planted[i % len(planted)] for i in range(REQUESTS))
    ]


def _in_process(
    config: Path, questions: list[tuple[str, datetime]]
) -> tuple[list[float], list[str]]:
    """The same answers in this process: ``why_output`` on the same file (opened outside)."""
    loaded = load_config(config)
    store = open_store(loaded.database_url)
    try:
        texts, times = [], []
        with store.reading() as reader:  # warm
            why_output(reader, loaded, WhyQuestion(at=questions[0][1]), tz=UTC, as_json=True)
        for _, at in questions:
            began = time.perf_counter()
            with store.reading() as reader:  # as the service reads for each request
                texts.append(why_output(reader, loaded, WhyQuestion(at=at), tz=UTC, as_json=True))
            times.append(time.perf_counter() - began)
    finally:
        store.close()
    return times, texts


def run(context: Context) -> list[Row]:
    source = context.dataset().path
    questions = _paths(context)
    with tempfile.TemporaryDirectory(prefix="monitor-bench-api-") as name:
        folder = Path(name)
        db = folder / "monitor.db"
        shutil.copyfile(source, db)
        on, off = folder / "on", folder / "off"
        on.mkdir()
        off.mkdir()
        config = _config(on, db, api=True)
        with monitor_run(config) as process:
            started = time.monotonic()
            url = _api_url(config, db, lambda: alive(process, config))
            _get(url, questions[0][0])  # warm: the first answer pays for imports
            walls, bodies = [], []
            for path, _ in questions:
                began = time.perf_counter()
                bodies.append(_get(url, path))
                walls.append(time.perf_counter() - began)
            metrics = _get(url, "/metrics")
            expect(b"monitor_verdict" in metrics or b"monitor_build_info" in metrics, "no metrics")
            time.sleep(max(0.0, started + SETTLE_S - time.monotonic()))
            alive(process, config)
            rss_on = rss_bytes(process.pid)
            stop(process, config)
        in_process, texts = _in_process(config, questions)
        expect(
            [b.decode() for b in bodies] == [t + "\n" for t in texts],
            "the API's answers differ from why_output's" + log_tail(config),
        )
        plain = _config(off, db, api=False)
        with monitor_run(plain) as process:
            time.sleep(SETTLE_S)
            alive(process, plain)
            rss_off = rss_bytes(process.pid)
            stop(process, plain)
    (bare,) = references.idle_rss(["monitor"])
    verdicts = ", ".join(KINDS)
    return [
        Row(
            FIGURE_REQUESTS,
            tuple(walls),
            unit="ms",
            target=TARGET_REQUEST_S,
            target_label="<= 30 ms median",
            reference=Reference("why_output in process, same moments", tuple(in_process)),
        ),
        Row(f"  slowest of the {REQUESTS} ({verdicts})", (max(walls),), unit="ms"),
        Row("  mean of the in-process reference", (statistics.fmean(in_process),), unit="ms"),
        Row(
            FIGURE_RSS,
            (float(rss_on),),
            unit="MB",
            target=TARGET_RSS_BYTES,
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
            f"api: a real `python -m monitor --config <tmp>/config.toml run` child over a copy "
            f"of the generated database, [http] listen = 127.0.0.1:0, no sources or checks; "
            f"its port read from the lock file's `api` line. {REQUESTS} GET /api/why?at=T&tz=UTC "
            "in a row, each on a new connection (as a command line makes it), T cycling through "
            "a moment of each kind the generator planted; wall time from connect to the last "
            "byte, after one uncounted warm-up. The answers must equal why_output's bytes plus "
            "a newline, or the harness stops. Reference: the same why_output calls in this "
            "process on the same file (store opened outside the timer, one warm-up).",
            f"api memory: VmRSS of that service {SETTLE_S:g} s after its start (after the "
            "requests and a /metrics scrape; one answer-for-now round done), beside the same "
            "service with no [http] listen read as long after its start, and an idle "
            '`python -c "import monitor"`. One run each, whatever --repeat says.',
        ),
    ),
)
