"""``credentials_file``: read-only inspection of a tool's credentials JSON.

The failures users hit with a tool's own login are rarely the vendor's: a
file others can read, a file that is not JSON any more, an access token that
expired with no refresh token left to renew it. This check names which, and
keeps the evidence a later run can compare (a fingerprint of each token)
without ever keeping a token. It opens the file for reading only: the tool
owns it, and a monitor that rewrote it could log the user out.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shlex
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from monitor.checks.context import CheckContext
from monitor.checks.result import CheckResult
from monitor.checks.settings import CredentialsFileCheck
from monitor.checks.tokenstore import fingerprint
from monitor.failures import Failure
from monitor.times import format_duration, isoformat_z

# When several things are wrong, the one to fix first comes first: a file
# others can read leaks the tokens whatever their state.
_PRIORITY = {
    Failure.CREDENTIALS_INSECURE: 0,
    Failure.CREDENTIALS_INVALID: 1,
    Failure.CREDENTIALS_EXPIRED: 2,
}
# A credentials file is a few hundred bytes; anything this big is something else.
_MAX_BYTES = 1 << 20
# Epoch values at or above this are milliseconds, below it seconds: the two
# readings agree on which one is meant for every date from 1973 to 5138.
_MS_THRESHOLD = 100_000_000_000

_P = ParamSpec("_P")
_T = TypeVar("_T")


class _KeyPathError(ValueError):
    """A configured JSON path that leads nowhere, or to the wrong type of value."""


@dataclass
class _Findings:
    """What one inspection found: problems (class, text), notes, and evidence."""

    facts: dict[str, Any]
    problems: list[tuple[Failure, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, failure_class: Failure, text: str) -> None:
        self.problems.append((failure_class, text))


def run_credentials_file(settings: CredentialsFileCheck, context: CheckContext) -> CheckResult:
    """Inspect the credentials file; never write it, never report a token."""
    path = context.path(settings.path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return _missing(path, settings.skip_if_missing)
    except OSError as exc:
        return CheckResult.failed(
            Failure.CREDENTIALS_INVALID, _cannot_read(path, exc), facts={"path": str(path)}
        )
    if not stat.S_ISREG(info.st_mode):
        # Checked before opening: reading a FIFO would block, a directory fails.
        return CheckResult.failed(
            Failure.CREDENTIALS_INVALID,
            f"credentials path {path} is {_file_type(info.st_mode)}, not a file",
            facts={"path": str(path)},
        )
    findings = _Findings(facts=_file_facts(path, info, context.now()))
    _check_mode(path, info, findings)
    document = _read_json(path, findings)
    if document is not None:
        _check_tokens(document, settings, context.now(), findings)
    return _verdict(findings)


def _missing(path: Path, skip_if_missing: bool) -> CheckResult:
    """A machine without the tool is not a failure unless the config says it must have it.

    A symlink whose target is gone is not a machine without the tool: the
    login points somewhere that no longer exists, so it fails whatever
    ``skip_if_missing`` says.
    """
    facts = {"path": str(path)}
    target = _dangling_link_target(path)
    if target is not None:
        return CheckResult.failed(
            Failure.CREDENTIALS_INVALID,
            f"credentials path {path} is a symlink to missing {target}",
            facts={**facts, "link_target": target},
        )
    if skip_if_missing:
        return CheckResult.skip(f"no credentials file at {path}", facts=facts)
    return CheckResult.failed(
        Failure.CREDENTIALS_MISSING,
        f"no credentials file at {path} (log in with the tool to create it)",
        facts=facts,
    )


def _dangling_link_target(path: Path) -> str | None:
    """What ``path`` links to, if it is a symlink (stat found nothing behind it)."""
    try:
        if not stat.S_ISLNK(path.lstat().st_mode):
            return None
        return os.readlink(path)
    except OSError:  # gone since the stat, or its folder is unreadable: plainly missing
        return None


def _file_facts(path: Path, info: os.stat_result, now: datetime) -> dict[str, Any]:
    modified = datetime.fromtimestamp(info.st_mtime, UTC)
    return {
        "path": str(path),
        "mode": _octal(info.st_mode),
        "age_s": round((now - modified).total_seconds()),
    }


def _check_mode(path: Path, info: os.stat_result, findings: _Findings) -> None:
    """Group or other bits mean another account on this machine may read the tokens."""
    if stat.S_IMODE(info.st_mode) & 0o077:
        findings.problem(
            Failure.CREDENTIALS_INSECURE,
            f"credentials file mode is {_octal(info.st_mode)}, wider than 0600 "
            f"(other users may read it); fix: chmod 600 {shlex.quote(str(path))}",
        )


def _read_json(path: Path, findings: _Findings) -> object | None:
    """The parsed document, or None with the reason recorded (never the content)."""
    try:
        raw = _read_regular_file(path)
    except OSError as exc:
        findings.problem(Failure.CREDENTIALS_INVALID, _cannot_read(path, exc))
        return None
    if len(raw) > _MAX_BYTES:
        findings.problem(
            Failure.CREDENTIALS_INVALID, f"{path} is larger than 1 MiB: not a credentials file"
        )
        return None
    try:
        document: object = json.loads(raw)
    except json.JSONDecodeError as exc:
        # msg and position only: the exception's document holds the tokens.
        reason = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except UnicodeDecodeError:
        reason = "not UTF-8 JSON text"
    except RecursionError:
        reason = "nested too deeply"
    else:
        return document
    findings.problem(Failure.CREDENTIALS_INVALID, f"{path} is not valid JSON ({reason})")
    return None


def _read_regular_file(path: Path) -> bytes:
    """Up to one byte past the cap, read-only, and from a regular file only.

    The path was a regular file when stat'ed; if something swapped in a pipe
    since, a non-blocking open and a check of what was opened keep the read
    from hanging.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "it changed into something other than a file")
        return handle.read(_MAX_BYTES + 1)


def _check_tokens(
    document: object, settings: CredentialsFileCheck, now: datetime, findings: _Findings
) -> None:
    """Fingerprint the tokens, judge expiry, and note what a user would want to know."""
    errors: list[str] = []
    access = _collect(errors, _string_at, document, settings.access_token_key)
    refresh = _collect(errors, _optional_string_at, document, settings.refresh_token_key)
    expires_raw = _collect(errors, _number_at, document, settings.expires_at_key)
    expires_at = None
    if expires_raw is not None:
        expires_at = _collect(errors, _epoch, expires_raw, settings)
    findings.facts.update(_account_facts(document, settings.access_token_key))
    if access is not None:
        findings.facts["access_token_fp"] = fingerprint(access)
    findings.facts["has_refresh_token"] = refresh is not None
    if refresh is not None:
        findings.facts["refresh_token_fp"] = fingerprint(refresh)
    else:
        findings.notes.append(f"no refresh token at {settings.refresh_token_key}")
    if errors:
        findings.problem(Failure.CREDENTIALS_INVALID, "; ".join(errors))
    if expires_at is not None:
        _judge_expiry(expires_at, now, refresh is not None, settings, findings)


def _judge_expiry(
    expires_at: datetime,
    now: datetime,
    has_refresh: bool,
    settings: CredentialsFileCheck,
    findings: _Findings,
) -> None:
    """An expired access token is routine while a refresh token can renew it."""
    remaining = (expires_at - now).total_seconds()
    expired = remaining <= 0
    findings.facts.update(
        expires_at=isoformat_z(expires_at), expired=expired, seconds_to_expiry=round(remaining)
    )
    span = _readable_span(abs(remaining))
    if not expired:
        findings.notes.insert(0, f"access token valid for {span}")
    elif has_refresh:
        findings.notes.insert(
            0, f"access token expired {span} ago; refresh token present (the tool renews it)"
        )
    else:
        findings.problem(
            Failure.CREDENTIALS_EXPIRED,
            f"access token expired {span} ago and there is no refresh token at "
            f"{settings.refresh_token_key}; log in again",
        )


def _verdict(findings: _Findings) -> CheckResult:
    """The most urgent problem decides the class; the rest stay in the one line."""
    problems = sorted(findings.problems, key=lambda item: _PRIORITY[item[0]])
    if problems:
        detail = "; also ".join(text for _, text in problems)
        return CheckResult.failed(problems[0][0], detail, facts=findings.facts)
    age = _readable_span(max(findings.facts["age_s"], 0))
    notes = [*findings.notes, f"file mode {findings.facts['mode']}, updated {age} ago"]
    return CheckResult.passed("; ".join(notes), facts=findings.facts)


def _collect(
    errors: list[str], read: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> _T | None:
    """Run one reader; a _KeyPathError becomes an entry in ``errors`` and None.

    Every broken key is reported at once, so one edit fixes the file.
    """
    try:
        return read(*args, **kwargs)
    except _KeyPathError as exc:
        errors.append(str(exc))
        return None


def _lookup(document: object, key_path: str) -> object:
    """Follow a dotted path (``claudeAiOauth.accessToken``) through JSON objects."""
    value = document
    walked: list[str] = []
    for key in key_path.split("."):
        if not isinstance(value, dict):
            where = ".".join(walked) or "the document"
            raise _KeyPathError(
                f"{key_path} is missing ({where} is {_json_type(value)}, not an object)"
            )
        if key not in value:
            raise _KeyPathError(f"{key_path} is missing")
        value = value[key]
        walked.append(key)
    return value


def _string_at(document: object, key_path: str) -> str:
    value = _lookup(document, key_path)
    if not isinstance(value, str) or not value:
        shown = "an empty string" if value == "" else _json_type(value)
        raise _KeyPathError(f"{key_path} is {shown}, expected a token string")
    return value


def _optional_string_at(document: object, key_path: str) -> str | None:
    """Absent, null or empty means no refresh token; any other non-string is a broken file."""
    try:
        value = _lookup(document, key_path)
    except _KeyPathError:
        return None
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _KeyPathError(f"{key_path} is {_json_type(value)}, expected a token string")
    return value


def _number_at(document: object, key_path: str) -> float:
    value = _lookup(document, key_path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _KeyPathError(f"{key_path} is {_json_type(value)}, expected an epoch number")
    return float(value)


def _epoch(value: float, settings: CredentialsFileCheck) -> datetime:
    """Read the expiry in the configured unit, refusing a value that is plainly the other one.

    Taking seconds for milliseconds would report a token "expired 55 years
    ago"; naming the setting to change is more useful than that.
    """
    key, unit = settings.expires_at_key, settings.expires_at_unit
    if not math.isfinite(value) or value <= 0:
        raise _KeyPathError(f"{key} = {value:.0f} is not a date")
    looks_like_ms = abs(value) >= _MS_THRESHOLD
    if looks_like_ms != (unit == "ms"):
        actual, other = ("milliseconds", "ms") if looks_like_ms else ("seconds", "s")
        raise _KeyPathError(
            f"{key} = {value:.0f} looks like epoch {actual}, but expires_at_unit is "
            f'"{unit}"; set expires_at_unit = "{other}"'
        )
    seconds = value / 1000 if unit == "ms" else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise _KeyPathError(f"{key} = {value:.0f} is not a representable date") from None


def _account_facts(document: object, access_token_key: str) -> dict[str, Any]:
    """Scopes and plan beside the access token: not secret, and they explain a 403."""
    parent = access_token_key.rpartition(".")[0]
    try:
        holder = _lookup(document, parent) if parent else document
    except _KeyPathError:
        return {}
    if not isinstance(holder, dict):
        return {}
    facts: dict[str, Any] = {}
    scopes = holder.get("scopes")
    if isinstance(scopes, list) and all(isinstance(scope, str) for scope in scopes):
        facts["scopes"] = scopes
    plan = holder.get("subscriptionType")
    if isinstance(plan, str):
        facts["subscriptionType"] = plan
    return facts


def _readable_span(seconds: float) -> str:
    """``3h12m`` rather than ``3h12m5s``: past an hour, the seconds are noise."""
    whole = int(seconds)
    if whole >= 3600:
        whole -= whole % 60
    return format_duration(timedelta(seconds=whole))


def _octal(mode: int) -> str:
    return f"{stat.S_IMODE(mode):04o}"


def _cannot_read(path: Path, exc: OSError) -> str:
    """The one wording for an OS error on the file, from the stat or the read."""
    return f"cannot read credentials file {path}: {_os_reason(exc)}"


def _os_reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device or special file"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
