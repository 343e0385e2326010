"""Every check kind runs with known secrets; none of their bytes may reach disk, logs or output.

The sweep reads the database file and its WAL byte for byte, the captured
logs at DEBUG, and everything the CLI printed, and looks for each secret
and for any 12-character piece of it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

import pytest

from monitor.checks.tokenstore import default_state_dir, write_token
from monitor.cli import main
from tests.loopback import LoopbackServer
from tests.oauth_server import CLIENT_ID, OAuthServer

API_KEY = "sk-ant-api03-SweepSecretApiKey0123456789abcdefXYZ"
ACCESS = "sk-ant-oat01-SweepSecretAccessToken0123456789abcdef"
REFRESH = "sk-ant-ort01-SweepSecretRefreshToken0123456789abcd"
# No recognisable shape: only knowing the value can keep it out.
PLAIN = "AIzaNoKnownPrefixSweepSecret0123456789xyz"


def pieces(secret: str, size: int = 12) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def write_credentials(home: Path) -> Path:
    path = home / ".claude" / ".credentials.json"
    path.parent.mkdir(parents=True)
    expired_ms = int((time.time() - 3600) * 1000)
    document = {
        "claudeAiOauth": {
            "accessToken": ACCESS,
            "refreshToken": REFRESH,
            "expiresAt": expired_ms,
            "scopes": ["user:inference"],
            "subscriptionType": "max",
        }
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    path.chmod(0o644)  # insecure on purpose: the failure path must not leak either
    return path


def test_it_keeps_every_secret_out_of_the_database_logs_and_output(
    tmp_path: Path, server: LoopbackServer, capsys, caplog, monkeypatch
) -> None:
    # The vendor echoes the key back in a 401 and in a header, as real APIs sometimes do.
    server.route(
        "/v1/models",
        json.dumps({"error": {"message": f"invalid x-api-key: {API_KEY}"}}).encode(),
        status=401,
        headers={"x-echo": f"Bearer {API_KEY}"},
    )
    server.route("/v1/messages", b'{"error": "auth"}', status=401)
    server.route(
        "/v2/echo", f"API key not valid: {PLAIN}".encode(), status=400, content_type="text/plain"
    )
    credentials = write_credentials(tmp_path / "home")
    with socket.socket() as occupied, OAuthServer() as oauth:
        occupied.bind(("127.0.0.1", 0))
        occupied.listen()
        busy_port = occupied.getsockname()[1]
        config = tmp_path / "config.toml"
        config.write_text(
            f"""
[[check]]
name = "reachable"
kind = "http"
url = "{server.url}/v1/messages"
expect_status = [401]

[[check]]
name = "authenticated"
kind = "http"
url = "{server.url}/v1/models"
headers = {{ x-api-key = "${{SWEEP_API_KEY}}", authorization = "Bearer ${{SWEEP_API_KEY}}" }}

[[check]]
name = "plain-key"
kind = "http"
url = "{server.url}/v2/echo?key=${{SWEEP_PLAIN_KEY}}"
headers = {{ x-goog-api-key = "${{SWEEP_PLAIN_KEY}}" }}

[[check]]
name = "oauth-endpoint"
kind = "oauth_token_endpoint"
token_url = "{oauth.token_url}"
client_id = "{CLIENT_ID}"

[[check]]
name = "oauth-refresh"
kind = "oauth_refresh"
token_url = "{oauth.token_url}"
client_id = "{CLIENT_ID}"
verify_url = "{oauth.resource_url}"

[[check]]
name = "credentials"
kind = "credentials_file"
path = "{credentials}"

[[check]]
name = "dns"
kind = "dns"
host = "localhost"

[[check]]
name = "tcp"
kind = "tcp"
host = "127.0.0.1"
port = {server.url.rsplit(":", 1)[1]}

[[check]]
name = "port"
kind = "local_port"
ports = "{busy_port}"

[[check]]
name = "clock"
kind = "clock"
url = "{server.url}/v1/messages"
""",
            encoding="utf-8",
        )
        seeded = oauth.issue_refresh_token()
        write_token(
            default_state_dir(config) / "tokens" / "oauth-refresh.json",
            seeded,
            CLIENT_ID,
            now=__import__("datetime").datetime.now(__import__("datetime").UTC),
        )
        monkeypatch.setenv("SWEEP_API_KEY", API_KEY)
        monkeypatch.setenv("SWEEP_PLAIN_KEY", PLAIN)
        caplog.set_level(logging.DEBUG)

        outputs = []
        for args in (
            ["check"],
            ["check", "--json"],
            ["results", "--json"],
            ["results"],
        ):
            with pytest.raises(SystemExit):
                main(["--log-level", "debug", "--config", str(config), *args])
            captured = capsys.readouterr()
            outputs += [captured.out, captured.err]
        with oauth.store.lock:
            issued = {
                value
                for token in oauth.store.by_access.values()
                for value in (token.access_token, token.refresh_token)
                if value
            }

    runs = {r["check"]: r for r in json.loads(outputs[2])}
    assert {r["check"] for r in json.loads(outputs[2])} == {
        "reachable",
        "authenticated",
        "plain-key",
        "oauth-endpoint",
        "oauth-refresh",
        "credentials",
        "dns",
        "tcp",
        "port",
        "clock",
    }
    # Each kind really ran, and the secret-bearing ones took their failure paths too.
    assert runs["authenticated"]["failure_class"] == "auth_rejected"
    assert runs["credentials"]["failure_class"] == "credentials_insecure"
    assert runs["oauth-refresh"]["ok"] is True
    assert runs["port"]["failure_class"] == "port_unavailable"

    assert runs["plain-key"]["failure_class"] == "unexpected_status"
    assert "API key not valid: REDACTED" in runs["plain-key"]["detail"]
    secrets = {API_KEY, ACCESS, REFRESH, PLAIN, seeded, *issued}
    assert len(issued) >= 2  # the refresh rotated: old and new tokens are all secrets
    database = tmp_path / "monitor.db"
    stored = b"".join(
        Path(f"{database}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if os.path.exists(f"{database}{suffix}")
    )
    # Authlib's records come from the test's own OAuth server, which logs the
    # tokens it issues; everything else is the monitor side of the wire.
    logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("authlib"))
    assert any(r.name.startswith("monitor") or r.name.startswith("alembic") for r in caplog.records)
    printed = "\n".join(outputs)
    for secret in secrets:
        for piece in pieces(secret):
            assert piece.encode() not in stored, f"database holds part of {secret[:6]}…"
            assert piece not in logs, f"logs hold part of {secret[:6]}…"
            assert piece not in printed, f"output holds part of {secret[:6]}…"
