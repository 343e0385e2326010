"""OAuth checks against a real token endpoint (Authlib's) on 127.0.0.1.

The probe must tell "up and speaking OAuth" (invalid_grant) from every way
an auth server fails; the refresh must rotate without ever losing the only
valid token, and catch the stale case where a refresh "works" but the new
access token is refused. No token may reach a detail or a fact.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner

from monitor.checks.context import CheckContext
from monitor.checks.oauth_probe import PROBE_PREFIX, run_oauth_token_endpoint
from monitor.checks.oauth_refresh import run_oauth_refresh
from monitor.checks.result import CheckResult
from monitor.checks.settings import OAuthRefreshCheck, OAuthTokenEndpointCheck
from monitor.checks.tokenstore import (
    default_state_dir,
    fingerprint,
    read_token,
    refresh_lock,
    token_file_path,
    write_token,
)
from monitor.cli import token as token_cli
from monitor.cli.app import App
from monitor.cli.token import set_token, token
from monitor.failures import Failure
from tests.conftest import WriteConfig, tls_files
from tests.loopback import wait_until
from tests.oauth_server import (
    ANSWER_429,
    ANSWER_500,
    CLIENT_ID,
    RESOURCE_PATH,
    TOKEN_PATH,
    Canned,
    OAuthServer,
)

NOW_ISO = "2026-04-14T10:00:00+00:00"


@pytest.fixture
def oauth() -> Iterator[OAuthServer]:
    with OAuthServer() as server:
        yield server


@pytest.fixture
def context(tmp_path: Path) -> CheckContext:
    return CheckContext(config_dir=tmp_path, state_dir=tmp_path / "state", env={})


def probe(token_url: str, **extra: Any) -> OAuthTokenEndpointCheck:
    return OAuthTokenEndpointCheck.model_validate(
        {
            "name": "probe",
            "kind": "oauth_token_endpoint",
            "token_url": token_url,
            "client_id": CLIENT_ID,
            "timeout": "2s",
            **extra,
        }
    )


def refresh(oauth: OAuthServer, **extra: Any) -> OAuthRefreshCheck:
    fields = {
        "name": "vendor-refresh",
        "kind": "oauth_refresh",
        "token_url": oauth.token_url,
        "client_id": CLIENT_ID,
        "verify_url": oauth.resource_url,
        "timeout": "2s",
        **extra,
    }
    return OAuthRefreshCheck.model_validate({k: v for k, v in fields.items() if v is not None})


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{TOKEN_PATH}"


def stored(oauth: OAuthServer, settings: OAuthRefreshCheck, context: CheckContext) -> str:
    """Give monitor a grant, as `monitor token set` would: returns the refresh token."""
    issued = oauth.issue_refresh_token()
    write_token(token_file_path(settings, context), issued, CLIENT_ID, context.now())
    return issued


def assert_secret_free(result: CheckResult, *secrets: str) -> None:
    said = repr(result) + json.dumps(result.facts, default=str)
    for secret in secrets:
        assert secret not in said


def token_requests(oauth: OAuthServer) -> list[dict[str, str]]:
    return [form for path, form in oauth.requests if path == TOKEN_PATH]


# -- oauth_token_endpoint -------------------------------------------------------


def test_probe_passes_when_the_endpoint_answers_invalid_grant(oauth, context):
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)

    assert result.ok, result.detail
    assert result.failure_class is None
    assert result.detail == "token endpoint up: answered invalid_grant as expected"
    assert result.http_status == 400
    assert result.request_id == "req_1"
    assert result.server_date is not None
    (sent,) = token_requests(oauth)
    assert sent["grant_type"] == "refresh_token"
    assert sent["client_id"] == CLIENT_ID
    assert sent["refresh_token"].startswith(PROBE_PREFIX)


def test_probe_sends_a_new_invalid_token_every_run(oauth, context):
    for _ in range(2):
        assert run_oauth_token_endpoint(probe(oauth.token_url), context).ok
    first, second = (form["refresh_token"] for form in token_requests(oauth))
    assert first != second


def test_probe_never_spends_a_real_grant(oauth, context):
    real = oauth.issue_refresh_token()
    run_oauth_token_endpoint(probe(oauth.token_url), context)
    assert oauth.is_refresh_token_valid(real)


def test_probe_passes_on_invalid_grant_with_401_too(oauth, context):
    oauth.answer(TOKEN_PATH, Canned(401, b'{"error": "invalid_grant"}'))
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)
    assert result.ok
    assert result.http_status == 401


def test_probe_fails_protocol_error_naming_invalid_client_for_a_wrong_client_id(oauth, context):
    result = run_oauth_token_endpoint(probe(oauth.token_url, client_id="nobody"), context)

    assert not result.ok
    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert "invalid_client" in result.detail
    assert "client_id is wrong" in result.detail


def test_probe_fails_server_error_with_the_oauth_error_on_500(oauth, context):
    oauth.answer(TOKEN_PATH, ANSWER_500)
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)

    assert result.failure_class == Failure.SERVER_ERROR
    assert result.detail == "OAuth error 500: server_error (upstream down)"
    assert result.http_status == 500


def test_probe_fails_server_error_with_a_snippet_of_an_html_502(oauth, context):
    page = b"<html><body><h1>502 Bad Gateway</h1>\n\n<p>nginx</p></body></html>"
    oauth.answer(TOKEN_PATH, Canned(502, page, content_type="text/html"))
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)

    assert result.failure_class == Failure.SERVER_ERROR
    assert result.detail.startswith("OAuth error 502: <html><body><h1>502 Bad Gateway</h1> <p>")


def test_probe_fails_rate_limited_on_429(oauth, context):
    oauth.answer(TOKEN_PATH, ANSWER_429)
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)

    assert result.failure_class == Failure.RATE_LIMITED
    assert "Retry-After: 30" in result.detail


def test_probe_fails_protocol_error_when_an_invalid_token_gets_200(oauth, context):
    body = b'{"access_token": "at-should-never-show", "refresh_token": "rt-should-never-show"}'
    oauth.answer(TOKEN_PATH, Canned(200, body))
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)

    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert "200" in result.detail
    assert "a captive portal or intercepting proxy may be answering" in result.detail
    assert_secret_free(result, "at-should-never-show", "rt-should-never-show")


@pytest.mark.parametrize("status", [200, 400])
def test_probe_fails_protocol_error_on_html_with_a_redacted_snippet(oauth, context, status):
    page = (
        b"<html><title>Sign in</title>"
        b"<p>Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig</p>"
        b"<p>key sk-ant-api03-SECRETSECRETSECRET</p></html>"
    )
    oauth.answer(TOKEN_PATH, Canned(status, page, content_type="text/html"))
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)

    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert_secret_free(result, "eyJhbGciOiJIUzI1NiJ9", "SECRETSECRETSECRET")
    if status == 400:
        assert "text/html, not an OAuth error: <html><title>Sign in</title>" in result.detail
        assert "REDACTED" in result.detail


def test_probe_fails_protocol_error_on_json_without_an_oauth_error(oauth, context):
    oauth.answer(TOKEN_PATH, Canned(400, b'{"message": "bad request"}'))
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)
    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert "not an OAuth error" in result.detail


@pytest.mark.parametrize(
    ("status", "failure_class"),
    [(403, Failure.FORBIDDEN), (404, Failure.UNEXPECTED_STATUS), (302, Failure.UNEXPECTED_STATUS)],
)
def test_probe_names_other_statuses(oauth, context, status, failure_class):
    headers = {"Location": "https://login.example/?token=abc"} if status == 302 else {}
    oauth.answer(TOKEN_PATH, Canned(status, b"", headers=headers))
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)

    assert result.failure_class == failure_class
    assert result.http_status == status
    assert "token=abc" not in result.detail


def test_probe_fails_connect_refused_on_a_closed_port(context):
    result = run_oauth_token_endpoint(probe(closed_port_url()), context)
    assert result.failure_class == Failure.CONNECT_REFUSED
    assert result.http_status is None


def test_probe_fails_timeout_when_the_server_hangs(oauth, context):
    oauth.hang(TOKEN_PATH)
    result = run_oauth_token_endpoint(probe(oauth.token_url, timeout="200ms"), context)
    assert result.failure_class == Failure.TIMEOUT
    assert "0.2s" in result.detail


def test_probe_times_out_on_a_token_endpoint_that_trickles_its_answer(server, context):
    # A byte every 0.3 s never trips httpx's per-read timeout; the overall deadline must.
    answer = b'{"error": "invalid_grant", "pad": "' + b"x" * 40 + b'"}'
    server.route(TOKEN_PATH, answer, status=400, trickle=0.3)  # else a pass, once all of it arrived
    began = time.monotonic()
    result = run_oauth_token_endpoint(probe(server.url + TOKEN_PATH, timeout="1s"), context)
    assert result.failure_class == Failure.TIMEOUT
    assert time.monotonic() - began < 2.0


DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("status", [400, 500])
def test_probe_fails_protocol_error_on_json_nested_too_deep(oauth, context, status):
    oauth.answer(TOKEN_PATH, Canned(status, DEEP_JSON))
    result = run_oauth_token_endpoint(probe(oauth.token_url), context)
    assert result.failure_class == (
        Failure.PROTOCOL_ERROR if status == 400 else Failure.SERVER_ERROR
    )


@pytest.fixture
def tls_oauth(tls_authority, tmp_path: Path) -> Iterator[tuple[OAuthServer, Path]]:
    server_context, ca_file = tls_files(tls_authority, tmp_path)
    with OAuthServer(ssl_context=server_context) as server:
        yield server, ca_file


def test_probe_over_https_trusts_the_configured_ca_and_nothing_else(tls_oauth, context):
    server, ca_file = tls_oauth
    trusted = run_oauth_token_endpoint(probe(server.token_url, ca_file=str(ca_file)), context)
    untrusted = run_oauth_token_endpoint(probe(server.token_url), context)

    assert trusted.ok, trusted.detail
    assert untrusted.failure_class == Failure.TLS_ERROR


def test_probe_records_that_tls_verification_was_off(tls_oauth, context):
    server, _ = tls_oauth
    result = run_oauth_token_endpoint(probe(server.token_url, verify_tls=False), context)
    assert result.ok
    assert result.facts["tls_verification"] == "off"


# -- oauth_refresh ------------------------------------------------------------------


def test_refresh_rotates_saves_the_new_token_and_verifies_it(oauth, context):
    settings = refresh(oauth)
    old = stored(oauth, settings, context)

    result = run_oauth_refresh(settings, context)

    assert result.ok, result.detail
    path = token_file_path(settings, context)
    new = read_token(path)
    assert new != old
    assert oauth.is_refresh_token_valid(new)
    assert not oauth.is_refresh_token_valid(old)
    assert result.http_status == 200
    assert result.facts["rotated"] is True
    assert result.facts["expires_in"] == 3600
    assert result.facts["old_fingerprint"] == fingerprint(old)
    assert result.facts["new_fingerprint"] == fingerprint(new)
    assert result.facts["verify_status"] == 200
    assert "accepted at verify_url" in result.detail
    assert [p for p, _ in oauth.requests] == [TOKEN_PATH, RESOURCE_PATH]
    assert_secret_free(result, old, new, "at-")


def test_the_old_token_is_refused_by_the_server_after_rotation(oauth, context):
    settings = refresh(oauth)
    old = stored(oauth, settings, context)
    assert run_oauth_refresh(settings, context).ok

    answer = httpx.post(
        oauth.token_url,
        data={"grant_type": "refresh_token", "refresh_token": old, "client_id": CLIENT_ID},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_refresh_runs_again_and_again_on_the_rotated_tokens(oauth, context):
    settings = refresh(oauth)
    stored(oauth, settings, context)
    fingerprints = []
    for _ in range(3):
        result = run_oauth_refresh(settings, context)
        assert result.ok, result.detail
        fingerprints.append(result.facts["new_fingerprint"])
    assert len(set(fingerprints)) == 3


def test_refresh_fails_invalid_grant_when_the_stored_token_was_already_spent(oauth, context):
    settings = refresh(oauth)
    old = stored(oauth, settings, context)
    assert run_oauth_refresh(settings, context).ok
    write_token(token_file_path(settings, context), old, CLIENT_ID, context.now())

    result = run_oauth_refresh(settings, context)

    assert result.failure_class == Failure.INVALID_GRANT
    assert result.detail.startswith(
        "monitor's refresh token was refused (used, revoked or expired): "
        "run `monitor token set vendor-refresh` with a fresh one"
    )
    assert result.http_status == 400
    assert_secret_free(result, old)


def test_refresh_fails_invalid_grant_for_an_unknown_token(oauth, context):
    settings = refresh(oauth)
    write_token(token_file_path(settings, context), "rt-never-issued", CLIENT_ID, context.now())
    result = run_oauth_refresh(settings, context)
    assert result.failure_class == Failure.INVALID_GRANT
    assert_secret_free(result, "rt-never-issued")


def test_refresh_fails_auth_rejected_when_the_new_access_token_is_refused(oauth, context):
    settings = refresh(oauth)
    old = stored(oauth, settings, context)
    oauth.set_stale_access_tokens()

    result = run_oauth_refresh(settings, context)

    assert result.failure_class == Failure.AUTH_REJECTED
    assert result.detail.startswith(
        "refreshed, but the new access token is refused at verify_url (401)"
    )
    assert result.http_status == 401
    # The rotation was saved before the verify failed: the grant is not lost.
    new = read_token(token_file_path(settings, context))
    assert new != old
    assert oauth.is_refresh_token_valid(new)
    assert result.facts["rotated"] is True


def test_refresh_without_verify_url_passes_on_the_refresh_alone(oauth, context):
    settings = refresh(oauth, verify_url=None)
    stored(oauth, settings, context)
    result = run_oauth_refresh(settings, context)
    assert result.ok
    assert result.detail == (
        "refresh ok (rotated and saved the new refresh token, access token valid 3600s)"
    )
    assert [p for p, _ in oauth.requests] == [TOKEN_PATH]


def test_refresh_sends_the_configured_scope(oauth, context):
    settings = refresh(oauth, scope="profile")
    stored(oauth, settings, context)
    assert run_oauth_refresh(settings, context).ok
    (sent,) = token_requests(oauth)
    assert sent["scope"] == "profile"


def test_refresh_fails_misconfigured_with_the_hint_when_no_token_is_stored(oauth, context):
    settings = refresh(oauth)
    result = run_oauth_refresh(settings, context)

    assert result.failure_class == Failure.MISCONFIGURED
    assert "run `monitor token set vendor-refresh`" in result.detail
    assert oauth.requests == []


def test_refresh_refuses_a_token_file_others_can_read(oauth, context):
    settings = refresh(oauth)
    issued = stored(oauth, settings, context)
    path = token_file_path(settings, context)
    path.chmod(0o644)

    result = run_oauth_refresh(settings, context)

    assert result.failure_class == Failure.CREDENTIALS_INSECURE
    assert f"chmod 600 {path}" in result.detail
    assert oauth.requests == []
    assert oauth.is_refresh_token_valid(issued)


@pytest.mark.parametrize(
    ("canned", "failure_class"),
    [(ANSWER_500, Failure.SERVER_ERROR), (ANSWER_429, Failure.RATE_LIMITED)],
)
def test_refresh_keeps_the_token_when_the_token_endpoint_fails(
    oauth, context, canned, failure_class
):
    settings = refresh(oauth)
    issued = stored(oauth, settings, context)
    oauth.answer(TOKEN_PATH, canned)

    result = run_oauth_refresh(settings, context)

    assert result.failure_class == failure_class
    assert read_token(token_file_path(settings, context)) == issued
    assert oauth.is_refresh_token_valid(issued)


def test_refresh_fails_timeout_when_the_token_endpoint_hangs(oauth, context):
    settings = refresh(oauth, timeout="200ms")
    issued = stored(oauth, settings, context)
    oauth.hang(TOKEN_PATH)
    result = run_oauth_refresh(settings, context)
    assert result.failure_class == Failure.TIMEOUT
    assert read_token(token_file_path(settings, context)) == issued


def test_refresh_fails_connect_refused_on_a_closed_port(oauth, context):
    settings = refresh(oauth, token_url=closed_port_url())
    stored(oauth, settings, context)
    assert run_oauth_refresh(settings, context).failure_class == Failure.CONNECT_REFUSED


def test_refresh_fails_protocol_error_for_a_wrong_client_id(oauth, context):
    settings = refresh(oauth, client_id="nobody")
    stored(oauth, settings, context)
    result = run_oauth_refresh(settings, context)
    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert "invalid_client" in result.detail


def test_refresh_fails_protocol_error_on_200_without_an_access_token(oauth, context):
    settings = refresh(oauth)
    stored(oauth, settings, context)
    oauth.answer(TOKEN_PATH, Canned(200, b'{"refresh_token": "rt-leak-me-not"}'))

    result = run_oauth_refresh(settings, context)

    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert "keys: refresh_token" in result.detail
    assert_secret_free(result, "rt-leak-me-not")
    # A rotated token is kept even from an odd answer: the old one may be revoked.
    assert read_token(token_file_path(settings, context)) == "rt-leak-me-not"
    assert result.facts["rotated"] is True


def test_refresh_says_so_when_the_rotated_token_cannot_be_saved(oauth, context, monkeypatch):
    settings = refresh(oauth)
    old = stored(oauth, settings, context)

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    result = run_oauth_refresh(settings, context)
    monkeypatch.undo()

    assert result.failure_class == Failure.MISCONFIGURED
    assert "could not be saved" in result.detail
    assert "No space left on device" in result.detail
    assert read_token(token_file_path(settings, context)) == old  # untouched, never torn
    assert [p for p, _ in oauth.requests] == [TOKEN_PATH]  # no verify after a lost rotation


def test_refresh_fails_timeout_when_verify_url_hangs(oauth, context):
    settings = refresh(oauth, timeout="200ms")
    stored(oauth, settings, context)
    oauth.hang(RESOURCE_PATH)
    result = run_oauth_refresh(settings, context)
    assert result.failure_class == Failure.TIMEOUT
    assert result.detail.startswith("refreshed, but verify_url failed: timed out")
    assert result.facts["rotated"] is True


def test_refresh_fails_server_error_when_verify_url_answers_500(oauth, context):
    settings = refresh(oauth)
    stored(oauth, settings, context)
    oauth.answer(RESOURCE_PATH, ANSWER_500)
    result = run_oauth_refresh(settings, context)
    assert result.failure_class == Failure.SERVER_ERROR
    assert result.detail.startswith("refreshed, but OAuth error 500")


def test_refresh_fails_timeout_on_a_token_endpoint_that_trickles_its_answer(server, context):
    answer = b'{"access_token": "at-slow", "refresh_token": "rt-slow", "pad": "' + b"x" * 40
    server.route(TOKEN_PATH, answer + b'"}', trickle=0.3)
    settings = OAuthRefreshCheck.model_validate(
        {
            "name": "trickle",
            "kind": "oauth_refresh",
            "token_url": server.url + TOKEN_PATH,
            "client_id": CLIENT_ID,
            "timeout": "1s",
        }
    )
    path = token_file_path(settings, context)
    write_token(path, "rt-seeded-for-trickle", CLIENT_ID, context.now())
    began = time.monotonic()
    result = run_oauth_refresh(settings, context)
    assert result.failure_class == Failure.TIMEOUT
    assert time.monotonic() - began < 2.0
    assert read_token(path) == "rt-seeded-for-trickle"


def test_refresh_fails_protocol_error_on_a_200_nested_too_deep(oauth, context):
    settings = refresh(oauth)
    issued = stored(oauth, settings, context)
    oauth.answer(TOKEN_PATH, Canned(200, DEEP_JSON))
    result = run_oauth_refresh(settings, context)
    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert "body is not a JSON object" in result.detail
    assert read_token(token_file_path(settings, context)) == issued


def test_refresh_fails_credentials_invalid_for_a_token_file_nested_too_deep(oauth, context):
    settings = refresh(oauth)
    path = token_file_path(settings, context)
    write_token(path, "rt-replaced-below", CLIENT_ID, context.now())
    path.write_bytes(DEEP_JSON)
    result = run_oauth_refresh(settings, context)
    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert oauth.requests == []


def test_refresh_redacts_the_reason_when_verify_url_does_not_resolve(oauth, context, monkeypatch):
    host = "sk-ant-api03-hostnamesecret.invalid"
    real = socket.getaddrinfo

    def resolve(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    settings = refresh(oauth, verify_url=f"http://{host}/v1/me")
    stored(oauth, settings, context)
    result = run_oauth_refresh(settings, context)

    assert result.failure_class == Failure.DNS_FAILURE
    assert result.detail.startswith("refreshed, but verify_url failed: DNS lookup failed")
    assert "sk-REDACTED" in result.detail
    assert_secret_free(result, "hostnamesecret")


# Known token values a server echoes back must go, even without a recognizable shape.
BARE_REFRESH = "Q7vN2kLp9XwR4tYs8HmC3bJd6FgZ1aEu"
BARE_ACCESS = "M4nB7vC2xZ9lK3jH6gF1dS8aP5oI0uYt"
BARE_NEW_REFRESH = "W2eR5tY8uI1oP4aS7dF0gH3jK6lZ9xCv"


def test_refresh_scrubs_the_sent_token_from_an_echoed_error_description(oauth, context):
    settings = refresh(oauth)
    write_token(token_file_path(settings, context), BARE_REFRESH, CLIENT_ID, context.now())
    echo = {
        "error": "invalid_grant",
        # Long enough that a 120-character excerpt would cut the token in two.
        "error_description": "grant unknown, " + "x" * 80 + f" token {BARE_REFRESH} rejected",
    }
    oauth.answer(TOKEN_PATH, Canned(400, json.dumps(echo).encode()))

    result = run_oauth_refresh(settings, context)

    assert result.failure_class == Failure.INVALID_GRANT
    assert "REDACTED" in result.detail
    assert_secret_free(result, BARE_REFRESH[:8], BARE_REFRESH[-8:])


def test_refresh_scrubs_the_new_tokens_from_what_verify_url_echoes(oauth, context):
    settings = refresh(oauth)
    stored(oauth, settings, context)
    answer = {"access_token": BARE_ACCESS, "refresh_token": BARE_NEW_REFRESH, "expires_in": 60}
    oauth.answer(TOKEN_PATH, Canned(200, json.dumps(answer).encode()))
    echoed = f"upstream refused {BARE_ACCESS} (grant {BARE_NEW_REFRESH})".encode()
    oauth.answer(RESOURCE_PATH, Canned(502, echoed, content_type="text/plain"))

    result = run_oauth_refresh(settings, context)

    assert result.failure_class == Failure.SERVER_ERROR
    assert (
        result.detail
        == "refreshed, but OAuth error 502: upstream refused REDACTED (grant REDACTED)"
    )
    assert_secret_free(result, BARE_ACCESS, BARE_NEW_REFRESH)


def run_in_thread(
    settings: OAuthRefreshCheck, context: CheckContext
) -> tuple[threading.Thread, list[CheckResult]]:
    results: list[CheckResult] = []
    thread = threading.Thread(target=lambda: results.append(run_oauth_refresh(settings, context)))
    thread.start()
    return thread, results


def test_a_refresh_already_in_progress_elsewhere_is_a_skip_not_a_second_refresh(oauth, context):
    oauth.slow(TOKEN_PATH, 1.0)
    settings = refresh(oauth, verify_url=None, timeout="3s")
    issued = stored(oauth, settings, context)
    thread, first = run_in_thread(settings, context)
    assert wait_until(lambda: token_requests(oauth))  # the first one is on the wire

    second = run_oauth_refresh(refresh(oauth, verify_url=None, timeout="300ms"), context)
    thread.join(timeout=10)

    assert second.skipped, second
    assert second.failure_class is None
    assert second.detail == "refresh already in progress by another process"
    assert first[0].ok, first[0].detail
    assert [form["refresh_token"] for form in token_requests(oauth)] == [issued]
    assert oauth.is_refresh_token_valid(read_token(token_file_path(settings, context)))


def test_concurrent_refreshes_take_turns_even_where_reuse_revokes_the_grant(oauth, context):
    oauth.slow(TOKEN_PATH, 0.5)
    oauth.revoke_grant_on_reuse()
    settings = refresh(oauth, verify_url=None, timeout="3s")
    stored(oauth, settings, context)

    runs = [run_in_thread(settings, context) for _ in range(2)]
    for thread, _ in runs:
        thread.join(timeout=10)

    results = [result for _, (result,) in runs]
    assert [r.failure_class for r in results] == [None, None], [r.detail for r in results]
    sent = [form["refresh_token"] for form in token_requests(oauth)]
    assert len(sent) == len(set(sent)) == 2  # one after the other, each with the latest token
    assert oauth.is_refresh_token_valid(read_token(token_file_path(settings, context)))


def test_a_token_stored_while_refreshing_is_kept_over_the_rotated_one(oauth, context):
    oauth.slow(TOKEN_PATH, 0.5)
    settings = refresh(oauth, timeout="3s")
    path = token_file_path(settings, context)
    stored(oauth, settings, context)
    thread, results = run_in_thread(settings, context)
    assert wait_until(lambda: token_requests(oauth))
    from_the_user = oauth.issue_refresh_token(user="bob")
    write_token(path, from_the_user, CLIENT_ID, context.now())  # as `monitor token set` does
    thread.join(timeout=10)

    (result,) = results
    assert result.ok, result.detail
    assert "the token file changed meanwhile" in result.detail
    assert result.facts["rotation_saved"] is False
    assert read_token(path) == from_the_user


def test_refresh_over_https_with_the_configured_ca(tls_oauth, context):
    server, ca_file = tls_oauth
    settings = refresh(server, ca_file=str(ca_file))
    stored(server, settings, context)
    result = run_oauth_refresh(settings, context)
    assert result.ok, result.detail


# -- monitor token set ------------------------------------------------------------


@pytest.fixture
def token_config(write_config: WriteConfig, oauth) -> Path:
    return write_config(
        extra=(
            "[[check]]\n"
            'name = "vendor-refresh"\n'
            'kind = "oauth_refresh"\n'
            f'token_url = "{oauth.token_url}"\n'
            f'client_id = "{CLIENT_ID}"\n'
            f'verify_url = "{oauth.resource_url}"\n'
            "\n[[check]]\n"
            'name = "vendor-probe"\n'
            'kind = "oauth_token_endpoint"\n'
            f'token_url = "{oauth.token_url}"\n'
            f'client_id = "{CLIENT_ID}"\n'
        )
    )


def invoke(config: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(token, list(args), input=input, obj=App(str(config)))


def test_token_set_stores_the_token_privately_and_prints_only_its_fingerprint(token_config):
    secret = "rt-from-the-user-0123456789"
    result = invoke(token_config, "set", "vendor-refresh", input=secret + "\n")

    assert result.exit_code == 0, result.output
    path = default_state_dir(token_config) / "tokens" / "vendor-refresh.json"
    assert result.output == (
        f"stored refresh token for vendor-refresh in {path} (fingerprint {fingerprint(secret)}…)\n"
    )
    assert secret not in result.output
    assert read_token(path) == secret
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert json.loads(path.read_text())["client_id"] == CLIENT_ID


def test_token_set_then_the_check_refreshes_with_that_token(token_config, oauth):
    issued = oauth.issue_refresh_token()
    assert invoke(token_config, "set", "vendor-refresh", input=issued + "\n").exit_code == 0
    app = App(str(token_config))
    (settings, _) = app.config.checks
    assert isinstance(settings, OAuthRefreshCheck)
    context = CheckContext(
        config_dir=token_config.parent, state_dir=default_state_dir(token_config)
    )

    result = run_oauth_refresh(settings, context)

    assert result.ok, result.detail
    assert not oauth.is_refresh_token_valid(issued)


def test_token_set_honours_a_configured_token_file(write_config, tmp_path):
    config = write_config(
        extra=(
            '[[check]]\nname = "r"\nkind = "oauth_refresh"\n'
            'token_url = "https://auth.example/token"\nclient_id = "c"\n'
            'token_file = "private/r-token.json"\n'
        )
    )
    result = invoke(config, "set", "r", input="rt-abc\n")
    assert result.exit_code == 0, result.output
    assert read_token(tmp_path / "private" / "r-token.json") == "rt-abc"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nosuch", "no check named 'nosuch'"),
        ("vendor-probe", "check 'vendor-probe' is of kind 'oauth_token_endpoint'"),
    ],
)
def test_token_set_is_a_usage_error_for_a_missing_or_wrong_check(token_config, name, message):
    result = invoke(token_config, "set", name, input="rt-should-not-be-stored\n")

    assert result.exit_code == 2
    assert message in result.output
    assert "(configured oauth_refresh checks: vendor-refresh)" in result.output
    assert not default_state_dir(token_config).exists()


@pytest.mark.parametrize("given", ["", "\n", "   \n", "two words\n"])
def test_token_set_is_a_usage_error_without_a_usable_token(token_config, given):
    result = invoke(token_config, "set", "vendor-refresh", input=given)
    assert result.exit_code == 2
    assert not default_state_dir(token_config).exists()
    if given.strip():
        assert "two words" not in result.output


def test_token_set_asks_without_echo_at_a_terminal(token_config, monkeypatch):
    asked: list[dict[str, Any]] = []

    def prompt(text: str, **options: Any) -> str:
        asked.append({"text": text, **options})
        return "rt-typed-at-a-terminal"

    monkeypatch.setattr(token_cli, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(click, "prompt", prompt)
    result = invoke(token_config, "set", "vendor-refresh")

    assert result.exit_code == 0, result.output
    assert asked[0]["hide_input"] is True
    assert "rt-typed-at-a-terminal" not in result.output
    path = default_state_dir(token_config) / "tokens" / "vendor-refresh.json"
    assert read_token(path) == "rt-typed-at-a-terminal"


def test_token_set_documents_itself_with_an_example():
    assert set_token.help is not None
    assert "Example" in set_token.help
    assert "monitor token set" in set_token.help
    assert token.help is not None


def test_token_set_does_not_replace_the_file_under_a_refresh_in_progress(token_config, monkeypatch):
    path = default_state_dir(token_config) / "tokens" / "vendor-refresh.json"
    assert (
        invoke(token_config, "set", "vendor-refresh", input="rt-first-0123456789\n").exit_code == 0
    )
    monkeypatch.setattr(token_cli, "LOCK_WAIT_S", 0.2)

    with refresh_lock(path, wait_s=1.0):
        result = invoke(token_config, "set", "vendor-refresh", input="rt-second-0123456789\n")

    assert result.exit_code == 1
    assert "a refresh of vendor-refresh is in progress" in result.output
    assert read_token(path) == "rt-first-0123456789"
