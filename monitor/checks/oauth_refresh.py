"""``oauth_refresh``: does a real refresh with monitor's own grant still work?

It spends monitor's own refresh token, saves the rotated one before anything
else can fail, and optionally shows the new access token to ``verify_url``
(a refresh that "works" but yields a refused access token is the stale-grant
case users hit). The token file is locked from reading the token to saving
the rotated one, so two processes running the check at once take turns
instead of spending the same token twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from monitor.checks.context import CheckContext
from monitor.checks.oauth import (
    ACCEPT_JSON,
    Scrubber,
    base_facts,
    client,
    described,
    evidence_of,
    http_failure,
    json_object,
    rejected_client,
    token_error,
)
from monitor.checks.result import CheckResult
from monitor.checks.settings import OAuthRefreshCheck
from monitor.checks.tokenstore import (
    TokenBusy,
    TokenInsecure,
    TokenMissing,
    TokenStoreError,
    fingerprint,
    read_token,
    refresh_lock,
    replace_token,
    token_file_path,
)
from monitor.checks.web import failed_transport, send
from monitor.failures import Failure

_TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")


def run_oauth_refresh(settings: OAuthRefreshCheck, context: CheckContext) -> CheckResult:
    """A real refresh with monitor's own grant, then (optionally) use the access token.

    A rotated refresh token is written before anything else happens: the
    server has already revoked the old one, so losing the new one would
    leave monitor with no grant at all.
    """
    scrub = Scrubber()
    return scrub.result(_run(settings, context, scrub))


def _run(settings: OAuthRefreshCheck, context: CheckContext, scrub: Scrubber) -> CheckResult:
    path = token_file_path(settings, context)
    facts = {**base_facts(settings, context), "token_file": str(path)}
    timeout = settings.timeout.total_seconds()
    with client(settings, context, timeout) as http:
        try:
            with refresh_lock(path, wait_s=timeout, name=settings.name):
                refreshed = _refresh(settings, context, http, path, facts, scrub)
        except TokenBusy as exc:
            return CheckResult.skip(str(exc), facts=facts)
        except TokenStoreError as exc:
            return CheckResult.failed(_token_file_class(exc), str(exc), facts=facts)
        if isinstance(refreshed, CheckResult):
            return refreshed
        response, access_token = refreshed
        if settings.verify_url is None:
            return CheckResult.passed(_refreshed(facts), **evidence_of(response, facts))
        return _verify(http, settings.verify_url, access_token, timeout, facts, scrub)


def _token_file_class(exc: TokenStoreError) -> Failure:
    if isinstance(exc, TokenMissing):
        return Failure.MISCONFIGURED
    if isinstance(exc, TokenInsecure):
        return Failure.CREDENTIALS_INSECURE
    return Failure.CREDENTIALS_INVALID


def _refresh(
    settings: OAuthRefreshCheck,
    context: CheckContext,
    http: httpx.Client,
    path: Path,
    facts: dict[str, Any],
    scrub: Scrubber,
) -> CheckResult | tuple[httpx.Response, str]:
    """Under the lock: read the token, spend it, save the rotated one; the access token."""
    old_token = read_token(path, name=settings.name)
    scrub.add(old_token)
    facts["old_fingerprint"] = fingerprint(old_token)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": old_token,
        "client_id": settings.client_id,
    }
    if settings.scope:
        form["scope"] = settings.scope
    timeout = settings.timeout.total_seconds()
    try:
        response, body = send(
            http, "POST", settings.token_url, deadline_s=timeout, data=form, headers=ACCEPT_JSON
        )
    except httpx.HTTPError as exc:
        return failed_transport(exc, settings.token_url, timeout, facts=facts)
    facts["token_status"] = response.status_code
    document = json_object(body) if response.status_code == 200 else None
    if document is not None:
        scrub.add(*(document.get(key) for key in _TOKEN_FIELDS))
        # Saved first, even from an odd answer: the server may have revoked the old one.
        unsaved = _save_rotation(settings, context, path, old_token, document, facts)
        if unsaved is not None:
            return CheckResult.failed(
                Failure.MISCONFIGURED, unsaved, **evidence_of(response, facts)
            )
    access_token = document.get("access_token") if document else None
    if not isinstance(access_token, str) or not access_token:
        return _refused(response, body, document, settings.name, facts, scrub)
    return response, access_token


def _refused(
    response: httpx.Response,
    body: bytes,
    document: Mapping[str, Any] | None,
    name: str,
    facts: dict[str, Any],
    scrub: Scrubber,
) -> CheckResult:
    evidence = evidence_of(response, facts)
    if response.status_code == 200:
        return CheckResult.failed(
            Failure.PROTOCOL_ERROR,
            f"token endpoint answered 200 without an access_token ({_shape(document)})",
            **evidence,
        )
    judged = token_error(response, body, scrub, evidence)
    if isinstance(judged, CheckResult):
        return judged
    if judged.code == "invalid_grant":
        return CheckResult.failed(
            Failure.INVALID_GRANT,
            "monitor's refresh token was refused (used, revoked or expired): "
            f"run `monitor token set {name}` with a fresh one{described(judged, scrub)}",
            **evidence,
        )
    return CheckResult.failed(
        Failure.PROTOCOL_ERROR, rejected_client(response.status_code, judged, scrub), **evidence
    )


def _save_rotation(
    settings: OAuthRefreshCheck,
    context: CheckContext,
    path: Path,
    old_token: str,
    document: Mapping[str, Any],
    facts: dict[str, Any],
) -> str | None:
    """Write a rotated refresh token now; a reason if it could not be saved.

    Not over a token someone stored meanwhile (``monitor token set`` does not
    take the lock): that one is kept, and the rotation discarded.
    """
    new_token = document.get("refresh_token")
    rotated = isinstance(new_token, str) and bool(new_token) and new_token != old_token
    facts["rotated"] = rotated
    expires_in = document.get("expires_in")
    facts["expires_in"] = expires_in if isinstance(expires_in, int | float) else None
    if not rotated or not isinstance(new_token, str):
        facts["new_fingerprint"] = None
        return None
    facts["new_fingerprint"] = fingerprint(new_token)
    try:
        saved = replace_token(path, old_token, new_token, settings.client_id, context.now())
    except (OSError, ValueError) as exc:
        return (
            f"refreshed, but the rotated refresh token could not be saved to {path} "
            f"({_os_reason(exc)}); the old one is now spent: fix the folder and run "
            f"`monitor token set {settings.name}`"
        )
    facts["rotation_saved"] = saved
    return None


def _verify(
    http: httpx.Client,
    url: str,
    access_token: str,
    timeout: float,
    facts: dict[str, Any],
    scrub: Scrubber,
) -> CheckResult:
    """Use the new access token once: 200 is the only proof it is accepted."""
    bearer = {"Authorization": f"Bearer {access_token}"}
    try:
        response, body = send(http, "GET", url, deadline_s=timeout, headers=bearer)
    except httpx.HTTPError as exc:
        failed = failed_transport(exc, url, timeout, facts=facts)
        return replace(failed, detail=f"refreshed, but verify_url failed: {failed.detail}")
    facts["verify_status"] = response.status_code
    evidence = evidence_of(response, facts)
    if response.status_code == 200:
        return CheckResult.passed(
            _refreshed(facts) + "; the new access token is accepted at verify_url", **evidence
        )
    if response.status_code == 401:
        challenge = response.headers.get("www-authenticate")
        shown = f": {scrub.excerpt(challenge, 120)}" if challenge else ""
        return CheckResult.failed(
            Failure.AUTH_REJECTED,
            f"refreshed, but the new access token is refused at verify_url (401){shown}",
            **evidence,
        )
    failure = http_failure(response, body, "verify_url", scrub)
    if failure is None:
        failure = (Failure.UNEXPECTED_STATUS, f"verify_url answered {response.status_code}")
    return CheckResult.failed(failure[0], "refreshed, but " + failure[1], **evidence)


def _refreshed(facts: Mapping[str, Any]) -> str:
    if not facts.get("rotated"):
        rotated = "no rotation"
    elif facts.get("rotation_saved") is False:
        rotated = (
            "rotated, but the token file changed meanwhile (`monitor token set`?): "
            "kept what it holds and discarded the rotated token"
        )
    else:
        rotated = "rotated and saved the new refresh token"
    expires = facts.get("expires_in")
    lifetime = f", access token valid {expires:g}s" if isinstance(expires, int | float) else ""
    return f"refresh ok ({rotated}{lifetime})"


def _shape(document: Mapping[str, Any] | None) -> str:
    """Which keys came back (never their values): enough to debug a 200 without a token."""
    if document is None:
        return "body is not a JSON object"
    keys = ", ".join(sorted(str(k) for k in document)[:10]) or "none"
    return f"keys: {keys}"


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
