"""References: the same work done without monitor, measured in the same run as the figure.

Each says what a figure would cost if monitor added nothing: the bytes
parsed by json.loads and written by plain sqlite3, the requests sent by a
bare httpx client, the process holding only the libraries. The ratio of a
figure to its reference is monitor's own share.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from benchmarks.measure import BenchmarkError, Span, expect, timed
from benchmarks.service_process import rss_bytes  # the same reading as the service figure

# -- ingest: json.loads + sqlite3 executemany ------------------------------------------

LABEL_INGEST = "json.loads + sqlite3 executemany"


def ingest_rows(document: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows apply_snapshot writes for an incidents.json, taken straight from the JSON."""
    rows: dict[str, list[tuple[Any, ...]]] = {
        "incident": [],
        "incident_update": [],
        "incident_component": [],
        "update_component": [],
    }
    for i, incident in enumerate(document["incidents"], start=1):
        rows["incident"].append(
            (
                i,
                1,
                incident["id"],
                incident["name"],
                incident["status"],
                incident["impact"],
                incident["created_at"],
                incident["started_at"],
                incident["resolved_at"],
                incident["shortlink"],
                incident["updated_at"],
                incident["updated_at"],
            )
        )
        rows["incident_component"] += [(i, c["name"]) for c in incident.get("components") or []]
        for update in incident["incident_updates"]:
            u = len(rows["incident_update"]) + 1
            rows["incident_update"].append(
                (u, i, update["id"], update["status"], update["body"], update["created_at"])
            )
            rows["update_component"] += [
                (u, a["name"], a["old_status"], a["new_status"])
                for a in update.get("affected_components") or []
            ]
    return rows


INGEST_SQL = {
    "incident": "INSERT INTO incident (id, source_id, external_id, title, status, impact, "
    "created_at, started_at, resolved_at, url, first_seen_at, last_changed_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "incident_update": "INSERT INTO incident_update (id, incident_id, external_id, status, body, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
    "incident_component": "INSERT INTO incident_component (incident_id, component) VALUES (?, ?)",
    "update_component": "INSERT INTO update_component (update_id, component, old_status, "
    "new_status) VALUES (?, ?, ?, ?)",
}


def ingest_floor(payload: bytes, template: Path, work: Path) -> tuple[Span, dict[str, int]]:
    """json.loads, then one transaction of executemany into a copy of the app's empty schema.

    The connection is set up as the app's engine sets up its own (WAL,
    synchronous=NORMAL, foreign keys on) and opened before the timer.
    """
    shutil.copyfile(template, work)
    con = sqlite3.connect(work, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            con.execute(f"PRAGMA {pragma}")
        con.execute(
            "INSERT INTO source (id, name, kind, url, settings, created_at) "
            "VALUES (1, 'github', 'statuspage', 'https://www.githubstatus.com', '', "
            "'2026-01-01 00:00:00.000000')"
        )
        with timed() as span:
            rows = ingest_rows(json.loads(payload))
            con.execute("BEGIN IMMEDIATE")
            for table, sql in INGEST_SQL.items():
                con.executemany(sql, rows[table])
            con.execute("COMMIT")
    finally:
        con.close()
    return span, {table: len(found) for table, found in rows.items()}


# -- HTTP: a bare httpx client -------------------------------------------------------------


def bare_client(workers: int = 1) -> httpx.Client:
    """A plain client, no proxies from the environment (loopback must stay direct)."""
    limits = httpx.Limits(max_connections=max(workers, 10), max_keepalive_connections=workers + 4)
    return httpx.Client(trust_env=False, limits=limits, timeout=10.0)


def conditional_gets(client: httpx.Client, urls: Sequence[str], etags: dict[str, str]) -> Span:
    """GET each URL with its ETag, one after the other; every answer must be 304."""
    with timed() as span:
        statuses = [client.get(u, headers={"If-None-Match": etags[u]}).status_code for u in urls]
    expect(statuses == [304] * len(urls), f"bare conditional GETs answered {statuses}")
    return span


def etags_of(client: httpx.Client, urls: Sequence[str]) -> dict[str, str]:
    return {u: client.get(u).headers["etag"] for u in urls}


def concurrent_gets(groups: Sequence[Sequence[str]], workers: int) -> Span:
    """Each group's URLs in turn, groups in parallel on ``workers`` threads; bodies read whole.

    Shaped like poll_sources: one shared client, a source's endpoints one
    after the other, sources in parallel. A new client per call, built
    outside the timer, as the figure's is.
    """
    with bare_client(workers) as client:

        def fetch(urls: Sequence[str]) -> int:
            return sum(len(client.get(u).content) for u in urls)

        with timed() as span, ThreadPoolExecutor(max_workers=workers) as pool:
            sizes = list(pool.map(fetch, groups))
    expect(all(sizes), "a bare GET came back empty")
    return span


def gets_minus_slowest(urls: Sequence[str], workers: int) -> float:
    """GET every URL on ``workers`` threads (one shared client): wall time minus the slowest GET."""

    def one(url: str) -> float:
        began = time.perf_counter()
        status = client.get(url).status_code
        expect(status == 200, f"bare GET answered {status}")
        return time.perf_counter() - began

    with (
        bare_client(workers) as client,
        timed() as span,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        durations = list(pool.map(one, urls))
    return span.wall - max(durations)


def timed_request(client: httpx.Client, url: str, *, collect: bool = False) -> Span:
    with timed(collect=collect) as span:
        status = client.get(url).status_code
    expect(status == 200, f"bare GET answered {status}")
    return span


def timed_connect(host: str, port: int, *, collect: bool = False) -> Span:
    with timed(collect=collect) as span, socket.create_connection((host, port), timeout=10):
        pass
    return span


def timed_bind(port: int, *, collect: bool = False) -> Span:
    with timed(collect=collect) as span, socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    return span


# -- memory: a process holding only the libraries ---------------------------------------------

LIBRARIES = ("httpx", "sqlalchemy.orm", "pydantic", "apscheduler.schedulers.background")
READY_TIMEOUT_S = 60.0


def idle_rss(*imports: Sequence[str], settle_s: float = 0.5) -> list[int]:
    """VmRSS (bytes) of ``python -c 'import ...; sleep'``, one process per list of imports.

    The processes start together and are read ``settle_s`` after the last
    one said its imports were done.
    """
    processes = []
    for names in imports:
        code = "".join(f"import {name}\n" for name in names)
        code += "import time\nprint('ready', flush=True)\ntime.sleep(600)\n"
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
            )
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.strip() != b"ready" or time.monotonic() > deadline:
                raise BenchmarkError(f"a reference process did not start: {line!r}")
        time.sleep(settle_s)
        return [rss_bytes(process.pid) for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
