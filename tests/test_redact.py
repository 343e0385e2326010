"""redact_url and redact_text: secrets in a URL or an error text never reach what monitor
stores, logs or prints."""

from __future__ import annotations

import contextlib
import html
import json
import re
import sqlite3
import time
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest

from monitor.cli import main
from monitor.envvars import expand_query
from monitor.redact import REDACTED, forget_environment, redact_text, redact_url
from tests.conftest import fixture_bytes
from tests.loopback import LoopbackServer

TABLE = [
    pytest.param(
        "https://status.example.com/api?api_key=abc123&page=2",
        "https://status.example.com/api?api_key=REDACTED&page=2",
        id="api-key",
    ),
    pytest.param(
        "https://status.example.com/feed.atom?token=abc123",
        "https://status.example.com/feed.atom?token=REDACTED",
        id="token",
    ),
    pytest.param(
        "https://status.example.com/feed?access_token=abc123",
        "https://status.example.com/feed?access_token=REDACTED",
        id="access-token",
    ),
    pytest.param(
        "https://status.example.com/feed?user=bob&password=hunter2",
        "https://status.example.com/feed?user=bob&password=REDACTED",
        id="password",
    ),
    pytest.param(
        "https://bucket.example.com/s.json?X-Amz-Date=20260731T000000Z&X-Amz-Signature=f00d",
        "https://bucket.example.com/s.json?X-Amz-Date=20260731T000000Z&X-Amz-Signature=REDACTED",
        id="signature",
    ),
    pytest.param(
        "https://status.example.com/?sig=abc&client_secret=def&session=ghi",
        "https://status.example.com/?sig=REDACTED&client_secret=REDACTED&session=REDACTED",
        id="sig-secret-session",
    ),
    pytest.param(
        "https://status.example.com/?API_KEY=abc&Token=def",
        "https://status.example.com/?API_KEY=REDACTED&Token=REDACTED",
        id="any-case",
    ),
    pytest.param(
        "https://status.example.com/?page=2&per_page=100&token=abc&sort=asc",
        "https://status.example.com/?page=2&per_page=100&token=REDACTED&sort=asc",
        id="others-kept-in-order",
    ),
    pytest.param(
        "https://status.example.com/?token=abc&token=def",
        "https://status.example.com/?token=REDACTED&token=REDACTED",
        id="repeated-key",
    ),
    pytest.param(
        "https://user:pass@status.example.com/history.atom",
        "https://REDACTED@status.example.com/history.atom",
        id="user-and-password",
    ),
    pytest.param(
        "https://user@status.example.com/history.atom",
        "https://REDACTED@status.example.com/history.atom",
        id="user-only",
    ),
    pytest.param(
        "https://user:p%40ss@status.example.com:8443/x?token=abc&page=1",
        "https://REDACTED@status.example.com:8443/x?token=REDACTED&page=1",
        id="user-info-port-and-query",
    ),
    pytest.param(
        "https://www.githubstatus.com/api/v2/summary.json",
        "https://www.githubstatus.com/api/v2/summary.json",
        id="no-query",
    ),
    pytest.param(
        "http://127.0.0.1:8080/status#components",
        "http://127.0.0.1:8080/status#components",
        id="no-query-with-fragment",
    ),
    pytest.param(
        "https://status.example.com/?page=2&tab=history",
        "https://status.example.com/?page=2&tab=history",
        id="no-secret-in-query",
    ),
    pytest.param(
        "https://status.example.com/?token=&page=",
        "https://status.example.com/?token=REDACTED&page=",
        id="blank-values",
    ),
    pytest.param(
        "https://status.example.com/?page=&tab=",
        "https://status.example.com/?page=&tab=",
        id="blank-values-no-secret",
    ),
    pytest.param("not a url", "not a url", id="not-a-url"),
    pytest.param("", "", id="empty"),
]


@pytest.mark.parametrize(("url", "expected"), TABLE)
def test_it_redacts_secrets_in_a_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), TABLE)
def test_it_leaves_a_redacted_url_as_it_is(url: str, expected: str) -> None:
    assert redact_url(expected) == expected


def test_it_keeps_the_other_values_when_the_query_is_re_encoded() -> None:
    url = "https://status.example.com/search?q=a%20b&ids=1,2&token=abc&when=2026-07-31T10:00"

    redacted = redact_url(url)

    assert "abc" not in redacted
    assert parse_qsl(urlsplit(redacted).query) == [
        ("q", "a b"),
        ("ids", "1,2"),
        ("token", REDACTED),
        ("when", "2026-07-31T10:00"),
    ]


# --- end to end: a token in a source's URL --------------------------------------------------


TOKEN = "tok3n-s3cr3t"


def poll_a_feed_with_a_token(
    server: LoopbackServer, write_config, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str]:
    server.route(
        "/history.atom",
        fixture_bytes("saucelabs/us-west-1-history.atom"),
        content_type="application/atom+xml",
    )
    config = write_config(
        sources=[
            {"name": "sauce", "kind": "feed", "url": f"{server.url}/history.atom?token={TOKEN}"}
        ]
    )
    printed = ""
    for args in (["poll"], ["poll"], ["sources", "--json"], ["sources"]):
        with pytest.raises(SystemExit) as exited:
            main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        assert exited.value.code in (0, None), err
        printed += out + err
    return config, printed


def test_it_stores_and_prints_a_source_url_with_its_token_redacted(
    server: LoopbackServer, write_config, capsys
) -> None:
    config, printed = poll_a_feed_with_a_token(server, write_config, capsys)

    # The real URL still reaches the server (the second poll was conditional).
    assert [path for path, _ in server.requests] == ["/history.atom", "/history.atom"]
    assert server.not_modified == 1
    assert TOKEN not in printed
    with pytest.raises(SystemExit):
        main(["--config", str(config), "sources", "--json"])
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["url"] == f"{server.url}/history.atom?token=REDACTED"


def test_it_writes_no_token_anywhere_in_the_database(
    server: LoopbackServer, write_config, capsys
) -> None:
    config, _ = poll_a_feed_with_a_token(server, write_config, capsys)

    leaks = []
    with contextlib.closing(sqlite3.connect(config.parent / "monitor.db")) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                if TOKEN in repr(row):
                    leaks.append((table, row))
    assert leaks == []


def test_it_redacts_credentials_in_a_proxy_setting_without_a_scheme() -> None:
    from monitor.redact import redact_url

    assert redact_url("user:pass@proxy.corp:8080") == "REDACTED@proxy.corp:8080"
    assert redact_url("proxy.corp:8080") == "proxy.corp:8080"


# --- redact_text: secrets in free text -------------------------------------------------------

# (text, what is left of it): every shape a tool's log line has been seen to quote a secret in.
TEXT_TABLE = [
    # header-like and field-like names, every spelling and quoting
    pytest.param(
        "API Error: 401 x-api-key: ghp_SECRETGITHUB1234567890",
        "API Error: 401 x-api-key: REDACTED",
        id="x-api-key-header",
    ),
    pytest.param("X-Api-Key: abc123XYZ rejected", "X-Api-Key: REDACTED rejected", id="X-Api-Key"),
    pytest.param("x-api-key:abc123XYZ", "x-api-key:REDACTED", id="header-without-space"),
    pytest.param("401 token=PLAINTOKENSECRET99", "401 token=REDACTED", id="token=value"),
    pytest.param(
        "GET /feed?token=PLAIN99&page=2 -> 401",
        "GET /feed?token=REDACTED&page=2 -> 401",
        id="token-in-a-query",
    ),
    pytest.param("api_key = s3cr3tValue", "api_key = REDACTED", id="spaces-around-equals"),
    pytest.param('401 "apiKey": "CAMELSECRET777"', '401 "apiKey": "REDACTED"', id="camelCase-json"),
    pytest.param('{"api_key":"abc123"}', '{"api_key":"REDACTED"}', id="json-without-spaces"),
    pytest.param(
        '{"headers":{"x-api-key":"sk_live_STRIPESECRET55"}}',
        '{"headers":{"x-api-key":"REDACTED"}}',
        id="nested-json-header",
    ),
    pytest.param(
        "{'access_token': 'abc123', 'expires_in': 3600}",
        "{'access_token': 'REDACTED', 'expires_in': 3600}",
        id="python-dict-repr",
    ),
    pytest.param(
        '{"refresh_token": "def456", "client_secret": "ghi789"}',
        '{"refresh_token": "REDACTED", "client_secret": "REDACTED"}',
        id="refresh-token-and-client-secret",
    ),
    pytest.param(
        '{"password": "correct horse battery staple"}',
        '{"password": "REDACTED"}',
        id="quoted-value-with-spaces",
    ),
    pytest.param("user=bob passwd=hunter2", "user=bob passwd=REDACTED", id="passwd"),
    pytest.param("password: letmein", "password: REDACTED", id="password-colon-word"),
    pytest.param(
        r'body "{\"access_token\":\"abc123\"}"',
        r'body "{\"access_token\":\"REDACTED\"}"',
        id="json-escaped-in-a-string",
    ),
    pytest.param('{"access_token": "eyJhbGciOi', '{"access_token": "REDACTED', id="cut-short"),
    pytest.param("SESSION_ID=abc123def", "SESSION_ID=REDACTED", id="upper-case-session"),
    pytest.param("credentials=>abc123", "credentials=>REDACTED", id="ruby-hash-arrow"),
    # Authorization: any scheme, credentials of any length
    pytest.param(
        "Authorization: Basic dXNlcjpTRUNSRVRQQVNT 401",
        "Authorization: Basic REDACTED 401",
        id="authorization-basic",
    ),
    pytest.param(
        "Authorization:Bearer short12", "Authorization:Bearer REDACTED", id="authorization-bearer"
    ),
    pytest.param("authorization: Token abc", "authorization: Token REDACTED", id="token-scheme"),
    pytest.param(
        "Proxy-Authorization: Negotiate YIIabc==",
        "Proxy-Authorization: Negotiate REDACTED",
        id="proxy-authorization",
    ),
    pytest.param(
        '"authorization": "Bearer abc.def"',
        '"authorization": "Bearer REDACTED"',
        id="authorization-in-json",
    ),
    pytest.param(
        'Authorization: Digest username="bob", response="6629fae4939", nonce="a"',
        "Authorization: Digest REDACTED",
        id="authorization-digest-params",
    ),
    pytest.param("Authorization: sk0123abc", "Authorization: REDACTED", id="no-scheme"),
    # Bearer wherever it appears, any length
    pytest.param("Bearer abc", "Bearer REDACTED", id="bearer-short"),
    pytest.param("bearer x", "bearer REDACTED", id="bearer-one-char"),
    pytest.param(
        "x-echo: Bearer eyJ0eXAi.eyJzdWIi.sig", "x-echo: Bearer REDACTED", id="bearer-echoed"
    ),
    # cookies: every pair
    pytest.param(
        "401 cookie: sessionKey=sk-ant-sid01-COOKIESECRET; lang=en",
        "401 cookie: REDACTED",
        id="cookie",
    ),
    pytest.param("Set-Cookie: sid=abc; Path=/; HttpOnly", "Set-Cookie: REDACTED", id="set-cookie"),
    # user info in a URL inside free text
    pytest.param(
        "401 https://user:PASSWORDINURL@api.example.com/x",
        "401 https://REDACTED@api.example.com/x",
        id="url-user-and-password",
    ),
    pytest.param(
        "proxy http://bob:p%40ss@proxy.corp:3128 refused: connect ECONNREFUSED",
        "proxy http://REDACTED@proxy.corp:3128 refused: connect ECONNREFUSED",
        id="url-in-error-text",
    ),
    # known token shapes, anywhere
    pytest.param(
        "invalid key sk-ant-api03-Zx9aQw7ErTy5UiOp", "invalid key sk-REDACTED", id="sk-anthropic"
    ),
    pytest.param("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_REDACTED", id="sk_live_"),
    pytest.param("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_test_REDACTED", id="sk_test_"),
    pytest.param("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_REDACTED", id="ghp_"),
    pytest.param("gho_16C7e42F292c6912E7710c838347Ae178B4a", "gho_REDACTED", id="gho_"),
    pytest.param("ghs_16C7e42F292c6912E7710c838347Ae178B4a", "ghs_REDACTED", id="ghs_"),
    pytest.param("github_pat_11ABCDEFG0123456789_abcdef", "github_pat_REDACTED", id="github_pat_"),
    pytest.param("slack xoxb-1234-5678-abcdefgh", "slack xoxb-REDACTED", id="xoxb-"),
    pytest.param("xoxp-1234-5678-abcdefgh", "xoxp-REDACTED", id="xoxp-"),
    pytest.param("key AKIAIOSFODNN7EXAMPLE denied", "key AKIAREDACTED denied", id="aws-key-id"),
    pytest.param(
        "jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJl rejected",
        "jwt REDACTED rejected",
        id="jwt",
    ),
    # a field named for an error keeps its text, but not a token it quotes
    pytest.param(
        '{"auth_error": "bad Bearer abc123"}',
        '{"auth_error": "bad Bearer REDACTED"}',
        id="error-field-quoting-a-token",
    ),
    pytest.param(
        "Failed to refresh token: sk-ant-ort01-abcdefghij",
        "Failed to refresh token: REDACTED",
        id="prose-name-with-a-real-token",
    ),
    # what people pipe into monitor import: command lines, prose, keys of every shape
    pytest.param(
        "claude --api-key Zx9aQw7ErTy5 -p hi", "claude --api-key REDACTED -p hi", id="flag"
    ),
    pytest.param(
        "run --token=Zx9aQw7ErTy5 --verbose", "run --token=REDACTED --verbose", id="flag="
    ),
    pytest.param("gh --password 'hunter2'", "gh --password 'REDACTED'", id="flag-quoted"),
    pytest.param("invalid api key 'Zx9aQw7ErTy5'", "invalid api key 'REDACTED'", id="prose-quoted"),
    pytest.param("token Zx9aQw7ErTy5Ui rejected", "token REDACTED rejected", id="prose-token"),
    pytest.param("key a1b2c3d4e5f6g7h8 not valid", "key REDACTED not valid", id="prose-key"),
    pytest.param("credentials AbC123xyz789 refused", "credentials REDACTED refused", id="creds"),
    pytest.param(
        "invalid key sk-ant-api03-Zx9aQw7Er", "invalid key sk-REDACTED", id="prose-prefix"
    ),
    pytest.param(
        "curl -u alice:hunter2 https://x", "curl -u alice:REDACTED https://x", id="curl-u"
    ),
    pytest.param("--user 'bob:s3cret' -X GET", "--user 'bob:REDACTED' -X GET", id="curl-user"),
    pytest.param(
        "-----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEA1x -----END RSA PRIVATE KEY----- next",
        "-----BEGIN RSA PRIVATE KEY-----REDACTED-----END RSA PRIVATE KEY----- next",
        id="pem",
    ),
    pytest.param(
        "key file: -----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA",
        "key file: -----BEGIN OPENSSH PRIVATE KEY-----REDACTED",
        id="pem-cut-short",
    ),
    pytest.param(
        "POST https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXX: 404",
        "POST https://hooks.slack.com/services/REDACTED: 404",
        id="slack-webhook",
    ),
    pytest.param(
        "https://discord.com/api/webhooks/1234/abcDEF-ghi failed",
        "https://discord.com/api/webhooks/REDACTED failed",
        id="discord-webhook",
    ),
    pytest.param("AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaREDACTED", id="google"),
    pytest.param("npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_REDACTED", id="npm"),
    pytest.param("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "hf_REDACTED", id="huggingface"),
    pytest.param(
        "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "SG.REDACTED",
        id="sendgrid",
    ),
]

# Error text a classifier must still read: nothing here is a secret.
KEPT = [
    'API Error: 401 {"type":"error","error":{"type":"authentication_error",'
    '"message":"Invalid authentication credentials"}}',
    '{"type":"authentication_error","message":"invalid x-api-key"}',
    "Invalid API key · Please run /login",
    "OAuth token has expired. Please obtain a new token.",
    "Refresh token has expired, please log in again",
    '{"error": "invalid_grant", "error_description": "refresh token revoked"}',
    '{"token_type": "Bearer", "expires_in": 3600}',
    "Failed to refresh token: invalid_grant",
    "Error refreshing token: socket hang up",
    "session: 401 Unauthorized",
    "token: ECONNREFUSED",
    "authentication_error: invalid x-api-key",
    "Invalid authentication: token expired",
    "Bearer token expired",
    'WWW-Authenticate: Bearer realm="api", error="invalid_token"',
    "Authorization header missing",
    "connect ETIMEDOUT 160.79.104.10:443",
    "https://api.anthropic.com/v1/messages?beta=true returned 503",
    "mailto:support@example.com",
    "risk-averse task-runner sk-short",
    "XAKIAIOSFODNN7EXAMPLE",
    "xbearer abc",
    "token expired",
    "key not found",
    "token invalid_grant",
    "API key 401 error",
    "KeyError: 'model'",
    "hf_hub_download failed: 404",
    "error: --no-auth --verbose",
    "run with -u root",
    "monkey 123abc45",
    "cache key 123abc45 not found",
    "key us-east-1 unavailable",
    "--max-tokens 4096",
    "docker login --password-stdin registry.example.com",
    "--token-file /tmp/t",
    "--auth-type basic",
    "",
]


@pytest.mark.parametrize(("text", "expected"), TEXT_TABLE)
def test_it_redacts_secrets_in_free_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_it_leaves_error_text_without_secrets_as_it_is(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text", [p.values[0] for p in TEXT_TABLE] + [p.values[1] for p in TEXT_TABLE] + KEPT
)
def test_it_redacts_text_idempotently(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


def as_text(value: object) -> str:
    """A value of a ``pytest.param`` in TEXT_TABLE: always a str."""
    assert isinstance(value, str), value
    return value


def test_it_scrubs_every_shape_in_one_line_and_keeps_the_text_around_them() -> None:
    # Last: a quote cut short runs to the end of the text. Left out: a private
    # key cut short, which does too.
    table = sorted(
        (p for p in TEXT_TABLE if p.id != "pem-cut-short"), key=lambda p: p.id == "cut-short"
    )
    line = " | ".join(as_text(p.values[0]) for p in table)

    assert redact_text(line, limit=10_000) == " | ".join(as_text(p.values[1]) for p in table)


def test_it_collapses_whitespace_and_caps_the_excerpt() -> None:
    redacted = redact_text("token=abc\n\n  x-api-key:\tdef " + "y" * 500, limit=40)

    assert redacted.startswith("token=REDACTED x-api-key: REDACTED y")
    assert len(redacted) == 40
    assert redacted.endswith("…")


@pytest.mark.parametrize("unit", ["key", "Key-", "eyJ", "session", "Bearer ", "auth: ", "://"])
def test_it_scrubs_a_pathological_line_quickly(unit: str) -> None:
    began = time.perf_counter()
    redact_text(unit * 3000, limit=2000)
    assert time.perf_counter() - began < 1.0


def test_it_redacts_the_exact_values_of_secret_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A key of no known shape, which only its being in the environment gives away.
    monkeypatch.setenv("ACME_API_KEY", "plainwords")
    monkeypatch.setenv("ACME_REGION", "plainwordsregion")  # not named for a secret
    forget_environment()
    try:
        assert redact_text("proxy said: plainwords is not allowed") == (
            "proxy said: REDACTED is not allowed"
        )
        assert redact_text("region plainwordsregion") == "region REDACTEDregion"
    finally:
        monkeypatch.delenv("ACME_API_KEY")
        forget_environment()
    assert redact_text("proxy said: plainwords") == "proxy said: plainwords"


# A key of no known shape holding every character the encodings change.
SENT = 'q8Zt/Xy0 Kp3+Jk5&Lm="é\\'


@pytest.mark.parametrize(
    "form",
    [
        SENT,
        expand_query("https://h.example/?code=${K}", {"K": SENT}).split("code=")[1],
        quote(SENT, safe=""),
        re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), quote(SENT, safe="")),  # %2f
        quote(SENT),
        quote_plus(SENT),
        quote_plus(SENT, safe="/"),
        json.dumps(SENT)[1:-1],
        json.dumps(SENT, ensure_ascii=False)[1:-1],
        json.dumps(SENT)[1:-1].replace("/", "\\/"),
        html.escape(SENT),
    ],
)
def test_a_known_value_is_redacted_in_every_form_it_was_sent_in(form: str) -> None:
    assert redact_text(f"Cannot GET /fn?x={form}&page=2", known={SENT}) == (
        "Cannot GET /fn?x=REDACTED&page=2"
    )


def test_a_secret_environment_value_is_redacted_percent_encoded_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    value = "q8Zt/Xy0Kp3+Jk5&Lm=="
    monkeypatch.setenv("ACME_FUNCTION_KEY", value)
    forget_environment()
    for form in (value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]):
        assert redact_text(f"Cannot GET /fn?x={form}&page=2") == "Cannot GET /fn?x=REDACTED&page=2"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://[x]/?token=abc", "http://[x]/?token=REDACTED"),
        ("http://u:p@[x/", "http://REDACTED@[x/"),
        ("http://[::1", "http://[::1"),
    ],
)
def test_it_scrubs_a_url_it_cannot_parse_as_text(url: str, expected: str) -> None:
    assert redact_url(url) == expected
