"""OAuth checks: is the vendor's token endpoint up, and does a real refresh still work?

``oauth_token_endpoint`` sends a refresh with a token that cannot be valid:
an RFC 6749 §5.2 ``invalid_grant`` proves the endpoint is up and speaking
OAuth without touching anybody's grant. ``oauth_refresh`` spends monitor's
own refresh token, saves the rotated one before anything else can fail, and
optionally shows the new access token to ``verify_url`` (a refresh that
"works" but yields a refused access token is the stale-grant case users hit).

Neither ever records a token: only fingerprints, statuses and redacted snippets.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from monitor.checks.context import CheckContext
from monitor.checks.result import (
    AUTH_REJECTED,
    CREDENTIALS_INSECURE,
    CREDENTIALS_INVALID,
    FORBIDDEN,
    INVALID_GRANT,
    MISCONFIGURED,
    PROTOCOL_ERROR,
    RATE_LIMITED,
    SERVER_ERROR,
    UNEXPECTED_STATUS,
    CheckResult,
)
from monitor.checks.settings import OAuthRefreshCheck, OAuthTokenEndpointCheck
from monitor.checks.tokenstore import (
    TokenInsecure,
    TokenMissing,
    TokenStoreError,
    fingerprint,
    read_token,
    token_file_path,
    write_token,
)
from monitor.checks.web import response_evidence
from monitor.redact import redact_text, redact_url
from monitor.transport import transport_failure

PROBE_PREFIX = "monitor-probe-"
SNIPPET_CHARS = 160


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """A short, single-line, redacted excerpt of a response body or header."""
    return redact_text(text, limit=limit)


# -- oauth_token_endpoint ---------------------------------------------------


def run_oauth_token_endpoint(
    settings: OAuthTokenEndpointCheck, context: CheckContext
) -> CheckResult:
    """Refresh with a fresh, deliberately invalid token; ``invalid_grant`` means up.

    The token is random per run so no server-side cache or replay
    protection can turn one run's answer into the next one's.
    """
    form = {
        "grant_type": "refresh_token",
        "refresh_token": PROBE_PREFIX + secrets.token_hex(8),
        "client_id": settings.client_id,
    }
    timeout = settings.timeout.total_seconds()
    try:
        with _client(settings, context, timeout) as client:
            response = client.post(settings.token_url, data=form, headers=_ACCEPT_JSON)
    except httpx.HTTPError as exc:
        return _transport(exc, settings.token_url, timeout, _base_facts(settings, context))
    return _judge_probe(response, _base_facts(settings, context))


def _judge_probe(response: httpx.Response, facts: dict[str, Any]) -> CheckResult:
    evidence = _evidence(response, facts)
    status = response.status_code
    if status == 200:
        return CheckResult.failed(
            PROTOCOL_ERROR,
            "token endpoint answered 200 to a deliberately invalid refresh token "
            "(not an OAuth token endpoint, or one that accepts anything)",
            **evidence,
        )
    failure = _http_failure(response, "token endpoint")
    if failure is not None:
        return CheckResult.failed(failure[0], failure[1], **evidence)
    error = _oauth_error(response)
    if error is None:
        return CheckResult.failed(
            PROTOCOL_ERROR, _not_oauth(response, "token endpoint"), **evidence
        )
    code, _description = error
    if code == "invalid_grant":
        return CheckResult.passed(
            "token endpoint up: answered invalid_grant as expected", **evidence
        )
    return CheckResult.failed(PROTOCOL_ERROR, _rejected_client(status, error), **evidence)


# -- oauth_refresh ------------------------------------------------------------


def run_oauth_refresh(settings: OAuthRefreshCheck, context: CheckContext) -> CheckResult:
    """A real refresh with monitor's own grant, then (optionally) use the access token.

    A rotated refresh token is written before anything else happens: the
    server has already revoked the old one, so losing the new one would
    leave monitor with no grant at all.
    """
    path = token_file_path(settings, context)
    facts = {**_base_facts(settings, context), "token_file": str(path)}
    try:
        old_token = read_token(path, name=settings.name)
    except TokenStoreError as exc:
        return CheckResult.failed(_token_file_class(exc), str(exc), facts=facts)
    facts["old_fingerprint"] = fingerprint(old_token)
    timeout = settings.timeout.total_seconds()
    try:
        with _client(settings, context, timeout) as client:
            return _refresh(settings, context, client, path, old_token, facts)
    except httpx.HTTPError as exc:
        # Only the token request can get here: verify errors are caught inside.
        return _transport(exc, settings.token_url, timeout, facts)


def _token_file_class(exc: TokenStoreError) -> str:
    if isinstance(exc, TokenMissing):
        return MISCONFIGURED
    if isinstance(exc, TokenInsecure):
        return CREDENTIALS_INSECURE
    return CREDENTIALS_INVALID


def _refresh(
    settings: OAuthRefreshCheck,
    context: CheckContext,
    client: httpx.Client,
    path: Path,
    old_token: str,
    facts: dict[str, Any],
) -> CheckResult:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": old_token,
        "client_id": settings.client_id,
    }
    if settings.scope:
        form["scope"] = settings.scope
    response = client.post(settings.token_url, data=form, headers=_ACCEPT_JSON)
    facts["token_status"] = response.status_code
    body = _json_object(response) if response.status_code == 200 else None
    if body is not None:
        # Saved first, even from an odd answer: the server may have revoked the old one.
        unsaved = _save_rotation(settings, context, path, old_token, body, facts)
        if unsaved is not None:
            return CheckResult.failed(MISCONFIGURED, unsaved, **_evidence(response, facts))
    access_token = body.get("access_token") if body else None
    if not isinstance(access_token, str) or not access_token:
        return _refresh_refused(response, settings.name, facts)
    if settings.verify_url is None:
        return CheckResult.passed(_refreshed(facts), **_evidence(response, facts))
    return _verify(client, settings.verify_url, access_token, settings.timeout, facts)


def _refresh_refused(response: httpx.Response, name: str, facts: dict[str, Any]) -> CheckResult:
    evidence = _evidence(response, facts)
    if response.status_code == 200:
        return CheckResult.failed(
            PROTOCOL_ERROR,
            f"token endpoint answered 200 without an access_token ({_shape(response)})",
            **evidence,
        )
    failure = _http_failure(response, "token endpoint")
    if failure is not None:
        return CheckResult.failed(failure[0], failure[1], **evidence)
    error = _oauth_error(response)
    if error is None:
        return CheckResult.failed(
            PROTOCOL_ERROR, _not_oauth(response, "token endpoint"), **evidence
        )
    if error[0] == "invalid_grant":
        return CheckResult.failed(
            INVALID_GRANT,
            "monitor's refresh token was refused (used, revoked or expired): "
            f"run `monitor token set {name}` with a fresh one{_described(error)}",
            **evidence,
        )
    return CheckResult.failed(
        PROTOCOL_ERROR, _rejected_client(response.status_code, error), **evidence
    )


def _save_rotation(
    settings: OAuthRefreshCheck,
    context: CheckContext,
    path: Path,
    old_token: str,
    body: Mapping[str, Any],
    facts: dict[str, Any],
) -> str | None:
    """Write a rotated refresh token now; a reason if it could not be saved."""
    new_token = body.get("refresh_token")
    rotated = isinstance(new_token, str) and bool(new_token) and new_token != old_token
    facts["rotated"] = rotated
    expires_in = body.get("expires_in")
    facts["expires_in"] = expires_in if isinstance(expires_in, int | float) else None
    if not rotated or not isinstance(new_token, str):
        facts["new_fingerprint"] = None
        return None
    facts["new_fingerprint"] = fingerprint(new_token)
    try:
        write_token(path, new_token, settings.client_id, context.now())
    except (OSError, ValueError) as exc:
        return (
            f"refreshed, but the rotated refresh token could not be saved to {path} "
            f"({_os_reason(exc)}); the old one is now spent: fix the folder and run "
            f"`monitor token set {settings.name}`"
        )
    return None


def _verify(
    client: httpx.Client,
    url: str,
    access_token: str,
    timeout: timedelta,
    facts: dict[str, Any],
) -> CheckResult:
    """Use the new access token once: 200 is the only proof it is accepted."""
    seconds = timeout.total_seconds()
    try:
        response = client.get(url, headers={"Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError as exc:
        failure_class, reason = transport_failure(
            exc, url, connect_timeout=seconds, timeout=seconds
        )
        return CheckResult.failed(
            failure_class, f"refreshed, but verify_url failed: {reason}", facts=facts
        )
    facts["verify_status"] = response.status_code
    evidence = _evidence(response, facts)
    if response.status_code == 200:
        return CheckResult.passed(
            _refreshed(facts) + "; the new access token is accepted at verify_url", **evidence
        )
    if response.status_code == 401:
        return CheckResult.failed(
            AUTH_REJECTED,
            "refreshed, but the new access token is refused at verify_url (401)"
            f"{_www_authenticate(response)}",
            **evidence,
        )
    failure = _http_failure(response, "verify_url")
    if failure is None:
        failure = (UNEXPECTED_STATUS, f"verify_url answered {response.status_code}")
    return CheckResult.failed(failure[0], "refreshed, but " + failure[1], **evidence)


def _refreshed(facts: Mapping[str, Any]) -> str:
    rotated = "rotated and saved the new refresh token" if facts.get("rotated") else "no rotation"
    expires = facts.get("expires_in")
    lifetime = f", access token valid {expires:g}s" if isinstance(expires, int | float) else ""
    return f"refresh ok ({rotated}{lifetime})"


# -- shared -------------------------------------------------------------------

_ACCEPT_JSON = {"Accept": "application/json"}


def _client(
    settings: OAuthTokenEndpointCheck | OAuthRefreshCheck, context: CheckContext, timeout: float
) -> httpx.Client:
    return context.http_client(
        timeout=timeout, verify_tls=settings.verify_tls, ca_file=settings.ca_file
    )


def _base_facts(
    settings: OAuthTokenEndpointCheck | OAuthRefreshCheck, context: CheckContext
) -> dict[str, Any]:
    return context.run_facts(verify_tls=settings.verify_tls)


def _transport(
    exc: httpx.HTTPError, url: str, timeout: float, facts: dict[str, Any]
) -> CheckResult:
    failure_class, reason = transport_failure(exc, url, connect_timeout=timeout, timeout=timeout)
    return CheckResult.failed(failure_class, redact_text(reason), facts=facts)


def _evidence(response: httpx.Response, facts: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for CheckResult: status, request id, server date, facts."""
    return {**response_evidence(response), "facts": dict(facts)}


def _http_failure(response: httpx.Response, what: str) -> tuple[str, str] | None:
    """Failures decided by the status alone (rate limit, server error, redirects...)."""
    status = response.status_code
    if status == 429:
        retry = response.headers.get("retry-after")
        hint = f" (Retry-After: {snippet(retry, 40)})" if retry else ""
        return RATE_LIMITED, f"{what} rate limited: 429{hint}"
    if status >= 500:
        error = _oauth_error(response)
        if error is not None:
            return SERVER_ERROR, f"OAuth error {status}: {error[0]}{_described(error)}"
        body = snippet(response.text)
        return SERVER_ERROR, f"OAuth error {status}" + (f": {body}" if body else "")
    if status == 403:
        return FORBIDDEN, f"{what} answered 403 (blocked before OAuth: a WAF, proxy or region?)"
    if status in (400, 401):
        return None  # OAuth speaks in 400 and 401 (RFC 6749 §5.2): read the body
    if 300 <= status < 400:
        location = redact_url(response.headers.get("location", ""))
        return UNEXPECTED_STATUS, f"{what} redirected ({status}) to {snippet(location) or '?'}"
    if status == 200:
        return None
    return UNEXPECTED_STATUS, f"{what} answered {status}"


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        document = json.loads(response.content)
    except (UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _oauth_error(response: httpx.Response) -> tuple[str, str | None] | None:
    """``(error, error_description)`` from an RFC 6749 §5.2 error body, else None."""
    body = _json_object(response)
    code = body.get("error") if body else None
    if not body or not isinstance(code, str) or not code:
        return None
    description = body.get("error_description")
    return code, description if isinstance(description, str) else None


def _described(error: tuple[str, str | None]) -> str:
    return f" ({snippet(error[1], 120)})" if error[1] else ""


def _rejected_client(status: int, error: tuple[str, str | None]) -> str:
    """The endpoint speaks OAuth but refuses this client: say what to check."""
    code = error[0]
    hint = {
        "invalid_client": "the client_id is wrong or not allowed here",
        "unauthorized_client": "this client_id may not use refresh tokens",
        "unsupported_grant_type": "the server does not accept refresh_token grants",
        "invalid_scope": "the scope asked for is not allowed",
        "invalid_request": "the server rejected the request's shape",
    }.get(code, "check the client_id")
    return f"token endpoint answered {status} {snippet(code, 60)}{_described(error)}: {hint}"


def _not_oauth(response: httpx.Response, what: str) -> str:
    body = snippet(response.text)
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    shown = f": {body}" if body else " (empty body)"
    return f"{what} answered {response.status_code} {kind}, not an OAuth error{shown}"


def _shape(response: httpx.Response) -> str:
    """Which keys came back (never their values): enough to debug a 200 without a token."""
    body = _json_object(response)
    if body is None:
        return "body is not a JSON object"
    keys = ", ".join(sorted(str(k) for k in body)[:10]) or "none"
    return f"keys: {keys}"


def _www_authenticate(response: httpx.Response) -> str:
    value = response.headers.get("www-authenticate")
    return f": {snippet(value, 120)}" if value else ""


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
