"""``oauth_token_endpoint``: is the vendor's token endpoint up and speaking OAuth?

It sends a refresh with a token that cannot be valid: an RFC 6749 §5.2
``invalid_grant`` proves the endpoint is up without touching anybody's grant.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from monitor.checks.context import CheckContext
from monitor.checks.oauth import (
    ACCEPT_JSON,
    Scrubber,
    base_facts,
    client,
    evidence_of,
    rejected_client,
    token_error,
)
from monitor.checks.result import CheckResult
from monitor.checks.settings import OAuthTokenEndpointCheck
from monitor.checks.web import failed_transport, send
from monitor.failures import Failure

PROBE_PREFIX = "monitor-probe-"


def run_oauth_token_endpoint(
    settings: OAuthTokenEndpointCheck, context: CheckContext
) -> CheckResult:
    """Refresh with a fresh, deliberately invalid token; ``invalid_grant`` means up.

    The token is random per run so no server-side cache or replay
    protection can turn one run's answer into the next one's.
    """
    probe_token = PROBE_PREFIX + secrets.token_hex(8)
    scrub = Scrubber(probe_token)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": probe_token,
        "client_id": settings.client_id,
    }
    timeout = settings.timeout.total_seconds()
    facts = base_facts(settings, context)
    with client(settings, context, timeout) as http:
        try:
            response, body = send(
                http, "POST", settings.token_url, deadline_s=timeout, data=form, headers=ACCEPT_JSON
            )
        except httpx.HTTPError as exc:
            return scrub.result(failed_transport(exc, settings.token_url, timeout, facts=facts))
    return scrub.result(_judge(response, body, facts, scrub))


def _judge(
    response: httpx.Response, body: bytes, facts: dict[str, Any], scrub: Scrubber
) -> CheckResult:
    evidence = evidence_of(response, facts)
    if response.status_code == 200:
        return CheckResult.failed(
            Failure.PROTOCOL_ERROR,
            "token endpoint answered 200 to a deliberately invalid refresh token: a captive "
            "portal or intercepting proxy may be answering in its place (or it is not an "
            "OAuth token endpoint, or one that accepts anything)",
            **evidence,
        )
    judged = token_error(response, body, scrub, evidence)
    if isinstance(judged, CheckResult):
        return judged
    if judged.code == "invalid_grant":
        return CheckResult.passed(
            "token endpoint up: answered invalid_grant as expected", **evidence
        )
    return CheckResult.failed(
        Failure.PROTOCOL_ERROR, rejected_client(response.status_code, judged, scrub), **evidence
    )
