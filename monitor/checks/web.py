"""HTTP plumbing the http, oauth and clock checks share.

One way to send a request under an overall deadline with a capped body,
one way to read a server's evidence (status, request id, Date), and one way
to turn a transport failure into a redacted result: three checks, one
behaviour.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from monitor.checks.result import CheckResult
from monitor.redact import redact_text
from monitor.transport import transport_failure

REQUEST_ID_HEADERS = ("request-id", "x-request-id", "cf-ray")
MAX_BODY = 64 * 1024  # a check reads an excerpt or a token response, never a download


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date as aware UTC; a date without a zone is GMT (RFC 9110), junk is None."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def response_evidence(response: httpx.Response) -> dict[str, Any]:
    """Status, the vendor's request id and the server's Date: what a support ticket needs.

    The request id is outside text like any other: a proxy that reflects a
    request header into it would otherwise hand back the key it was sent.
    """
    request_id = next(
        (
            redact_text(response.headers[h], limit=128)
            for h in REQUEST_ID_HEADERS
            if h in response.headers
        ),
        None,
    )
    return {
        "http_status": response.status_code,
        "request_id": request_id,
        "server_date": parse_http_date(response.headers.get("Date")),
    }


def send(
    client: httpx.Client, method: str, url: str, *, deadline_s: float, **request: Any
) -> tuple[httpx.Response, bytes]:
    """Send a request and read at most MAX_BODY bytes of its body before ``deadline_s``.

    httpx's timeouts bound each read, not the whole exchange: a server that
    trickles a byte at a time would hold a check for minutes. Past the
    deadline this raises httpx.ReadTimeout, which callers report as a timeout.
    """
    deadline = time.monotonic() + deadline_s
    with client.stream(method, url, **request) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout(f"no complete response within {deadline_s:g}s")
            chunks.append(chunk[: MAX_BODY - size])
            size += len(chunk)
            if size >= MAX_BODY:
                break
    return response, b"".join(chunks)


def text_of(response: httpx.Response, body: bytes) -> str:
    """The body as text, in the response's declared encoding (replacing what does not decode)."""
    return body.decode(response.encoding or "utf-8", errors="replace")


def failed_transport(
    exc: httpx.HTTPError, url: str, timeout: float, **evidence: Any
) -> CheckResult:
    """A transport failure as a result: its class, and a reason scrubbed of anything secret.

    httpx messages can quote what was sent (an illegal header value is
    echoed whole), so the reason is always redacted.
    """
    failure_class, reason = transport_failure(exc, url, connect_timeout=timeout, timeout=timeout)
    return CheckResult.failed(failure_class, redact_text(reason), **evidence)
