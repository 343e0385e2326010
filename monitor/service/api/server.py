"""The API's listening socket and its serving thread, inside ``monitor run``.

``http.server.ThreadingHTTPServer``: one daemon thread per connection, up
to ``MAX_CONNECTIONS`` at once (one more is answered 503 at once and
closed), each with a socket timeout (``handler.SOCKET_TIMEOUT_S``), so slow
or idle clients cannot pin the service's threads. Stopping does not wait
for idle keep-alive connections.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from monitor.errors import MonitorError
from monitor.service.api import routes
from monitor.service.api.handler import ApiHandler, identity_headers
from monitor.service.api.state import ApiState
from monitor.service.runtime import Loaded

log = logging.getLogger("monitor.service.api")

MAX_CONNECTIONS = 32
_BUSY_BODY = b'{"error": "too many connections at once; retry soon"}\n'


def busy(loaded: Loaded) -> bytes:
    """The 503 sent, without a thread, to a connection past the cap: headers as any answer's."""
    lines = [
        "HTTP/1.1 503 Service Unavailable",
        "Content-Type: application/json",
        "Retry-After: 1",
        "Cache-Control: no-store",
        *(f"{name}: {value}" for name, value in identity_headers(loaded).items()),
        "Connection: close",
        f"Content-Length: {len(_BUSY_BODY)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + _BUSY_BODY


class ListenError(MonitorError):
    """``[http] listen`` cannot be bound: the address is taken or not this machine's."""


class ApiHttpServer(ThreadingHTTPServer):
    """The stdlib server, with the API's state and a cap on concurrent connections."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = MAX_CONNECTIONS  # the listen backlog: a burst waits, not retries

    def __init__(self, state: ApiState, routes_: dict[str, tuple[routes.Route, tuple[str, ...]]]):
        self.address_family = state.listen.family
        self.state = state
        self.routes = routes_
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__((state.listen.host, state.listen.port), ApiHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(busy(self.state.runtime.loaded))
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class ApiServer:
    """Bind, serve in a daemon thread, stop."""

    def __init__(self, state: ApiState) -> None:
        self.state = state
        self.http: ApiHttpServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> str:
        """Bind and serve; the URL it can be reached at (the real port). ListenError if taken."""
        from monitor.service.api.metrics import CONTENT_TYPE, exposition, registry_for

        def metrics(state: ApiState, loaded: Loaded, _params: dict[str, str]) -> routes.Response:
            # A registry per scrape: its collector reads the config the headers name.
            return routes.Response(200, exposition(registry_for(state, loaded)), CONTENT_TYPE)

        listen = self.state.listen
        try:
            self.http = ApiHttpServer(self.state, {**routes.ROUTES, "/metrics": (metrics, ())})
        except OSError as exc:
            raise ListenError(_bind_problem(listen.url(), exc)) from None
        port = int(self.http.server_address[1])
        self.thread = threading.Thread(
            target=self.http.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="monitor-api",
            daemon=True,
        )
        self.thread.start()
        return listen.url(port)

    def stop(self) -> None:
        if self.http is None:
            return
        self.http.shutdown()  # waits for serve_forever to return (at most a poll interval)
        self.http.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.http = None


def _bind_problem(url: str, exc: OSError) -> str:
    where = f"[http] listen ({url.removeprefix('http://')})"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot serve the API on {where}: the address is already in use (another "
            "program, or another monitor run, listens there); stop it, or choose another "
            "port in [http] listen (port 0 picks any free one)"
        )
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return (
            f"cannot serve the API on {where}: this machine has no such address; "
            "use 127.0.0.1 or one of its own addresses in [http] listen"
        )
    if exc.errno == errno.EACCES:
        return (
            f"cannot serve the API on {where}: permission denied (ports below 1024 need "
            "privileges); choose a port above 1024 in [http] listen"
        )
    return f"cannot serve the API on {where}: {exc.strerror or exc}"
