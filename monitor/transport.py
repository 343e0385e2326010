"""The HTTP edge both pipelines share: trusting a CA, and naming a transport failure.

A status poll wants a readable reason; a check also wants the failure
class the correlator reasons over. Both come from the same inspection of
the exception, so the two never disagree about what happened.
"""

from __future__ import annotations

import ssl

import httpx

from monitor.failures import Failure

_DNS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo failed",
)


def tls_context(ca_file: str) -> ssl.SSLContext:
    """The usual public CAs plus ``ca_file`` (a corporate proxy's CA, say), not instead of them."""
    context = httpx.create_ssl_context()
    context.load_verify_locations(cafile=ca_file)
    return context


def transport_failure(
    exc: httpx.HTTPError,
    url: str,
    *,
    connect_timeout: float,
    timeout: float,
    max_redirects: int | None = None,
) -> tuple[Failure, str]:
    """``(failure class, one readable line)`` for an httpx transport error."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    host = httpx.URL(url).host
    if isinstance(exc, httpx.ConnectTimeout):
        return Failure.CONNECT_TIMEOUT, f"connect timed out after {connect_timeout:g}s"
    if isinstance(exc, httpx.TimeoutException):
        return Failure.TIMEOUT, f"timed out after {timeout:g}s waiting for the response"
    if isinstance(exc, httpx.TooManyRedirects):
        limit = f"more than {max_redirects}" if max_redirects is not None else "too many"
        return Failure.PROTOCOL_ERROR, f"{limit} redirects"
    if _is_tls(exc, lowered):
        return Failure.TLS_ERROR, f"TLS error: {_tls_reason(lowered, text, host)}"
    if any(marker in lowered for marker in _DNS):
        return Failure.DNS_FAILURE, f"DNS lookup failed for {host}: {text}"
    if "connection refused" in lowered:
        return Failure.CONNECT_REFUSED, "connection refused"
    if "unreachable" in lowered or "no route to host" in lowered:
        return Failure.NETWORK_UNREACHABLE, f"network unreachable: {text}"
    if "reset by peer" in lowered or "connection reset" in lowered:
        return Failure.CONNECTION_RESET, "connection reset by peer"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending a response" in lowered:
            return Failure.CONNECTION_RESET, "connection closed before any response"
        return Failure.CONNECTION_RESET, f"connection closed mid-response: {text}"
    return Failure.PROTOCOL_ERROR, f"{type(exc).__name__}: {text}"


def _is_tls(exc: BaseException, lowered: str) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "certificate" in lowered or "ssl" in lowered or "tls" in lowered


def _tls_reason(lowered: str, text: str, host: str) -> str:
    """Say which TLS failure it was: the fixes differ (clock, CA bundle, proxy)."""
    if "hostname mismatch" in lowered or "doesn't match" in lowered or "not valid for" in lowered:
        return f"certificate is not valid for {host} ({text})"
    if "certificate has expired" in lowered:
        return f"certificate has expired ({text})"
    if (
        "self-signed" in lowered
        or "unable to get local issuer" in lowered
        or ("certificate verify failed" in lowered)
    ):
        return f"certificate not trusted ({text})"
    return text
