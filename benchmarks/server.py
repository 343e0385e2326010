"""Run tests.loopback.LoopbackServer in its own process, so its CPU is not counted as ours.

The parent talks to it over a pipe: the child sends its URL once listening,
then answers ``stats`` (request and 304 counts, its own CPU time) until told
to ``stop``. The server binds 127.0.0.1 only.

A route is its body, or a mapping of tests.loopback.Route options
(``{"body": b"{}", "delay": 1.0}``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

START_TIMEOUT_S = 30.0
REPLY_TIMEOUT_S = 10.0

RouteSpec = bytes | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ServerStats:
    requests: int
    not_modified: int
    cpu: float  # the server process's CPU seconds so far


def _serve(routes: Mapping[str, RouteSpec], conn: Connection) -> None:
    """The child: serve ``routes`` until the parent says stop (or goes away)."""
    from tests.loopback import LoopbackServer

    with LoopbackServer() as server:
        for path, spec in routes.items():
            if isinstance(spec, bytes):
                server.route(path, spec)
            else:
                server.route(path, **spec)
        conn.send(server.url)
        while True:
            try:
                command = conn.recv()
            except EOFError:
                break
            if command != "stats":
                break
            conn.send(ServerStats(len(server.requests), server.not_modified, time.process_time()))
    conn.close()


class RemoteLoopback:
    """``with RemoteLoopback(routes) as server:``; ``server.url`` is its base URL."""

    def __init__(self, routes: Mapping[str, RouteSpec]) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        self._conn, child = context.Pipe()
        self._process: Any = context.Process(
            target=_serve, args=(dict(routes), child), name="bench-loopback", daemon=True
        )
        self._child = child
        self.url = ""

    def __enter__(self) -> RemoteLoopback:
        self._process.start()
        self._child.close()
        if not self._conn.poll(START_TIMEOUT_S):
            self._stop()
            raise RuntimeError(f"loopback server did not start within {START_TIMEOUT_S:g}s")
        self.url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def stats(self) -> ServerStats:
        self._conn.send("stats")
        if not self._conn.poll(REPLY_TIMEOUT_S):
            raise RuntimeError("loopback server stopped answering")
        reply: ServerStats = self._conn.recv()
        return reply

    def _stop(self) -> None:
        with contextlib.suppress(OSError):  # the child may be gone already
            self._conn.send("stop")
        self._process.join(5)
        for end in (self._process.terminate, self._process.kill):
            if self._process.is_alive():
                end()
                self._process.join(5)
        self._process.close()
        self._conn.close()
