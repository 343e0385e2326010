"""A secret written into the config file is refused, by name and with the fix, never echoed.

Secrets come from the environment as ``${NAME}``; the rule for which keys are
secret-bearing is in ``monitor/configsecrets.py``; which names name a secret is
``names_secret`` in ``monitor/redact.py``, the narrow reading of the vocabulary
whose broad reading, ``looks_secret_name``, redaction uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.redact import REDACTED, looks_secret_name, names_secret, redact_text, redact_url
from tests.conftest import run_monitor

KEY = "sk-ant-api03-Zq8xV2-literal-key-0123456789"
CHECK = """
[[check]]
name = "api-authenticated"
kind = "http"
url = "https://api.anthropic.com/v1/models"
headers = {{ x-api-key = "{key}", anthropic-version = "2023-06-01" }}
"""
FIX = (
    'check[0] ("api-authenticated").headers.x-api-key: the value is a secret written into '
    'the file (not shown); write "${API_AUTHENTICATED_X_API_KEY}" in its place and set '
    "API_AUTHENTICATED_X_API_KEY in the environment (secrets never go in this file)"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[monitor]\nprobe = "laptop"\n' + text, encoding="utf-8")
    return path


def refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    return str(refused.value)


def test_a_literal_api_key_is_refused_naming_the_file_the_key_and_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, CHECK.format(key=KEY))

    assert refusal(path) == f"{path}: 1 problem in config\n  {FIX}"


def test_monitor_run_stops_with_exit_2_and_never_prints_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, CHECK.format(key=KEY))

    done = run_monitor(path, "run", timeout=60)

    assert done.returncode == 2
    assert done.stderr == f"error: {path}: 1 problem in config\n  {FIX}\n"
    assert KEY not in done.stdout + done.stderr
    assert "Zq8xV2" not in done.stderr
    assert not (tmp_path / "monitor.db").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            '[[check]]\nname = "api"\nkind = "http"\nurl = "https://h.example/"\n'
            'headers = { Authorization = "Bearer abc.def.ghi" }\n',
            'check[0] ("api").headers.Authorization: the value is a secret written into the '
            'file (not shown); write "Bearer ${API_AUTHORIZATION}" in its place',
            id="bearer-header-keeps-its-scheme",
        ),
        pytest.param(
            '[[check]]\nname = "api"\nkind = "http"\nurl = "https://h.example/"\n'
            """body = '{"client_id": "c", "client_secret": "abc", "max_tokens": 5}'\n""",
            "check[0] (\"api\").body: field 'client_secret' is a secret written into the file "
            '(not shown); write "${API_CLIENT_SECRET}" in its place',
            id="json-body-field",
        ),
        pytest.param(
            '[[check]]\nname = "api"\nkind = "http"\nurl = "https://h.example/"\n'
            'body = "grant_type=refresh_token&refresh_token=abc123"\n',
            "check[0] (\"api\").body: field 'refresh_token' is a secret written into the file",
            id="form-body-field",
        ),
        pytest.param(
            '[[notify]]\nname = "mail"\nurl = "mailtos://me:abc@example.com?to=o@example.com"\n',
            'notify[0] ("mail").url: the URL\'s password is a secret written into the file (not shown); '
            'write "${MAIL_PASSWORD}" in its place and set MAIL_PASSWORD in the environment',
            id="notify-password",
        ),
        pytest.param(
            '[[notify]]\nname = "hook"\nurl = "json://hooks.example.com/send?token=abc"\n',
            "notify[0] (\"hook\").url: query parameter 'token' is a secret written into the file",
            id="notify-query-token",
        ),
        pytest.param(
            '[[notify]]\nname = "team"\nurl = "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js"\n',
            'notify[0] ("team").url: path segment 1 is a secret written into the '
            'file (not shown); write "${TEAM_TOKEN}" in its place',
            id="notify-path-token",
        ),
        pytest.param(
            '[[notify]]\nname = "hook"\nurl = "json://hooks.example.com/send?pass=abc"\n',
            "notify[0] (\"hook\").url: query parameter 'pass' is a secret written into the file "
            '(not shown); write "${HOOK_PASS}" in its place',
            id="notify-query-pass",
        ),
        pytest.param(
            '[[check]]\nname = "api"\nkind = "http"\nurl = "https://h.example/"\n'
            """body = '{"user": "me", "pass": "abc"}'\n""",
            "check[0] (\"api\").body: field 'pass' is a secret written into the file",
            id="json-body-pass",
        ),
        pytest.param(
            '[[check]]\nname = "api"\nkind = "http"\nurl = "https://h.example/"\n'
            'body = "user=me&pwd=abc"\n',
            "check[0] (\"api\").body: field 'pwd' is a secret written into the file",
            id="form-body-pwd",
        ),
        pytest.param(
            '[[check]]\nname = "api"\nkind = "http"\nurl = "https://h.example/"\n'
            """body = '{"session_id": "abc"}'\n""",
            "check[0] (\"api\").body: field 'session_id' is a secret written into the file",
            id="json-body-session",
        ),
        pytest.param(
            '[[check]]\nname = "gemini"\nkind = "http"\n'
            'url = "https://generativelanguage.googleapis.com/v1beta/models?key=abc"\n',
            "check[0] (\"gemini\").url: query parameter 'key' is a secret written into the file "
            '(not shown); write "${GEMINI_KEY}" in its place and set GEMINI_KEY in the environment',
            id="check-url-query-key",
        ),
        pytest.param(
            '[[check]]\nname = "o"\nkind = "oauth_token_endpoint"\nclient_id = "c"\n'
            'token_url = "https://auth.example/token?client_secret=abc"\n',
            "check[0] (\"o\").token_url: query parameter 'client_secret' is a secret written into "
            "the file (not shown); remove it: ${NAME} is filled in only in an http check's url, "
            "its headers and its body",
            id="token-url-query-secret-has-no-reference",
        ),
        pytest.param(
            '[database]\nurl = "postgresql+psycopg://monitor:abc@db.example/monitor"\n',
            "database.url: the URL's password is a secret written into the file (not shown); write "
            '"${DATABASE_PASSWORD}" in its place',
            id="database-password",
        ),
    ],
)
def test_each_secret_bearing_key_is_named_with_its_fix(
    tmp_path: Path, text: str, problem: str
) -> None:
    message = refusal(write(tmp_path, text))

    assert f"\n  {problem}" in message
    assert "abc" not in message.replace("abc.example", "")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(CHECK.format(key="${ANTHROPIC_API_KEY}"), id="header-reference"),
        pytest.param(
            '[[check]]\nname = "api"\nkind = "http"\nurl = "https://h.example/"\n'
            'headers = { Authorization = "Bearer ${API_TOKEN}", Idempotency-Key = "run-1", '
            'content-type = "application/json", anthropic-version = "2023-06-01" }\n'
            """body = '{"model": "m-20240307", "max_tokens": 1, "api_key": "${KEY}"}'\n""",
            id="references-and-plain-headers",
        ),
        pytest.param(
            '[[check]]\nname = "oauth"\nkind = "oauth_token_endpoint"\n'
            'token_url = "https://auth.example/token"\n'
            'client_id = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"\n',
            id="public-client-id",
        ),
        pytest.param(
            '[[notify]]\nname = "a"\nurl = "ntfy://ntfy.sh/my-topic"\n'
            '[[notify]]\nname = "b"\nurl = "ntfy://ntfy.sh/${NTFY_TOPIC}"\n'
            '[[notify]]\nname = "c"\nurl = "mailtos://me:${SMTP_PASSWORD}@example.com?to=o@x.org"\n'
            '[[notify]]\nname = "d"\nurl = "json://127.0.0.1:8080/hooks/monitor"\n',
            id="notify-without-written-secrets",
        ),
        pytest.param(
            '[[check]]\nname = "gemini"\nkind = "http"\n'
            'url = "https://generativelanguage.googleapis.com/v1beta/models?key=${GEMINI_KEY}"\n',
            id="check-url-query-reference",
        ),
        pytest.param(
            '[database]\nurl = "postgresql+psycopg://monitor:${DB_PASSWORD}@db.example/monitor"\n',
            id="database-password-reference",
        ),
    ],
)
def test_references_and_plain_values_are_accepted(
    tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "pw")

    load_config(write(tmp_path, text))


# Real Apprise URLs (tokens made up in the services' own shapes) and the part each names.
APPRISE = [
    ("json://ip-172-31-20-123.ec2.internal/hook", []),
    ("json://alerts.example.com/prometheus-alertmanager-01", []),
    ("ntfy://ntfy.sh/my-topic", []),
    ("ntfy://ntfy.example.com/backups2024ops", []),
    ("json://[::1]:8080/hooks/monitor-v2", []),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", ["path segment 2"]),
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", ["path segment 1"]),
    ("gotify://gotify.example.com/A4ZudDRdLT40L5X", ["path segment 1"]),
    (
        "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/123456",
        ["the part after ':' in the URL's host"],
    ),
    (
        "pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi",
        ["the URL's user name", "the URL's host"],
    ),
    ("mailtos://me:hunter4@example.com?to=o@example.com", ["the URL's password"]),
    ("json://hooks.example.com/send?pass=hunter4", ["query parameter 'pass'"]),
]


@pytest.mark.parametrize(("url", "parts"), APPRISE, ids=[u.split("/")[2][:24] for u, _ in APPRISE])
def test_apprise_tokens_are_named_by_position_and_host_names_and_topics_are_not(
    tmp_path: Path, url: str, parts: list[str]
) -> None:
    path = write(tmp_path, f'[[notify]]\nname = "n"\nurl = "{url}"\n')
    if not parts:
        load_config(path)
        return

    message = refusal(path)

    assert [
        line.split(": ", 1)[1].split(" is a secret")[0] for line in message.splitlines()[1:]
    ] == (parts)
    for piece in (
        "hunter4",
        "TIiajkdnlazk",
        "JHMHI8qB",
        "A4ZudDRd",
        "AAHdqTcv",
        "uQiRzpo4",
        "azGDOReP",
    ):
        assert piece not in message


# Each name: is its value hidden when written down (looks_secret_name, broad),
# and is a literal value refused in the config (names_secret, narrow)?
# Redaction errs towards hiding; the config refusal towards accepting.
SECRET_NAMES = [
    # both: the last word is a secret's
    ("x-api-key", True, True),
    ("Authorization", True, True),
    ("X-Auth-Token", True, True),
    ("Ocp-Apim-Subscription-Key", True, True),
    ("apiKey", True, True),
    ("client_secret", True, True),
    ("refresh_token", True, True),
    ("Cookie", True, True),
    ("pass", True, True),
    ("pwd", True, True),
    ("password2", True, True),
    ("session", True, True),
    ("session_id", True, True),
    ("sessionId", True, True),
    ("PHPSESSID", True, True),
    ("X-Amz-Signature", True, True),
    ("sig", True, True),
    ("accessToken", True, True),
    ("token_value", True, True),
    # hidden, not refused: a secret word inside a compound, or a pair the
    # config accepts (redacted before the one-rule change, and again now)
    ("passkey", True, False),
    ("passcode", True, False),
    ("userkey", True, False),
    ("devkey", True, False),
    ("clientkey", True, False),
    ("hashkey", True, False),
    ("sharedaccesskey", True, False),
    ("accountkey", True, False),
    ("appsecretproof", True, False),
    ("authcode", True, False),
    ("auth_code", True, False),
    ("password_hash", True, False),
    ("token_hash", True, False),
    ("api_key_id", True, False),
    ("access_key_id", True, False),
    ("credential_id", True, False),
    ("key_id", True, False),
    ("Sec-WebSocket-Key", True, False),
    ("public_key", True, False),
    ("next_page_token", True, False),
    ("Idempotency-Key", True, False),
    ("max_tokens", True, False),
    ("token_type_hint", True, False),
    # neither: named for what went wrong or what kind it is, or no secret word
    ("token_type", False, False),
    ("auth_error", False, False),
    ("WWW-Authenticate", False, False),
    ("anthropic-version", False, False),
    ("client_id", False, False),
]


@pytest.mark.parametrize(("name", "redacted", "refused"), SECRET_NAMES)
def test_redaction_hides_every_secret_looking_name_and_the_config_refuses_fewer(
    tmp_path: Path, name: str, redacted: bool, refused: bool
) -> None:
    body = f'[[check]]\nname = "a"\nkind = "http"\nurl = "https://h.example/"\nbody = "{name}=v1"\n'
    path = write(tmp_path, body)
    if refused:
        refusal(path)
    else:
        load_config(path)

    assert names_secret(name) is refused
    assert looks_secret_name(name) is redacted
    assert (REDACTED in redact_url(f"https://h.example/?{name}=v1")) is redacted
    assert (REDACTED in redact_text(f'{{"{name}": "v1", "page": 2}}')) is redacted
    assert (REDACTED in redact_text(f"{name}=v1 page=2")) is redacted
    assert (REDACTED in redact_text(f"{name}: Zx9aQw7ErTy5")) is redacted
