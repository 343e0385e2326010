"""A real OAuth 2.0 token endpoint and protected resource on 127.0.0.1, built on Authlib.

The token endpoint is Authlib's framework-agnostic ``AuthorizationServer``
with its RFC 6749 §6 ``RefreshTokenGrant``: client authentication, grant
validation and the §5.2 error bodies are Authlib's, not ours. Only the
glue is here (an in-memory client and token store, and the HTTP plumbing
of ``http.server``). Rotation: every refresh issues a new refresh token and
revokes the one used, so a used or unknown token gets ``invalid_grant``.

The resource path checks access tokens with Authlib's ``ResourceProtector``
and ``BearerTokenValidator``: 200 for a live token, 401 otherwise.

Switches simulate the failures users hit: a canned answer for a path (500
with ``{"error": "server_error"}``, 429, an HTML page, a 200), a hang (a
server-side wait, bounded and released when the server stops), a slow path
(a server-side wait before the real answer), stale access tokens (the
refresh works, the new access token is refused), and reuse detection (RFC
9700 §4.14.2: a spent refresh token presented again revokes the whole grant).
"""

from __future__ import annotations

import itertools
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

# Authlib ships no type hints; its types-Authlib stubs (1.8) lag and contradict the
# runtime (e.g. an int ``expires_generator``), so Authlib's classes are Any here.
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationServer,
    ClientMixin,
    OAuth2Error,
    OAuth2Request,
    ResourceProtector,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload  # type: ignore[import-untyped]
from authlib.oauth2.rfc6750 import (  # type: ignore[import-untyped]
    BearerTokenGenerator,
    BearerTokenValidator,
)

from tests.loopback import ThreadedServer

TOKEN_PATH = "/oauth/token"
RESOURCE_PATH = "/v1/me"
CLIENT_ID = "monitor-test-client"
SCOPE = "profile"
ACCESS_LIFETIME = 3600
HANG_LIMIT = 30.0  # a hang never outlives this, even if the test forgets to stop


# -- the in-memory model Authlib asks for --------------------------------------


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """A public client (no secret), like a CLI tool's: authenticates with ``none``."""

    client_id: str
    scope: str = SCOPE

    def get_client_id(self) -> str:
        return self.client_id

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return self.scope
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "refresh_token"

    def check_client_secret(self, client_secret: str) -> bool:
        return False


@dataclass
class Token(TokenMixin):  # type: ignore[misc]
    client_id: str
    user: str
    scope: str
    access_token: str
    refresh_token: str | None
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    access_revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.issued_at + self.expires_in <= time.time()

    def is_revoked(self) -> bool:
        return self.access_revoked


class Store:
    """Clients and tokens, by access and by refresh token; one lock for all of it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clients: dict[str, Client] = {CLIENT_ID: Client(CLIENT_ID)}
        self.by_access: dict[str, Token] = {}
        self.by_refresh: dict[str, Token] = {}
        self.stale_access_tokens = False
        self.revoke_grant_on_reuse = False

    def add(self, token: Token) -> None:
        if self.stale_access_tokens:
            token.access_revoked = True
        self.by_access[token.access_token] = token
        if token.refresh_token:
            self.by_refresh[token.refresh_token] = token

    def revoke_grant(self, spent: Token) -> None:
        """Revoke every token of the grant ``spent`` belonged to (here: its client and user)."""
        for token in self.by_access.values():
            if token.client_id == spent.client_id and token.user == spent.user:
                token.access_revoked = token.refresh_revoked = True


def _random_token(prefix: str) -> Callable[..., str]:
    def generate(**_: Any) -> str:
        return prefix + secrets.token_urlsafe(24)

    return generate


# -- Authlib's server, wired to the store ---------------------------------------


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012 (Authlib's class attribute)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        store: Store = self.server.store
        token = store.by_refresh.get(refresh_token)
        if token is not None and token.refresh_revoked and store.revoke_grant_on_reuse:
            store.revoke_grant(token)
        if token is None or token.refresh_revoked:
            return None
        return token

    def authenticate_user(self, refresh_token: Token) -> str:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: Token) -> None:
        refresh_token.refresh_revoked = True


class AuthServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's authorization server with the framework hooks filled in."""

    def __init__(self, store: Store) -> None:
        super().__init__(scopes_supported=[SCOPE])
        self.store = store
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                _random_token("at-"), _random_token("rt-"), expires_generator=ACCESS_LIFETIME
            ),
        )
        self.register_grant(RefreshTokenGrant)

    def query_client(self, client_id: str) -> Client | None:
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.store.add(
            Token(
                client_id=request.client.client_id,
                user=request.user,
                scope=token.get("scope", ""),
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                expires_in=token.get("expires_in", ACCESS_LIFETIME),
            )
        )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # the handler already built it

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An ``application/x-www-form-urlencoded`` POST, as Authlib's grants read it."""

    def __init__(self, uri: str, headers: Message, form: dict[str, str]) -> None:
        super().__init__("POST", uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class Validator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string: str) -> Token | None:
        return self.store.by_access.get(token_string)


# -- HTTP -----------------------------------------------------------------------


@dataclass
class Canned:
    """A fixed answer for a path, bypassing OAuth: a failing server's answer."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


ANSWER_500 = Canned(500, b'{"error":"server_error","error_description":"upstream down"}')
ANSWER_429 = Canned(429, b'{"error":"rate_limited"}', headers={"Retry-After": "30"})


class _Handler(BaseHTTPRequestHandler):
    server: ThreadedServer.HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        owner = self.server.owner
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
        owner.requests.append((path, form))
        if self._simulated(path):
            return
        if path != TOKEN_PATH:
            self._send(404, {"error": "not_found"}, [])
            return
        self._send(*owner.token_response(self.headers, form))

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?")[0]
        owner.requests.append((path, {}))
        if self._simulated(path):
            return
        if path != RESOURCE_PATH:
            self._send(404, {"error": "not_found"}, [])
            return
        self._send(*owner.resource_response(self.headers))

    def _simulated(self, path: str) -> bool:
        """Apply a hang or a canned answer for ``path``; True if it answered (or gave up)."""
        owner = self.server.owner
        delay = owner.delays.get(path)
        if delay:
            owner.stopping.wait(delay)  # then answer as usual
        if path in owner.hanging:
            owner.stopping.wait(HANG_LIMIT)  # bounded; released when the server stops
            self.close_connection = True
            return True
        canned = owner.canned.get(path)
        if canned is None:
            return False
        self._write(canned.status, canned.body, canned.content_type, canned.headers)
        return True

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]]) -> None:
        """Write what Authlib returned: a status, a JSON-able body, header pairs."""
        extra = {k: v for k, v in headers if k.lower() != "content-type"}
        self._write(status, json.dumps(body).encode(), "application/json", extra)

    def _write(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        owner = self.server.owner
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", f"req_{next(owner.request_ids)}")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class OAuthServer(ThreadedServer):
    """``with OAuthServer() as oauth:``; ``oauth.token_url``, ``oauth.resource_url``."""

    handler = _Handler

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.store = Store()
        self.authorization = AuthServer(self.store)
        self.protector = ResourceProtector()
        self.protector.register_token_validator(Validator(self.store))
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.canned: dict[str, Canned] = {}
        self.hanging: set[str] = set()
        self.delays: dict[str, float] = {}
        self.request_ids = itertools.count(1)
        super().__init__(ssl_context)
        self.token_url = self.url + TOKEN_PATH
        self.resource_url = self.url + RESOURCE_PATH

    # -- set up and simulate --

    def issue_refresh_token(self, client_id: str = CLIENT_ID, user: str = "alice") -> str:
        """A grant as if the user had logged in: returns its refresh token."""
        refresh = _random_token("rt-")()
        token = Token(client_id, user, SCOPE, _random_token("at-")(), refresh, ACCESS_LIFETIME)
        with self.store.lock:
            self.store.add(token)
        return refresh

    def answer(self, path: str, canned: Canned) -> None:
        """Answer ``path`` with ``canned`` from now on (until ``restore``)."""
        self.canned[path] = canned

    def hang(self, path: str) -> None:
        """Accept requests to ``path`` and never answer (until the server stops)."""
        self.hanging.add(path)

    def slow(self, path: str, seconds: float) -> None:
        """Wait ``seconds`` server-side before handling each request to ``path``."""
        self.delays[path] = seconds

    def revoke_grant_on_reuse(self, revoke: bool = True) -> None:
        """Like servers following RFC 9700 §4.14.2: reusing a spent token kills the grant."""
        self.store.revoke_grant_on_reuse = revoke

    def restore(self) -> None:
        self.canned.clear()
        self.hanging.clear()
        self.delays.clear()

    def set_stale_access_tokens(self, stale: bool = True) -> None:
        """Issue access tokens the resource refuses: the refresh "works", the token doesn't."""
        self.store.stale_access_tokens = stale

    def is_refresh_token_valid(self, refresh_token: str) -> bool:
        with self.store.lock:
            token = self.store.by_refresh.get(refresh_token)
            return token is not None and not token.refresh_revoked

    # -- the two endpoints --

    def token_response(
        self, headers: Message, form: dict[str, str]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        request = FormRequest(self.token_url, headers, form)
        with self.store.lock:  # validate-then-rotate is one step
            result: tuple[int, Any, list[tuple[str, str]]] = (
                self.authorization.create_token_response(request)
            )
        return result

    def resource_response(self, headers: Message) -> tuple[int, Any, list[tuple[str, str]]]:
        request = _HeaderRequest(headers)
        try:
            with self.store.lock:
                token = self.protector.validate_request(scopes=None, request=request)
        except OAuth2Error as error:
            status, body, error_headers = error()
            return status, body, error_headers
        return 200, {"user": token.user, "scope": token.scope}, []


@dataclass
class _HeaderRequest:
    """All Authlib's ResourceProtector reads from a request: its headers."""

    headers: Message  # case-insensitive, as Authlib expects
