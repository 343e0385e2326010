"""Monitor's own OAuth refresh tokens, one 0600 JSON file per ``oauth_refresh`` check.

These are never the user's tool credentials: monitor holds a grant of its
own so a real refresh can be tested without spending the user's token.
With rotation the file holds the *only* valid refresh token, so a write is
atomic (temp file, fsync, rename, fsync of the folder): a crash leaves
either the old token or the new one, never a torn file or nothing. A
refresh holds ``<file>.lock`` from reading the token to saving the rotated
one: two processes refreshing at once would otherwise both send the same
token, and the loser would see ``invalid_grant`` (or, where a server revokes
the whole grant on reuse, RFC 9700 §4.14.2, kill the token just saved).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import secrets
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.configfile import default_state_dir as default_state_dir
from monitor.errors import MonitorError
from monitor.store.files import PRIVATE_FILE, private_dir

if TYPE_CHECKING:
    from monitor.checks.context import CheckContext
    from monitor.checks.settings import OAuthRefreshCheck

TOKENS_DIR_NAME = "tokens"
LOCK_POLL_S = 0.05
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class TokenStoreError(MonitorError):
    """A token file cannot be used; the message says what to do about it."""


class TokenMissing(TokenStoreError):
    """No token has been stored for the check yet (or the file was removed)."""


class TokenInsecure(TokenStoreError):
    """The file is readable or writable by others: refused rather than used."""


class TokenInvalid(TokenStoreError):
    """The file exists but is not a token file monitor wrote (or cannot be read)."""


class TokenBusy(TokenStoreError):
    """Another process held the token file's lock for longer than we would wait."""


def token_file_path(settings: OAuthRefreshCheck, context: CheckContext) -> Path:
    """The check's ``token_file`` (relative to the config), else ``<state>/tokens/<name>.json``."""
    if settings.token_file:
        return context.path(settings.token_file)
    return context.state_dir / TOKENS_DIR_NAME / f"{settings.name}.json"


def fingerprint(token: str) -> str:
    """First 12 hex digits of SHA-256: enough to tell tokens apart, useless to an attacker."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def read_token(path: Path, *, name: str | None = None) -> str:
    """The stored refresh token; TokenStoreError subclasses say why it cannot be used.

    Opened without following a link and without blocking (a FIFO planted
    there would otherwise hang the check), then the mode and the type are
    checked on the open descriptor, not the path, so a file swapped between
    the check and the read cannot slip through.
    """
    check = name or path.stem
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | _NOFOLLOW)
    except FileNotFoundError:
        raise _missing(path, check) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise TokenInvalid(
                f"token file {path} is a symbolic link; monitor reads only a file it wrote "
                f"there: remove the link and run `monitor token set {check}`"
            ) from None
        raise TokenInvalid(f"cannot read token file {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        _refuse_if_insecure(path, os.fstat(handle.fileno()).st_mode)
        raw = handle.read()
    return _parse(raw, path, check)


def _missing(path: Path, check: str) -> TokenMissing:
    return TokenMissing(f"no token stored in {path}: run `monitor token set {check}`")


@contextlib.contextmanager
def refresh_lock(path: Path, *, wait_s: float, name: str | None = None) -> Iterator[None]:
    """Hold ``<path>.lock`` (an exclusive flock) for one read-refresh-save.

    Waits at most ``wait_s``, polling, then raises TokenBusy: a refresh that
    hangs elsewhere must not hang this one too. The lock file is created
    0600 beside the token and left there (deleting it would race a waiter).
    """
    lock_path = path.with_name(path.name + ".lock")
    flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC | _NOFOLLOW
    try:
        fd = os.open(lock_path, flags, PRIVATE_FILE)
    except FileNotFoundError:  # no folder, so no token either
        raise _missing(path, name or path.stem) from None
    except OSError as exc:
        raise TokenInvalid(f"cannot lock token file {lock_path}: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TokenBusy("refresh already in progress by another process") from None
                time.sleep(min(LOCK_POLL_S, remaining))
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def replace_token(path: Path, sent: str, token: str, client_id: str, now: datetime) -> bool:
    """Store a rotated ``token`` only if the file still holds ``sent``; False if it did not.

    Called under refresh_lock, but ``monitor token set`` does not take it:
    a token the user stored while the refresh was on the wire wins.
    """
    try:
        current = read_token(path)
    except TokenStoreError:
        return False
    if current != sent:
        return False
    write_token(path, token, client_id, now)
    return True


def _refuse_if_insecure(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise TokenInvalid(f"token file {path} is not a regular file")
    if mode & 0o077:
        raise TokenInsecure(
            f"token file {path} has mode {stat.S_IMODE(mode):04o}, wider than 0600 "
            f"(others could read monitor's refresh token): run `chmod 600 {path}`"
        )


def _parse(raw: bytes, path: Path, check: str) -> str:
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[[… nested
        document = None
    token = document.get("refresh_token") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenInvalid(
            f"{path} is not a monitor token file (no refresh_token in a JSON object): "
            f"run `monitor token set {check}` again"
        )
    return token


def write_token(path: Path, token: str, client_id: str, now: datetime) -> None:
    """Store ``token`` atomically in ``path`` (0600, in a 0700 folder created if missing).

    The temp file is created 0600 from the start (never briefly readable),
    in the target's folder (so the rename cannot cross file systems). If
    anything fails before the rename the old file is untouched.
    """
    if not token or token != token.strip():
        raise ValueError("a refresh token must be non-empty and have no surrounding whitespace")
    private_dir(path.parent)
    document = {
        "refresh_token": token,
        "updated_at": now.astimezone(UTC).isoformat(),
        "client_id": client_id,
    }
    data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    temp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        _write_new_file(temp, data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_dir(path.parent)


def _write_new_file(temp: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
    fd = os.open(temp, flags, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)  # whatever the umask did
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable: without this a crash can undo it."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
