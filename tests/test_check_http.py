"""The http check against real servers on 127.0.0.1: each failure class, phases, evidence."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from monitor.checks.context import CheckContext
from monitor.checks.http import run_http
from monitor.checks.runner import run_check
from monitor.checks.settings import HttpCheck
from monitor.envvars import expand
from monitor.failures import Failure
from tests.conftest import tls_files
from tests.loopback import LoopbackServer, ThreadedServer

KEY = "sk-ant-api03-THISISASECRETKEYVALUE0123456789"


def http_check(url: str, **settings: Any) -> HttpCheck:
    return HttpCheck.model_validate(
        {"name": "api", "kind": "http", "url": url, "timeout": "1s", **settings}
    )


def context(tmp_path: Path, **env: str) -> CheckContext:
    return CheckContext(config_dir=tmp_path, state_dir=tmp_path / "state", env=env)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_it_passes_when_the_api_answers_401_without_credentials(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.route(
        "/v1/messages",
        b'{"type":"error","error":{"type":"authentication_error","message":"x-api-key header is required"}}',
        status=401,
        headers={"request-id": "req_011CXYZ"},
    )

    result = run_http(
        http_check(server.url + "/v1/messages", expect_status=[401]), context(tmp_path)
    )

    assert result.ok
    assert result.detail == "HTTP 401 as expected (the API is up and its auth layer answers)"
    assert (result.http_status, result.request_id) == (401, "req_011CXYZ")
    assert result.server_date is not None
    assert set(result.phases_ms) == {"connect", "ttfb", "total"}  # plain HTTP: no TLS phase
    assert all(v >= 0 for v in result.phases_ms.values())


def test_it_sends_the_key_from_the_environment_and_never_reports_it(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.route(
        "/v1/messages",
        b'{"type":"error","error":{"message":"invalid x-api-key ' + KEY.encode() + b'"}}',
        status=401,
    )
    check = http_check(
        server.url + "/v1/messages",
        method="POST",
        headers={"x-api-key": "${ANTHROPIC_API_KEY}", "anthropic-version": "2023-06-01"},
        body='{"model": "x", "max_tokens": 1, "messages": []}',
        expect_status=[200],
    )

    result = run_http(check, context(tmp_path, ANTHROPIC_API_KEY=KEY))

    assert server.requests[-1][1]["x-api-key"] == KEY
    assert not result.ok
    assert result.failure_class == Failure.AUTH_REJECTED
    assert result.detail.startswith("HTTP 401, expected 200: ")
    assert KEY not in result.detail
    assert "invalid x-api-key REDACTED" in result.detail  # known: replaced whole, before any cut


def test_it_fills_a_query_reference_in_only_when_sending_and_shows_the_reference(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.route("/v1/models", b"{}", status=200)
    check = http_check(server.url + "/v1/models?key=${GOOGLE_KEY}&page=2")

    result = run_http(check, context(tmp_path, GOOGLE_KEY="AIza+key&x=1"))

    assert result.ok
    assert server.targets[-1] == "/v1/models?key=AIza%2Bkey%26x%3D1&page=2"
    assert check.url.endswith("?key=${GOOGLE_KEY}&page=2")
    assert check.target == f"GET {server.url}/v1/models?key=${{GOOGLE_KEY}}&page=2"


@pytest.mark.parametrize(
    "url",
    ["https://h.example/${TENANT}/models", "https://${HOST}/models", "https://h.example/#${X}"],
)
def test_it_refuses_a_reference_outside_the_query(url: str) -> None:
    with pytest.raises(ValueError, match=r"filled in only in the URL's query values"):
        http_check(url)


def test_it_fails_clearly_when_a_referenced_variable_is_unset(tmp_path: Path) -> None:
    check = http_check("http://127.0.0.1:9/x", headers={"x-api-key": "${ANTHROPIC_API_KEY}"})

    result = run_http(check, context(tmp_path))

    assert (result.ok, result.failure_class) == (False, Failure.MISCONFIGURED)
    assert (
        result.detail == "environment variable ANTHROPIC_API_KEY is not set; the check cannot run"
    )


@pytest.mark.parametrize(
    ("status", "failure_class"),
    [
        (401, Failure.AUTH_REJECTED),
        (403, Failure.FORBIDDEN),
        (429, Failure.RATE_LIMITED),
        (500, Failure.SERVER_ERROR),
        (503, Failure.SERVER_ERROR),
        (302, Failure.UNEXPECTED_STATUS),
        (404, Failure.UNEXPECTED_STATUS),
    ],
)
def test_it_classes_an_unexpected_status(
    status: int, failure_class: str, server: LoopbackServer, tmp_path: Path
) -> None:
    server.route("/x", b'{"error": "nope"}', status=status, headers={"Location": "/y"})

    result = run_http(http_check(server.url + "/x"), context(tmp_path))

    assert (result.ok, result.failure_class, result.http_status) == (False, failure_class, status)
    assert result.detail.startswith(f"HTTP {status}, expected 200")


def test_it_reports_a_server_that_hangs_as_a_timeout(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.route("/slow", b"{}", delay=5.0)

    result = run_http(http_check(server.url + "/slow"), context(tmp_path))

    assert (result.failure_class, result.detail) == (
        Failure.TIMEOUT,
        "timed out after 1s waiting for the response",
    )
    assert "connect" in result.phases_ms  # it connected: the wait was for the answer


def test_it_reports_a_reset_connection(server: LoopbackServer, tmp_path: Path) -> None:
    server.route("/reset", reset=True)

    result = run_http(http_check(server.url + "/reset"), context(tmp_path))

    assert result.failure_class == Failure.CONNECTION_RESET


def test_it_reports_a_closed_port_as_refused(tmp_path: Path) -> None:
    result = run_http(http_check(f"http://127.0.0.1:{closed_port()}/x"), context(tmp_path))

    assert (result.failure_class, result.detail) == (Failure.CONNECT_REFUSED, "connection refused")


def test_it_measures_the_tls_handshake_with_a_trusted_ca(tls_server, tmp_path: Path) -> None:
    server, ca_file = tls_server
    server.route("/v1/messages", b"{}", status=401)

    result = run_http(
        http_check(server.url + "/v1/messages", expect_status=[401], ca_file=str(ca_file)),
        context(tmp_path),
    )

    assert result.ok, result.detail
    assert {"connect", "tls", "ttfb", "total"} <= set(result.phases_ms)


def test_it_reports_an_untrusted_certificate(tls_server, tmp_path: Path) -> None:
    server, _ = tls_server
    server.route("/x", b"{}")

    result = run_http(http_check(server.url + "/x"), context(tmp_path))

    assert result.failure_class == Failure.TLS_ERROR
    assert result.detail.startswith("TLS error: certificate not trusted")


def test_it_reports_a_certificate_for_another_host(tls_authority, tmp_path: Path) -> None:
    server_context, ca_file = tls_files(tls_authority, tmp_path, "api.example.com")
    with LoopbackServer(ssl_context=server_context) as server:
        server.route("/x", b"{}")
        result = run_http(http_check(server.url + "/x", ca_file=str(ca_file)), context(tmp_path))

    assert result.failure_class == Failure.TLS_ERROR
    assert result.detail.startswith("TLS error: certificate is not valid for localhost")


def test_it_can_skip_tls_verification_when_told_and_says_so(tls_server, tmp_path: Path) -> None:
    server, _ = tls_server
    server.route("/x", b"{}")

    result = run_http(http_check(server.url + "/x", verify_tls=False), context(tmp_path))

    assert result.ok
    assert result.facts["tls_verification"] == "off"


def test_it_records_the_proxy_settings_in_effect_without_credentials(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.route("/x", b"{}")
    env = {"HTTPS_PROXY": "http://user:pw@proxy.corp:3128", "NO_PROXY": "127.0.0.1,localhost"}

    result = run_http(http_check(server.url + "/x"), context(tmp_path, **env))

    assert result.facts["proxy"] == {
        "HTTPS_PROXY": "http://REDACTED@proxy.corp:3128",
        "NO_PROXY": "127.0.0.1,localhost",
    }


@pytest.mark.parametrize(
    ("text", "env", "expanded"),
    [
        ("Bearer ${TOKEN}", {"TOKEN": "abc"}, "Bearer abc"),
        ("${A}-${B}", {"A": "1", "B": "2"}, "1-2"),
        ("no variables", {}, "no variables"),
        ("$TOKEN stays", {"TOKEN": "abc"}, "$TOKEN stays"),
    ],
)
def test_it_expands_environment_references(text: str, env: dict[str, str], expanded: str) -> None:
    assert expand(text, env) == expanded


class RawListener:
    """A TCP listener on 127.0.0.1 that accepts and then either holds or closes the connection."""

    def __init__(self, close: bool) -> None:
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.close = close
        self.stop = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            if self.close:
                conn.recv(4096)
                conn.close()
            else:
                self.held.append(conn)

    def __enter__(self) -> RawListener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_it_names_a_tls_handshake_that_never_completes(tmp_path: Path) -> None:
    with RawListener(close=False) as listener:
        result = run_http(http_check(f"https://127.0.0.1:{listener.port}/x"), context(tmp_path))

    assert (result.failure_class, result.detail) == (
        Failure.TLS_ERROR,
        "TLS handshake timed out after 1s (TCP connected)",
    )
    assert "connect" in result.phases_ms


def test_it_says_the_server_closed_before_answering(tmp_path: Path) -> None:
    with RawListener(close=True) as listener:
        result = run_http(http_check(f"http://127.0.0.1:{listener.port}/x"), context(tmp_path))

    assert (result.failure_class, result.detail) == (
        Failure.CONNECTION_RESET,
        "connection closed before any response",
    )


def test_it_bounds_the_whole_exchange_not_each_read(server: LoopbackServer, tmp_path: Path) -> None:
    server.route("/trickle", b"x" * 40, trickle=0.2)

    result = run_http(http_check(server.url + "/trickle"), context(tmp_path))

    assert result.failure_class == Failure.TIMEOUT
    assert result.phases_ms.get("ttfb") is not None  # the headers came; the body did not, in time


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            KEY + "\r",
            "header x-api-key contains a control character (a trailing newline?); fix the value",
        ),
        (KEY + "\u201d", "header x-api-key contains non-ASCII characters; fix the value"),
    ],
)
def test_it_refuses_a_header_value_that_cannot_be_sent_without_showing_it(
    value: str, problem: str, tmp_path: Path
) -> None:
    check = http_check("http://127.0.0.1:9/x", headers={"x-api-key": "${ANTHROPIC_API_KEY}"})

    result = run_http(check, context(tmp_path, ANTHROPIC_API_KEY=value))

    assert (result.failure_class, result.detail) == (Failure.MISCONFIGURED, problem)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37+00:00"),
        ("Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37+00:00"),
        ("Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37+00:00"),  # asctime: no zone, means GMT
        ("Sun, 06 Nov 1994 08:49:37 -0000", "1994-11-06T08:49:37+00:00"),
        ("yesterday", None),
        (None, None),
    ],
)
def test_it_reads_every_http_date_form_as_aware_utc(
    header: str | None, expected: str | None
) -> None:
    from monitor.checks.web import parse_http_date

    parsed = parse_http_date(header)

    assert (parsed.isoformat() if parsed else None) == expected


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers like a web framework's error page: it quotes what it was sent.

    GET: ``404 Cannot GET <path and query>``, as sent (percent-encoded).
    POST: ``400`` with a JSON body quoting the request body and a header,
    ``/`` escaped as ``\\/`` the way PHP's json_encode writes it.
    """

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(404, f"Cannot GET {self.path}".encode(), "text/html")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        said = json.dumps({"received": body, "x-api-key": self.headers.get("x-api-key", "")})
        self._answer(400, said.replace("/", "\\/").encode(), "application/json")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class EchoServer(ThreadedServer):
    handler = _EchoHandler


# A key with no known shape, holding the characters percent-encoding changes.
FUNC_KEY = "q8Zt/Xy0Kp3Vb7Nw+Rc2Hd9Fs4Jk5Lm=="


def test_it_keeps_a_query_secret_out_of_an_error_page_that_quotes_it_percent_encoded(
    tmp_path: Path,
) -> None:
    with EchoServer() as echo:
        check = http_check(echo.url + "/api/fn?code=${FUNC_KEY}&page=2")
        env = {"FUNC_KEY": FUNC_KEY}
        _, _, result = run_check(check, context(tmp_path, **env), lambda: datetime.now(UTC))
        said = run_http(check, context(tmp_path, **env)).detail

    for detail in (result.detail, said):
        assert detail.startswith("HTTP 404, expected 200: Cannot GET /api/fn?code=")
        assert detail.endswith("&page=2")
        for piece in (FUNC_KEY, quote(FUNC_KEY, safe=""), "q8Zt", "Jk5Lm"):
            assert piece not in detail


def test_it_keeps_a_header_and_body_secret_out_of_an_answer_that_quotes_them_escaped(
    tmp_path: Path,
) -> None:
    with EchoServer() as echo:
        check = http_check(
            echo.url + "/api/fn",
            method="POST",
            headers={"x-api-key": "${FUNC_KEY}"},
            body="code=${FUNC_KEY}",
        )
        env = {"FUNC_KEY": FUNC_KEY}
        _, _, result = run_check(check, context(tmp_path, **env), lambda: datetime.now(UTC))

    assert result.detail.startswith("HTTP 400, expected 200: ")
    for piece in (FUNC_KEY, FUNC_KEY.replace("/", "\\/"), "q8Zt", "Jk5Lm"):
        assert piece not in result.detail
