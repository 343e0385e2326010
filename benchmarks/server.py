"""The loopback server (tests.loopback.LoopbackServer, 127.0.0.1 only) in a process of its own,
so its CPU is not the figures'; what it serves; a bare client and a free port for references."""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import httpx

ROOT = Path(__file__).resolve().parent.parent
RouteSpec = bytes | Mapping[str, Any]  # a body, or tests.loopback.Route's options
T = TypeVar("T")


class ServerStats(NamedTuple):
    requests: int
    not_modified: int
    cpu: float  # the server process's CPU seconds


def _serve(conn: Connection) -> None:
    """The child: add routes and answer with its stats, until told to stop or orphaned."""
    from tests.loopback import LoopbackServer

    with LoopbackServer() as server, contextlib.suppress(EOFError):
        report = server._server.handle_error  # a client gone mid-request is no error here
        server._server.handle_error = lambda *request: (  # type: ignore[method-assign]
            None if isinstance(sys.exc_info()[1], ConnectionError) else report(*request)
        )
        conn.send(server.url)
        while (message := conn.recv())[0] != "stop":
            for path, spec in message[1].items():
                server.route(path, **({"body": spec} if isinstance(spec, bytes) else spec))
            conn.send(ServerStats(len(server.requests), server.not_modified, time.process_time()))


@dataclass(frozen=True)
class RemoteLoopback:
    """The parent's end: ``url``, ``add(routes)``, ``stats()``."""

    conn: Connection
    url: str

    def add(self, routes: Mapping[str, RouteSpec]) -> ServerStats:
        self.conn.send(("route", dict(routes)))
        if not self.conn.poll(10):
            raise RuntimeError("the loopback server stopped answering")
        stats: ServerStats = self.conn.recv()
        return stats

    def stats(self) -> ServerStats:
        return self.add({})

    def during(self, action: Callable[[], T]) -> tuple[T, ServerStats]:
        """``action()``, and what the server did meanwhile: requests, 304s, its CPU seconds."""
        before = self.stats()
        result = action()
        return result, ServerStats._make(a - b for a, b in zip(self.stats(), before, strict=True))


@contextmanager
def loopback_server() -> Iterator[RemoteLoopback]:
    context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
    conn, child = context.Pipe()
    process = context.Process(target=_serve, args=(child,), name="bench-loopback", daemon=True)
    process.start()
    child.close()
    try:
        if not conn.poll(30):
            raise RuntimeError("the loopback server did not start within 30 s")
        yield RemoteLoopback(conn, conn.recv())
    finally:
        with contextlib.suppress(OSError):  # the child may be gone already
            conn.send(("stop", {}))
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
        conn.close()


@cache
def fixture(name: str) -> bytes:
    """A file under tests/fixtures (github/incidents-2026-07-31.json: 50 incidents, 287 updates)."""
    return (ROOT / "tests" / "fixtures" / name).read_bytes()


def statuspage_routes(prefix: str) -> dict[str, RouteSpec]:
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
