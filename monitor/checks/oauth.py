"""What the OAuth checks share: reading a token endpoint's answer, and keeping tokens out.

``oauth_token_endpoint`` (oauth_probe.py) sends a refresh with a token that
cannot be valid; ``oauth_refresh`` (oauth_refresh.py) spends monitor's own
grant. Both judge a token endpoint's answer the same way: by status first
(rate limit, server error, redirect...), then as an RFC 6749 §5.2 error body.

Neither ever records a token: only fingerprints, statuses and redacted
excerpts. Each run scrubs the token values it knows (the one it sent, those
it got back) from every excerpt before redact_text shortens it (a cut could
leave a token's unrecognizable prefix) and from the whole result at the end:
a server echoing a token in its ``error_description`` gives it no prefix
redact_text's patterns would know.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, NamedTuple

import httpx

from monitor.checks.context import CheckContext
from monitor.checks.result import CheckResult
from monitor.checks.settings import OAuthRefreshCheck, OAuthTokenEndpointCheck
from monitor.checks.web import response_evidence, text_of
from monitor.failures import Failure
from monitor.redact import REDACTED, redact_text, redact_url

ACCEPT_JSON = {"Accept": "application/json"}
EXCERPT_CHARS = 160
_MIN_SECRET = 4  # shorter values are no secret, and replacing them would garble the text


class OAuthError(NamedTuple):
    """``error`` and ``error_description`` of an RFC 6749 §5.2 error body."""

    code: str
    description: str | None


class Scrubber:
    """The token values one run has seen; nothing it says may contain them."""

    def __init__(self, *values: object) -> None:
        self._values: list[str] = []
        self.add(*values)

    def add(self, *values: object) -> None:
        for value in values:
            if isinstance(value, str) and len(value) >= _MIN_SECRET:
                self._values.append(value)
        self._values.sort(key=len, reverse=True)  # a token containing another goes first

    def replace(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        return text

    def excerpt(self, text: str, limit: int = EXCERPT_CHARS) -> str:
        """A short, single-line excerpt: known tokens replaced, then redact_text's patterns."""
        return redact_text(self.replace(text), limit=limit)

    def result(self, result: CheckResult) -> CheckResult:
        """The result with every known token replaced in its detail and facts."""
        return replace(result, detail=self.replace(result.detail), facts=self._facts(result.facts))

    def _facts(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.replace(value)
        if isinstance(value, dict):
            return {key: self._facts(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._facts(item) for item in value]
        return value


def client(
    settings: OAuthTokenEndpointCheck | OAuthRefreshCheck, context: CheckContext, timeout: float
) -> httpx.Client:
    return context.http_client(
        timeout=timeout, verify_tls=settings.verify_tls, ca_file=settings.ca_file
    )


def base_facts(
    settings: OAuthTokenEndpointCheck | OAuthRefreshCheck, context: CheckContext
) -> dict[str, Any]:
    return context.run_facts(verify_tls=settings.verify_tls)


def evidence_of(response: httpx.Response, facts: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for CheckResult: status, request id, server date, facts."""
    return {**response_evidence(response), "facts": dict(facts)}


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, else None (not JSON, not an object, or nested too deep)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def token_error(
    response: httpx.Response, body: bytes, scrub: Scrubber, evidence: dict[str, Any]
) -> CheckResult | OAuthError:
    """A token endpoint's non-200 answer: a failure decided already, or the OAuth error to judge."""
    failure = http_failure(response, body, "token endpoint", scrub)
    if failure is not None:
        return CheckResult.failed(failure[0], failure[1], **evidence)
    error = _oauth_error(json_object(body))
    if error is None:
        return CheckResult.failed(
            Failure.PROTOCOL_ERROR, _not_oauth(response, body, scrub), **evidence
        )
    return error


def http_failure(
    response: httpx.Response, body: bytes, what: str, scrub: Scrubber
) -> tuple[Failure, str] | None:
    """Failures decided by the status alone (rate limit, server error, redirects...)."""
    status = response.status_code
    if status == 429:
        retry = response.headers.get("retry-after")
        hint = f" (Retry-After: {scrub.excerpt(retry, 40)})" if retry else ""
        return Failure.RATE_LIMITED, f"{what} rate limited: 429{hint}"
    if status >= 500:
        error = _oauth_error(json_object(body))
        if error is not None:
            return (
                Failure.SERVER_ERROR,
                f"OAuth error {status}: {error.code}{described(error, scrub)}",
            )
        said = scrub.excerpt(text_of(response, body))
        return Failure.SERVER_ERROR, f"OAuth error {status}" + (f": {said}" if said else "")
    if status == 403:
        return (
            Failure.FORBIDDEN,
            f"{what} answered 403 (blocked before OAuth: a WAF, proxy or region?)",
        )
    if status in (400, 401):
        return None  # OAuth speaks in 400 and 401 (RFC 6749 §5.2): read the body
    if 300 <= status < 400:
        location = scrub.excerpt(redact_url(response.headers.get("location", "")))
        return Failure.UNEXPECTED_STATUS, f"{what} redirected ({status}) to {location or '?'}"
    if status == 200:
        return None
    return Failure.UNEXPECTED_STATUS, f"{what} answered {status}"


def _oauth_error(document: dict[str, Any] | None) -> OAuthError | None:
    code = document.get("error") if document else None
    if not document or not isinstance(code, str) or not code:
        return None
    description = document.get("error_description")
    return OAuthError(code, description if isinstance(description, str) else None)


def described(error: OAuthError, scrub: Scrubber) -> str:
    return f" ({scrub.excerpt(error.description, 120)})" if error.description else ""


def rejected_client(status: int, error: OAuthError, scrub: Scrubber) -> str:
    """The endpoint speaks OAuth but refuses this client: say what to check."""
    hint = {
        "invalid_client": "the client_id is wrong or not allowed here",
        "unauthorized_client": "this client_id may not use refresh tokens",
        "unsupported_grant_type": "the server does not accept refresh_token grants",
        "invalid_scope": "the scope asked for is not allowed",
        "invalid_request": "the server rejected the request's shape",
    }.get(error.code, "check the client_id")
    code = scrub.excerpt(error.code, 60)
    return f"token endpoint answered {status} {code}{described(error, scrub)}: {hint}"


def _not_oauth(response: httpx.Response, body: bytes, scrub: Scrubber) -> str:
    said = scrub.excerpt(text_of(response, body))
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    shown = f": {said}" if said else " (empty body)"
    return f"token endpoint answered {response.status_code} {kind}, not an OAuth error{shown}"
