"""credentials_file on real files with real permissions: never a token out, never a write."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.checks.context import CheckContext
from monitor.checks.credentials import run_credentials_file
from monitor.checks.result import CheckResult
from monitor.checks.settings import CredentialsFileCheck
from monitor.checks.tokenstore import fingerprint
from monitor.failures import Failure

NOW = datetime(2026, 4, 13, 12, 0, tzinfo=UTC)
# Letters past "f" throughout: no 8-character run of a token can be hex, so
# a fingerprint can never match a token substring by accident.
ACCESS = "sk-ant-oat01-QwRtYuIoPlKjHgZxMnVbLkJhGqWeRtYuIoPzXcVbNmLkJh"
REFRESH = "sk-ant-ort01-ZxCvBnMqWeRtYuIoPlKjHgTyUiOpLkJhGzXwVuTsRqPo"
SECRETS = (ACCESS, REFRESH)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def claude_layout(
    expires_at: datetime | None = None, refresh: str | None = REFRESH, **extra: Any
) -> dict[str, Any]:
    oauth: dict[str, Any] = {
        "accessToken": ACCESS,
        "expiresAt": ms(expires_at or NOW + timedelta(hours=5)),
        "scopes": ["user:inference", "user:profile"],
        "subscriptionType": "max",
        **extra,
    }
    if refresh is not None:
        oauth["refreshToken"] = refresh
    return {"claudeAiOauth": oauth}


def write(path: Path, document: object, mode: int = 0o600) -> Path:
    text = document if isinstance(document, str) else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    stamp = (NOW - timedelta(hours=2)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def run(path: Path | str, now: datetime = NOW, **options: Any) -> CheckResult:
    settings = CredentialsFileCheck.model_validate(
        {"name": "claude-credentials", "kind": "credentials_file", "path": str(path), **options}
    )
    base = Path(path).parent if Path(path).is_absolute() else Path.cwd()
    context = CheckContext(config_dir=base, state_dir=base / "state", env={}, now=lambda: now)
    return run_credentials_file(settings, context)


def assert_no_secret(result: CheckResult) -> None:
    """Neither token, nor any 8-character piece of one, in what a run keeps."""
    kept = result.detail + json.dumps(result.facts)
    for secret in SECRETS:
        for start in range(len(secret) - 7):
            assert secret[start : start + 8] not in kept, secret[start : start + 8]


@pytest.fixture
def creds(tmp_path: Path) -> Path:
    return tmp_path / ".credentials.json"


def test_valid_claude_code_file_passes_with_evidence(creds: Path) -> None:
    write(creds, claude_layout())

    result = run(creds)

    assert result.ok
    assert not result.skipped
    assert "access token valid for 5h" in result.detail
    assert "0600" in result.detail
    facts = result.facts
    assert facts["path"] == str(creds)
    assert facts["mode"] == "0600"
    assert facts["age_s"] == 7200
    assert facts["expires_at"] == "2026-04-13T17:00:00Z"
    assert facts["expired"] is False
    assert facts["seconds_to_expiry"] == 5 * 3600
    assert facts["has_refresh_token"] is True
    assert facts["scopes"] == ["user:inference", "user:profile"]
    assert facts["subscriptionType"] == "max"
    # The same fingerprint monitor's own token store keeps: the two can be compared.
    assert facts["access_token_fp"] == fingerprint(ACCESS)
    assert facts["refresh_token_fp"] == fingerprint(REFRESH)
    json.dumps(facts)
    assert_no_secret(result)


def test_expired_access_token_with_refresh_token_passes_with_a_note(creds: Path) -> None:
    write(creds, claude_layout(expires_at=NOW - timedelta(hours=3, minutes=12, seconds=40)))

    result = run(creds)

    assert result.ok
    assert "access token expired 3h12m ago" in result.detail
    assert "refresh token present" in result.detail
    assert result.facts["expired"] is True
    assert result.facts["seconds_to_expiry"] == -(3 * 3600 + 12 * 60 + 40)
    assert_no_secret(result)


def test_expired_access_token_without_refresh_token_fails(creds: Path) -> None:
    write(creds, claude_layout(expires_at=NOW - timedelta(hours=3, minutes=12), refresh=None))

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_EXPIRED
    assert "expired 3h12m ago" in result.detail
    assert "claudeAiOauth.refreshToken" in result.detail
    assert result.facts["has_refresh_token"] is False
    assert "refresh_token_fp" not in result.facts
    assert_no_secret(result)


@pytest.mark.parametrize("refresh", [None, ""])
def test_missing_refresh_token_alone_is_a_note_not_a_failure(creds: Path, refresh: Any) -> None:
    document = claude_layout(refresh=None)
    if refresh is not None:
        document["claudeAiOauth"]["refreshToken"] = refresh
    write(creds, document)

    result = run(creds)

    assert result.ok
    assert "no refresh token at claudeAiOauth.refreshToken" in result.detail
    assert result.facts["has_refresh_token"] is False


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
def test_group_or_other_bits_are_insecure_with_the_fix(creds: Path, mode: int) -> None:
    write(creds, claude_layout(), mode=mode)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INSECURE
    assert f"{mode:04o}" in result.detail
    assert f"chmod 600 {creds}" in result.detail
    assert result.facts["mode"] == f"{mode:04o}"
    # The evidence is still gathered: a later run can tell the token changed.
    assert result.facts["access_token_fp"]
    assert_no_secret(result)


def test_owner_only_modes_are_not_insecure(creds: Path) -> None:
    write(creds, claude_layout(), mode=0o400)

    assert run(creds).ok


def test_insecure_outranks_invalid_and_both_are_named(creds: Path) -> None:
    write(creds, '{"claudeAiOauth": {"accessToken": "' + ACCESS, mode=0o644)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INSECURE
    assert "not valid JSON" in result.detail
    assert_no_secret(result)


def test_invalid_outranks_expired(creds: Path) -> None:
    document = claude_layout(expires_at=NOW - timedelta(days=2), refresh=None)
    del document["claudeAiOauth"]["accessToken"]
    write(creds, document)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert "claudeAiOauth.accessToken is missing" in result.detail
    assert "expired 2d ago" in result.detail


def test_truncated_json_is_invalid_without_echoing_the_content(creds: Path) -> None:
    text = json.dumps(claude_layout())
    write(creds, text[: len(text) // 2])

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert "not valid JSON" in result.detail
    assert "line 1 column" in result.detail
    assert_no_secret(result)


def test_deeply_nested_json_is_invalid_not_a_crash(creds: Path) -> None:
    # json raises RecursionError (not JSONDecodeError) past the interpreter's depth.
    write(creds, "[" * 100_000 + "]" * 100_000)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert result.detail == f"{creds} is not valid JSON (nested too deeply)"


def test_not_utf8_is_invalid(creds: Path) -> None:
    creds.write_bytes(b"\xff\xfe\x00garbage\x80")
    os.chmod(creds, 0o600)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert "not valid JSON" in result.detail


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({}, "claudeAiOauth.accessToken is missing"),
        ({"claudeAiOauth": []}, "claudeAiOauth is an array, not an object"),
        ([1, 2], "the document is an array, not an object"),
        (
            {"claudeAiOauth": {"accessToken": 42, "expiresAt": 1}},
            "claudeAiOauth.accessToken is a number, expected a token string",
        ),
        (
            claude_layout(expiresAt="tomorrow"),
            "claudeAiOauth.expiresAt is a string, expected an epoch number",
        ),
        (claude_layout(expiresAt=True), "claudeAiOauth.expiresAt is a boolean"),
        (claude_layout(expiresAt=0), "claudeAiOauth.expiresAt = 0 is not a date"),
        (claude_layout(refresh=None, refreshToken=["x"]), "claudeAiOauth.refreshToken is an array"),
        (claude_layout(accessToken=""), "claudeAiOauth.accessToken is an empty string"),
    ],
)
def test_missing_or_mistyped_key_paths_are_invalid_and_named(
    creds: Path, document: object, named: str
) -> None:
    write(creds, document)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert named in result.detail
    assert_no_secret(result)


def test_every_broken_key_is_named_at_once(creds: Path) -> None:
    write(creds, {"claudeAiOauth": {}})

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert "claudeAiOauth.accessToken is missing" in result.detail
    assert "claudeAiOauth.expiresAt is missing" in result.detail


def test_custom_key_paths_and_seconds(creds: Path) -> None:
    expires = NOW + timedelta(minutes=45)
    write(
        creds,
        {"auth": {"oauth": {"token": ACCESS, "renew": REFRESH, "exp": int(expires.timestamp())}}},
    )

    result = run(
        creds,
        access_token_key="auth.oauth.token",
        refresh_token_key="auth.oauth.renew",
        expires_at_key="auth.oauth.exp",
        expires_at_unit="s",
    )

    assert result.ok
    assert "access token valid for 45m" in result.detail
    assert result.facts["expires_at"] == "2026-04-13T12:45:00Z"
    assert result.facts["seconds_to_expiry"] == 45 * 60
    assert result.facts["has_refresh_token"] is True
    assert "scopes" not in result.facts
    assert_no_secret(result)


def test_custom_top_level_keys(creds: Path) -> None:
    write(creds, {"token": ACCESS, "expiry": int((NOW - timedelta(minutes=5)).timestamp())})

    result = run(
        creds,
        access_token_key="token",
        refresh_token_key="refresh",
        expires_at_key="expiry",
        expires_at_unit="s",
    )

    assert result.failure_class == Failure.CREDENTIALS_EXPIRED
    assert "expired 5m ago" in result.detail
    assert "no refresh token at refresh" in result.detail


@pytest.mark.parametrize(
    ("unit", "value", "fix"),
    [
        ("ms", int(NOW.timestamp()), 'set expires_at_unit = "s"'),
        ("s", ms(NOW), 'set expires_at_unit = "ms"'),
    ],
)
def test_expiry_in_the_other_unit_names_the_setting(
    creds: Path, unit: str, value: int, fix: str
) -> None:
    write(creds, claude_layout(expiresAt=value))

    result = run(creds, expires_at_unit=unit)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert fix in result.detail


def test_missing_file_is_skipped_by_default(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / ".credentials.json"

    result = run(path)

    assert result.ok
    assert result.skipped
    assert result.failure_class is None
    assert result.detail == f"no credentials file at {path}"


def test_missing_file_fails_when_required(tmp_path: Path) -> None:
    path = tmp_path / ".credentials.json"

    result = run(path, skip_if_missing=False)

    assert result.failure_class == Failure.CREDENTIALS_MISSING
    assert str(path) in result.detail


@pytest.mark.parametrize("skip_if_missing", [True, False])
def test_symlink_to_a_missing_file_fails_even_when_missing_is_skipped(
    tmp_path: Path, creds: Path, skip_if_missing: bool
) -> None:
    target = tmp_path / "gone" / "real.json"
    creds.symlink_to(target)

    result = run(creds, skip_if_missing=skip_if_missing)

    assert not result.skipped
    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert result.detail == f"credentials path {creds} is a symlink to missing {target}"
    assert result.facts == {"path": str(creds), "link_target": str(target)}


def test_relative_symlink_to_a_missing_file_names_the_target_as_written(creds: Path) -> None:
    creds.symlink_to("real.json")

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert result.detail.endswith("is a symlink to missing real.json")


def test_relative_path_is_read_from_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "creds.json", claude_layout())
    monkeypatch.chdir(tmp_path)

    result = run("creds.json")

    assert result.ok
    assert result.facts["path"] == str(tmp_path / "creds.json")


def test_a_directory_at_the_path_is_unreadable(creds: Path) -> None:
    # Works as root too (root reads a 0000 file): a directory cannot be read as JSON.
    creds.mkdir()

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert "is a directory" in result.detail


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a 0000 file; see the directory case")
def test_unreadable_file_is_invalid(creds: Path) -> None:
    write(creds, claude_layout(), mode=0o000)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert "permission denied" in result.detail


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_blocking(creds: Path) -> None:
    os.mkfifo(creds, 0o600)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INVALID
    assert "named pipe" in result.detail


def test_symlink_is_judged_by_its_target(tmp_path: Path, creds: Path) -> None:
    target = write(tmp_path / "real.json", claude_layout(), mode=0o644)
    creds.symlink_to(target)

    result = run(creds)

    assert result.failure_class == Failure.CREDENTIALS_INSECURE
    assert result.facts["mode"] == "0644"


@pytest.mark.parametrize(
    ("document", "mode"),
    [
        (claude_layout(), 0o600),
        (claude_layout(expires_at=NOW - timedelta(hours=1), refresh=None), 0o644),
        ("not json " + ACCESS, 0o600),
    ],
)
def test_the_file_is_never_modified(creds: Path, document: object, mode: int) -> None:
    write(creds, document, mode=mode)
    before = creds.read_bytes(), os.stat(creds)

    run(creds)

    after = creds.read_bytes(), os.stat(creds)
    assert after[0] == before[0]
    assert after[1].st_mode == before[1].st_mode
    assert after[1].st_mtime_ns == before[1].st_mtime_ns
    assert after[1].st_ino == before[1].st_ino
    assert sorted(p.name for p in creds.parent.iterdir()) == [creds.name]
