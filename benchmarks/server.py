"""The loopback server (tests.loopback.LoopbackServer, 127.0.0.1 only) in a process of its own,
so its CPU is not counted as the figures'; the payloads it serves; a bare client and a free port.

The parent talks to it over a pipe: routes to add, ``stats`` (requests, 304s, its CPU), stop.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import time
from collections.abc import Callable, Mapping
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
START_TIMEOUT_S = 30.0
REPLY_TIMEOUT_S = 10.0

RouteSpec = bytes | Mapping[str, Any]  # a body, or tests.loopback.Route's options


T = TypeVar("T")


class ServerStats(NamedTuple):
    requests: int
    not_modified: int
    cpu: float  # the server process's CPU seconds


def _serve(conn: Connection) -> None:
    """The child: add routes and answer ``stats`` until told to stop (or the parent is gone)."""
    from tests.loopback import LoopbackServer

    with LoopbackServer() as server:
        conn.send(server.url)
        while True:
            try:
                command, routes = conn.recv()
            except EOFError:
                break
            if command not in ("route", "stats"):
                break
            for path, spec in routes.items():
                server.route(path, **({"body": spec} if isinstance(spec, bytes) else spec))
            conn.send(ServerStats(len(server.requests), server.not_modified, time.process_time()))
    conn.close()


class RemoteLoopback:
    """``with RemoteLoopback() as server:``; ``server.add(routes)``, ``server.url``."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        self._conn, self._child = context.Pipe()
        self._process: Any = context.Process(
            target=_serve, args=(self._child,), name="bench-loopback", daemon=True
        )
        self.url = ""

    def __enter__(self) -> RemoteLoopback:
        self._process.start()
        self._child.close()
        if not self._conn.poll(START_TIMEOUT_S):
            self.__exit__()
            raise RuntimeError(f"loopback server did not start within {START_TIMEOUT_S:g}s")
        self.url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):  # the child may be gone already
            self._conn.send(("stop", {}))
        self._process.join(5)
        for end in (self._process.terminate, self._process.kill):
            if self._process.is_alive():
                end()
                self._process.join(5)
        self._process.close()
        self._conn.close()

    def add(self, routes: Mapping[str, RouteSpec]) -> ServerStats:
        return self._ask("route", dict(routes))

    def stats(self) -> ServerStats:
        return self._ask("stats", {})

    def during(self, action: Callable[[], T]) -> tuple[T, ServerStats]:
        """``action()``, and what the server did meanwhile: requests, 304s, its CPU seconds."""
        before = self.stats()
        result = action()
        after = self.stats()
        return result, ServerStats._make(a - b for a, b in zip(after, before, strict=True))

    def _ask(self, command: str, routes: dict[str, RouteSpec]) -> ServerStats:
        self._conn.send((command, routes))
        if not self._conn.poll(REPLY_TIMEOUT_S):
            raise RuntimeError("loopback server stopped answering")
        reply: ServerStats = self._conn.recv()
        return reply


@cache
def fixture(name: str) -> bytes:
    """A file under tests/fixtures (github/incidents-2026-07-31.json: 50 incidents, 287 updates)."""
    return (FIXTURES / name).read_bytes()


def statuspage_routes(prefix: str = "") -> dict[str, RouteSpec]:
    """The three endpoints a ``statuspage`` source polls, under ``prefix`` (``/s17``)."""
    return {
        f"{prefix}/api/v2/summary.json": fixture("github/summary-2026-07-31.json"),
        f"{prefix}/api/v2/incidents.json": fixture("github/incidents-2026-07-31.json"),
        f"{prefix}/api/v2/scheduled-maintenances.json": b'{"scheduled_maintenances": []}',
    }


def bare_client(workers: int = 1) -> httpx.Client:
    """A plain client for the references, no proxies from the environment (loopback direct)."""
    limits = httpx.Limits(max_connections=max(workers, 10), max_keepalive_connections=workers + 4)
    return httpx.Client(trust_env=False, limits=limits, timeout=10.0)


def free_port() -> int:
    """A port free right now on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
