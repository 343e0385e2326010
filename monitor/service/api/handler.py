"""One request: who asks (Host, token), which route, and the answer with the common headers.

Only GET is answered; a body is never read. One request per connection
(every answer says ``Connection: close``): an idle keep-alive connection
would hold one of the capped slots for nothing, and the API's clients make
one request at a time. The head must arrive within ``max_head_bytes`` (else
431) and ``head_deadline_s`` of the connection's start (else it is dropped):
see ``head.py``. Every response says ``Cache-Control:
no-store`` (answers change by the minute, and some are evidence) and what
the service answers for: its config (``Monitor-Config-Digest``), database
and probe (``Monitor-Database``) and version (``Monitor-Version``), taken
from one ``Loaded`` read once per request, so they name the config that
computed the body even while a reload swaps it.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import unquote

from monitor import __version__
from monitor.digest import DATABASE_HEADER, DIGEST_HEADER, VERSION_HEADER
from monitor.escape import for_terminal
from monitor.service.api import routes, static
from monitor.service.api.access import REALM, bearer_matches, cross_site, host_allowed
from monitor.service.api.head import HeadReader, HeadTooLarge
from monitor.service.api.routes import Response, error_response
from monitor.service.runtime import Loaded

if TYPE_CHECKING:
    from monitor.service.api.server import ApiHttpServer

log = logging.getLogger("monitor.service.api")

# A client that sends nothing for this long loses its connection (and its thread).
SOCKET_TIMEOUT_S = 10.0
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # The page is inline CSS and relative images, no script: allow just that.
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
}


def identity_headers(loaded: Loaded) -> dict[str, str]:
    """What a client compares with its own before it trusts an answer."""
    return {
        DIGEST_HEADER: loaded.digest,
        DATABASE_HEADER: loaded.database,
        VERSION_HEADER: __version__,
    }


class ApiHandler(BaseHTTPRequestHandler):
    server: ApiHttpServer
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S
    server_version = "monitor"
    sys_version = ""

    def setup(self) -> None:
        started = time.monotonic()
        super().setup()
        self.rfile = HeadReader(
            self.rfile,
            self.connection,
            budget=self.server.max_head_bytes,
            deadline=started + self.server.head_deadline_s,
            timeout=SOCKET_TIMEOUT_S,
        )

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except HeadTooLarge:
            self.command = getattr(self, "command", None) or ""
            self.requestline = getattr(self, "requestline", "")
            self.request_version = "HTTP/1.1"  # the head may have ended before its version
            self.send_error(
                431,
                f"the request line and headers are longer than "
                f"{self.server.max_head_bytes // 1024} KiB in all",
            )

    def do_GET(self) -> None:
        loaded = self.server.state.runtime.loaded  # once: the body and the headers agree
        try:
            response = self._respond(loaded)
        except Exception:
            log.exception("[api.request] %s failed", for_terminal(self.path, limit=200))
            response = error_response(500, "internal error; the service's log says more")
        self._send(response, loaded)

    def _respond(self, loaded: Loaded) -> Response:
        state = self.server.state
        if state.token is None and not host_allowed(self.headers.get("Host"), state.listen):
            return error_response(
                421,
                "this API answers to localhost and loopback addresses only (a page elsewhere "
                "could reach it through its own name); to serve other names, set "
                '[http] token = "${MONITOR_API_TOKEN}" and export it',
            )
        if cross_site(
            self.headers.get("Sec-Fetch-Site"), self.headers.get("Origin"), self.headers.get("Host")
        ):
            return error_response(
                403, "requests from another site's page are not answered (Origin, Sec-Fetch-Site)"
            )
        raw_path, _, query = self.path.partition("?")
        query = query.partition("#")[0]
        try:
            path = unquote(raw_path.partition("#")[0], errors="strict")
        except UnicodeDecodeError:
            return error_response(400, "the path is not valid UTF-8")
        if (
            state.token is not None
            and path not in routes.UNGUARDED
            and not bearer_matches(self.headers.get("Authorization"), state.token)
        ):
            given = self.headers.get("Authorization") is not None
            challenge = REALM + (', error="invalid_token"' if given else "")
            message = "wrong token" if given else "this API needs Authorization: Bearer <token>"
            return error_response(401, message, **{"WWW-Authenticate": challenge})
        answered = routes.answer(state, loaded, self.server.routes, path, query)
        if answered is not None:
            return answered
        found = static.dashboard_file(loaded.config.dashboards_dir, path)
        if found is not None:
            file, content_type = found
            return Response(200, file.read_bytes(), content_type, dict(STATIC_HEADERS))
        if path in ("/", f"/{static.INDEX}"):
            return error_response(
                404,
                "the dashboards are not drawn yet: the service draws the first a minute "
                "after it starts, then every [dashboards] every; reload then, or run "
                "`monitor chart`",
            )
        return error_response(
            404,
            "not found: the API serves /api/why, /api/timeline, "
            "/api/status, /healthz, /metrics and the dashboards at /",
        )

    def _send(self, response: Response, loaded: Loaded) -> None:
        self.close_connection = True  # one request per connection (see above)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (identity_headers(loaded) | response.headers).items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _not_allowed(self) -> None:
        self._send(
            error_response(405, f"{self.command} is not answered here; use GET", Allow="GET"),
            self.server.state.runtime.loaded,
        )

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _not_allowed

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A request too malformed to route (bad request line, huge headers): JSON, then close."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        body = error_response(code, message or phrase).body
        self.send_response(code, message)
        self.send_header("Content-Type", routes.JSON)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in identity_headers(self.server.state.runtime.loaded).items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """No access log: a request a minute from a dashboard is not news."""

    def log_error(self, format: str, *args: object) -> None:
        log.info("[api.request] %s: %s", self.address_string(), for_terminal(format % args))
