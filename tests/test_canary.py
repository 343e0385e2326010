"""One secret planted everywhere a secret can enter; not one byte of it anywhere monitor writes.

The canary is the API key in the environment, the key a check sends, the key
a vendor reflects into its request-id header and its error body, the client
secret an OAuth server quotes back, the tokens of a credentials file, and
every form a person's pasted tool log puts a key in. Then every command that
writes or prints runs, as a real process: checks, import, results, status,
why, timeline, the dashboards. The database with its WAL, the dashboards,
monitor's state folder, every stdout and stderr (logs included, at debug) are
searched for its bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import WriteConfig
from tests.loopback import LoopbackServer

# Hex: letters and digits, as random keys are; no known prefix, so only the
# environment, the check's own scrubbing or the shape of its context gives it away.
CANARY = "cnry" + uuid.uuid4().hex


def pasted_lines() -> list[dict[str, str]]:
    """Every form a key takes in a tool's log, one failure each."""
    forms = [
        f"claude --api-key {CANARY} -p hi: 401",
        f"invalid api key '{CANARY}'",
        f"token {CANARY} rejected",
        f"key {CANARY} is not valid",
        f"credentials {CANARY} refused",
        f"curl -u me:{CANARY} https://api.example.com: 401",
        f"-----BEGIN PRIVATE KEY----- {CANARY} -----END PRIVATE KEY----- load failed",
        f"POST https://hooks.slack.com/services/T0/B0/{CANARY} failed: 404",
        f"API key AIza{CANARY} rejected",
        f"npm ERR! 401 with npm_{CANARY}",
        f"Authorization: Bearer {CANARY} -> 401",
        f'API Error: 401 {{"api_key": "{CANARY}", "type": "authentication_error"}}',
        f"GET https://me:{CANARY}@api.example.com/v1 failed: 503",
        f"request failed: x-api-key={CANARY}",
    ]
    lines = [
        {"at": f"2026-04-13T15:{minute:02d}:00Z", "error": form}
        for minute, form in enumerate(forms)
    ]
    lines.append(
        {
            "at": "2026-04-13T15:59:00Z",
            "error": "upstream connect error: 503",
            "target": f"https://api.example.com/v1/messages?api_key={CANARY}",
        }
    )
    return lines


@pytest.fixture
def planted(server: LoopbackServer, write_config: WriteConfig, tmp_path: Path) -> Path:
    # A vendor that reflects the key it was sent into its request id and its error body.
    server.route(
        "/v1/models",
        json.dumps({"error": {"message": f"invalid x-api-key {CANARY}"}}).encode(),
        status=401,
        headers={"request-id": CANARY, "x-request-id": CANARY},
    )
    # An OAuth server that quotes the client secret back in its error.
    server.route(
        "/oauth/token",
        json.dumps(
            {"error": "invalid_client", "error_description": f"client secret {CANARY} is wrong"}
        ).encode(),
        status=401,
    )
    credentials = tmp_path / "credentials.json"
    credentials.write_text(
        json.dumps(
            {
                "claudeAiOauth": {
                    "accessToken": f"sk-ant-oat01-{CANARY}",
                    "refreshToken": CANARY,
                    "expiresAt": 1_700_000_000_000,
                }
            }
        ),
        encoding="utf-8",
    )
    credentials.chmod(0o600)
    checks = f"""
[[check]]
name = "api"
kind = "http"
url = "{server.url}/v1/models?api_key=${{ACME_API_KEY}}"
headers = {{ "x-api-key" = "${{ACME_API_KEY}}", "authorization" = "Bearer ${{ACME_API_KEY}}" }}
expect_status = [200]

[[check]]
name = "oauth"
kind = "oauth_token_endpoint"
token_url = "{server.url}/oauth/token"
client_id = "monitor-canary"

[[check]]
name = "creds"
kind = "credentials_file"
path = "{credentials}"
skip_if_missing = false
"""
    return write_config(extra=checks)


def monitor(config: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--log-level", "debug", *args],
        capture_output=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_the_canary_is_in_no_byte_monitor_writes_or_prints(planted: Path, tmp_path: Path) -> None:
    with_key = {**os.environ, "ACME_API_KEY": CANARY}
    # Logs pasted on another shell: the key is not in that environment.
    without_key = {k: v for k, v in os.environ.items() if k != "ACME_API_KEY"}
    pasted = tmp_path / "pasted.jsonl"
    pasted.write_text("".join(json.dumps(line) + "\n" for line in pasted_lines()), "utf-8")
    echoed = tmp_path / "echoed.log"
    echoed.write_text(f"2026-04-13T16:00:00Z proxy echoed {CANARY} back: 502\n", "utf-8")
    dashboards = tmp_path / "site"

    runs = [
        monitor(planted, "check", env=with_key),
        monitor(planted, "import", str(pasted), env=without_key),
        monitor(planted, "import", str(echoed), env=with_key),
        monitor(planted, "results", env=with_key),
        monitor(planted, "results", "--json", env=with_key),
        monitor(planted, "status", "--json", env=with_key),
        monitor(planted, "why", "--at", "2026-04-13T15:30:00Z", env=with_key),
        monitor(planted, "why", "--at", "2026-04-13T15:30:00Z", "--json", env=with_key),
        monitor(planted, "timeline", "--since", "2026-04-13T15:00:00Z", env=with_key),
        monitor(planted, "timeline", "--since", "2026-04-13", "--json", env=with_key),
        monitor(planted, "chart", "--since", "2026-04-13", "--out", str(dashboards), env=with_key),
    ]

    assert runs[0].returncode == 1  # every check failed, as planted
    assert runs[1].returncode == 0, runs[1].stderr
    assert b"imported 15 new failures" in runs[1].stdout
    assert runs[-1].returncode == 0, runs[-1].stderr
    written = [
        path
        for path in tmp_path.rglob("*")
        if path.is_file() and path not in (planted, pasted, echoed, tmp_path / "credentials.json")
    ]
    assert {p.name for p in written} >= {"monitor.db", "index.html"}  # a WAL, when left, too
    found = [str(path) for path in written if CANARY.encode() in path.read_bytes()]
    printed = [
        f"{' '.join(map(str, run.args[4:]))} ({stream})"
        for run in runs
        for stream, text in (("stdout", run.stdout), ("stderr", run.stderr))
        if CANARY.encode() in text
    ]
    assert found == []
    assert printed == []
    # Not a test that cannot fail: the key did reach the vendor, and the output says REDACTED.
    assert b"REDACTED" in runs[4].stdout
