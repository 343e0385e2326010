"""A real HTTP(S) server on 127.0.0.1 that serves canned status pages.

Tests and benchmarks program it per path: a body with an ETag (answering
304 to a matching If-None-Match), a status code, a delay, a body cut off
mid-way, a body trickled a byte at a time, or a huge body. It runs in a
thread and never leaves loopback.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    etag: bool = True
    delay: float = 0.0
    truncate_at: int | None = None  # declare full length, send this many bytes, close
    trickle: float = 0.0  # > 0: send the body a byte at a time, this many seconds apart
    reset: bool = False  # answer nothing: reset the connection (TCP RST)
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: ThreadedServer.HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.owner.bodies.append(self.rfile.read(length))
        self.do_GET()

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?")[0]
        owner.requests.append((path, dict(self.headers)))
        owner.targets.append(self.path)
        route = owner.routes.get(path)
        if route is None:
            self._send(404, b"not found", "text/plain", {})
            return
        if route.reset:
            # Linger 0 makes close() send RST instead of FIN: "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if route.delay:
            # Bounded: the server gives up waiting when the test stops it.
            owner.stopping.wait(route.delay)
        tag = '"' + hashlib.sha1(route.body, usedforsecurity=False).hexdigest()[:16] + '"'
        if route.etag and route.status == 200 and self.headers.get("If-None-Match") == tag:
            owner.not_modified += 1
            self._send(304, b"", route.content_type, {"ETag": tag})
            return
        headers = dict(route.headers)
        if route.etag and route.status == 200:
            headers["ETag"] = tag
        self._send(
            route.status, route.body, route.content_type, headers, route.truncate_at, route.trickle
        )

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str],
        truncate_at: int | None = None,
        trickle: float = 0.0,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if truncate_at is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            if truncate_at is not None:
                self.wfile.write(body[:truncate_at])
                self.wfile.flush()
                self.close_connection = True
                return
            if trickle > 0 and status != 304:
                self._trickle(body, trickle)
                return
            if status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _trickle(self, body: bytes, pause: float) -> None:
        """One byte, then a pause; bounded: the test stopping the server ends it early."""
        stopping = self.server.owner.stopping
        for index in range(len(body)):
            if stopping.is_set() or (index and stopping.wait(pause)):
                # Stopped mid-body: what was sent is short of Content-Length.
                self.close_connection = True
                return
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()


class ThreadedServer:
    """A threaded HTTP(S) server on 127.0.0.1 for tests: ``with Server() as s: s.url``.

    Subclasses name their request handler; the server reaches its owner
    through ``self.server.owner`` and stops waiting handlers via ``stopping``.
    """

    handler: type[BaseHTTPRequestHandler]

    class HTTPServer(ThreadingHTTPServer):
        daemon_threads = True
        # socketserver's default backlog of 5 drops SYNs when a poller opens
        # sixteen connections at once (the client then retries after 1 s).
        request_queue_size = 128
        owner: Any

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.stopping = threading.Event()
        self._server = self.HTTPServer(("127.0.0.1", 0), self.handler)
        self._server.owner = self
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if ssl_context else "http"
        host = "localhost" if ssl_context else "127.0.0.1"
        self.url = f"{scheme}://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class LoopbackServer(ThreadedServer):
    """Serves canned routes: ``server.route("/path", body, status=..., delay=...)``."""

    handler = _Handler

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.bodies: list[bytes] = []
        self.targets: list[str] = []  # path and query, as sent
        self.not_modified = 0
        super().__init__(ssl_context)

    def route(self, path: str, body: bytes = b"", **options: object) -> Route:
        route = Route(body=body, **options)  # type: ignore[arg-type]
        self.routes[path] = route
        return route


def wait_until(predicate: object, timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (for subprocess tests only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False
