"""The HTTP layer's limits, driven through httpx.MockTransport where a socket adds nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from monitor.errors import FetchError
from monitor.failures import Failure
from monitor.polling.fetch import (
    USER_AGENT,
    ErrorResponse,
    Limits,
    TransportFailure,
    Validators,
    build_client,
    fetch,
)

LIMITS = Limits(timeout=2.0, connect_timeout=1.0, max_bytes=1000, max_redirects=2)


def client_for(handler) -> httpx.Client:
    return build_client(LIMITS, transport=httpx.MockTransport(handler))


def test_it_sends_validators_and_keeps_the_ones_the_server_returns() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            content=b"{}",
            headers={"ETag": '"v2"', "Last-Modified": "Mon, 23 Nov 2026 05:00:00 GMT"},
        )

    with client_for(handler) as client:
        fetched = fetch(
            client,
            "https://status.test/x",
            Validators('"v1"', "Sun, 22 Nov 2026 05:00:00 GMT"),
            LIMITS,
        )

    assert seen[0].headers["If-None-Match"] == '"v1"'
    assert seen[0].headers["If-Modified-Since"] == "Sun, 22 Nov 2026 05:00:00 GMT"
    assert seen[0].headers["User-Agent"] == USER_AGENT
    assert fetched.validators == Validators('"v2"', "Mon, 23 Nov 2026 05:00:00 GMT")
    assert (fetched.status, fetched.body, fetched.size) == (200, b"{}", 2)


def test_it_returns_no_body_and_the_old_validators_on_304() -> None:
    old = Validators('"v1"', None)
    with client_for(lambda request: httpx.Response(304)) as client:
        fetched = fetch(client, "https://status.test/x", old, LIMITS)

    assert (fetched.status, fetched.body, fetched.validators) == (304, None, old)


def test_it_caps_a_body_that_declares_no_length() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 100

    client = client_for(lambda request: httpx.Response(200, content=chunks()))
    with client, pytest.raises(FetchError) as raised:
        fetch(client, "https://status.test/x", None, LIMITS)

    assert raised.value.reason == "response exceeds the 1,000-byte limit"
    assert raised.value.http_status == 200


def test_it_keeps_the_status_and_retry_after_of_an_error_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "120"})

    with client_for(handler) as client, pytest.raises(FetchError) as raised:
        fetch(client, "https://status.test/x", None, LIMITS)

    assert raised.value.reason == "HTTP 429 Too Many Requests (Retry-After: 120)"
    assert raised.value.http_status == 429
    assert isinstance(raised.value, ErrorResponse)
    assert raised.value.retry_after == "120"  # as sent: the poller parses it


def test_it_carries_no_retry_after_when_the_server_sent_none() -> None:
    client = client_for(lambda request: httpx.Response(503))
    with client, pytest.raises(ErrorResponse) as raised:
        fetch(client, "https://status.test/x", None, LIMITS)

    assert (raised.value.http_status, raised.value.retry_after) == (503, None)


@pytest.mark.parametrize(
    ("error", "failure_class"),
    [
        (httpx.ReadTimeout("timed out"), Failure.TIMEOUT),
        (httpx.ConnectError("[Errno 111] Connection refused"), Failure.CONNECT_REFUSED),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate"), Failure.TLS_ERROR),
    ],
)
def test_it_names_the_class_of_a_transport_failure(
    error: httpx.HTTPError, failure_class: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with client_for(handler) as client, pytest.raises(TransportFailure) as raised:
        fetch(client, "https://status.test/x", None, LIMITS)

    assert raised.value.failure_class == failure_class


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ConnectTimeout("timed out"), "connect timed out after 1s"),
        (httpx.ReadTimeout("timed out"), "timed out after 2s waiting for the response"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            "DNS lookup failed for status.test: [Errno -2] Name or service not known",
        ),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), "connection reset by peer"),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "TLS error: certificate not trusted ([SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed)",
        ),
    ],
)
def test_it_names_transport_failures_in_plain_words(error: httpx.HTTPError, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with client_for(handler) as client, pytest.raises(FetchError) as raised:
        fetch(client, "https://status.test/x", None, LIMITS)

    assert raised.value.reason == reason
    assert raised.value.http_status is None
