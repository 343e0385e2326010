"""The one place monitor talks HTTP to a status page.

Bounded in every direction a misbehaving server can push: connect and read
timeouts plus an overall deadline (a server trickling bytes never trips a
read timeout), a body size cap, a redirect limit. Conditional requests make
an unchanged page cost a 304 and nothing else.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import httpx

from monitor import __version__
from monitor.errors import FetchError
from monitor.failures import Failure
from monitor.redact import redact_text, redact_url
from monitor.transport import tls_context, transport_failure

USER_AGENT = f"monitor/{__version__} (status-page poller; +https://pypi.org/project/monitor/)"


class ErrorResponse(FetchError):
    """The server answered with an error status (>= 400).

    ``retry_after`` is the ``Retry-After`` header exactly as sent, or None:
    the poller turns it into a back-off (monitor.polling.backoff), which needs the
    value itself, not a sentence that mentions it.
    """

    def __init__(self, reason: str, *, http_status: int, retry_after: str | None = None) -> None:
        super().__init__(reason, http_status=http_status)
        self.retry_after = retry_after


class TransportFailure(FetchError):
    """No usable response: refused, timed out, reset, DNS, TLS...

    ``failure_class`` is the name monitor.transport gives it (the failure
    vocabulary checks share), so the poller can tell a vendor too busy to answer, which
    deserves a back-off, from a DNS or TLS problem on our side, which does
    not. ``http_status`` is set when a response began and then failed.
    """

    def __init__(
        self, reason: str, *, failure_class: Failure, http_status: int | None = None
    ) -> None:
        super().__init__(reason, http_status=http_status)
        self.failure_class = failure_class


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server said identifies this version of the resource."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True, slots=True)
class Fetched:
    """A usable response: ``body`` is None when the server answered 304 Not Modified.

    ``moved_to`` is where redirects led when that is another host.
    """

    url: str
    status: int
    body: bytes | None
    validators: Validators
    size: int
    moved_to: str | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float = 10.0
    connect_timeout: float = 5.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5


def build_client(
    limits: Limits,
    *,
    verify: str | bool = True,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client for polling: shared across threads, bounded, identifying itself.

    ``verify`` may name a CA bundle file; ``transport`` lets tests swap the network.
    """
    timeout = httpx.Timeout(limits.timeout, connect=min(limits.connect_timeout, limits.timeout))
    tls: ssl.SSLContext | bool = tls_context(verify) if isinstance(verify, str) else verify
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=limits.max_redirects,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        verify=tls,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        transport=transport,
    )


def fetch(client: httpx.Client, url: str, previous: Validators | None, limits: Limits) -> Fetched:
    """GET ``url`` conditionally; raise FetchError with a readable reason on any failure.

    An error status raises ErrorResponse and a transport failure raises
    TransportFailure, both FetchErrors: what to do about them (back off or
    not) is the poller's call, made from what they carry.
    """
    headers = previous.headers() if previous else {}
    deadline = time.monotonic() + limits.timeout
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                # Drain the (empty) body so the connection goes back to the
                # pool: an unread response is closed, and the next poll pays
                # a new TCP and TLS handshake.
                response.read()
                return Fetched(url, 304, None, previous or Validators(), 0)
            if response.status_code >= 400:
                raise _error_response(response)
            try:
                body = _read_capped(response, limits, deadline)
            except httpx.HTTPError as exc:
                raise _transport_failure(exc, limits, url, response.status_code) from None
            return Fetched(
                url,
                response.status_code,
                body,
                _validators(response),
                len(body),
                moved_to=_moved_to(url, response),
            )
    except FetchError:
        raise
    except httpx.HTTPError as exc:
        raise _transport_failure(exc, limits, url) from None


def _moved_to(url: str, response: httpx.Response) -> str | None:
    """Where redirects led, when that is another host than the one asked (redacted), else None.

    A page that moved is still read, but a person should know: the source's
    URL is out of date, or someone else now answers for the vendor.
    """
    if not response.history or response.url.host == httpx.URL(url).host:
        return None
    return redact_text(redact_url(str(response.url)), limit=500)


def _read_capped(response: httpx.Response, limits: Limits, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(
            f"response of {int(declared):,} bytes exceeds the {limits.max_bytes:,}-byte limit",
            http_status=response.status_code,
        )
    chunks: list[bytes] = []
    size = 0
    # No chunk size: each piece is handed over as it arrives, so the deadline
    # is checked after every socket read and a server trickling a byte at a
    # time is cut off within one read timeout of the deadline.
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_bytes:
            raise FetchError(
                f"response exceeds the {limits.max_bytes:,}-byte limit",
                http_status=response.status_code,
            )
        if time.monotonic() > deadline:
            raise TransportFailure(
                f"timed out after {limits.timeout:g}s reading the response",
                failure_class=Failure.TIMEOUT,
                http_status=response.status_code,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _validators(response: httpx.Response) -> Validators:
    return Validators(response.headers.get("ETag"), response.headers.get("Last-Modified"))


def _error_response(response: httpx.Response) -> ErrorResponse:
    return ErrorResponse(
        _status_reason(response),
        http_status=response.status_code,
        retry_after=response.headers.get("Retry-After"),
    )


def _status_reason(response: httpx.Response) -> str:
    phrase = response.reason_phrase or ""
    reason = f"HTTP {response.status_code} {phrase}".rstrip()
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        reason += f" (Retry-After: {retry_after})"
    return reason


def describe_transport_error(exc: httpx.HTTPError, limits: Limits, url: str) -> str:
    """One readable line for a transport failure, in the words a user searches for."""
    return _classify(exc, limits, url)[1]


def _transport_failure(
    exc: httpx.HTTPError, limits: Limits, url: str, http_status: int | None = None
) -> TransportFailure:
    failure_class, reason = _classify(exc, limits, url)
    return TransportFailure(reason, failure_class=failure_class, http_status=http_status)


def _classify(exc: httpx.HTTPError, limits: Limits, url: str) -> tuple[Failure, str]:
    return transport_failure(
        exc,
        url,
        connect_timeout=min(limits.connect_timeout, limits.timeout),
        timeout=limits.timeout,
        max_redirects=limits.max_redirects,
    )
