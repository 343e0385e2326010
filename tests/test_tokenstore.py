"""Monitor's own refresh-token files: private, atomic, and refused when exposed.

With rotation the file holds the only valid refresh token, so these tests
use real files, real modes and a simulated crash mid-write.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.checks.context import CheckContext
from monitor.checks.settings import OAuthRefreshCheck
from monitor.checks.tokenstore import (
    TokenBusy,
    TokenInsecure,
    TokenInvalid,
    TokenMissing,
    default_state_dir,
    fingerprint,
    read_token,
    refresh_lock,
    replace_token,
    token_file_path,
    write_token,
)

NOW = datetime(2026, 4, 14, 10, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def token_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "tokens" / "claude-refresh.json"


def test_it_writes_the_token_client_and_time_in_a_0600_file(token_path):
    write_token(token_path, "rt-first", "client-1", NOW)

    assert json.loads(token_path.read_text()) == {
        "refresh_token": "rt-first",
        "updated_at": "2026-04-14T10:00:00+00:00",
        "client_id": "client-1",
    }
    assert mode(token_path) == 0o600
    assert read_token(token_path) == "rt-first"


def test_it_creates_missing_folders_0700_whatever_the_umask(token_path):
    previous = os.umask(0o022)
    try:
        write_token(token_path, "rt-first", "client-1", NOW)
    finally:
        os.umask(previous)
    assert mode(token_path.parent) == 0o700
    assert mode(token_path.parent.parent) == 0o700


def test_it_leaves_an_existing_folder_as_the_user_set_it(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    write_token(folder / "t.json", "rt-first", "c", NOW)
    assert mode(folder) == 0o750


def test_it_replaces_the_token_and_leaves_no_temp_files(token_path):
    write_token(token_path, "rt-first", "c", NOW)
    write_token(token_path, "rt-second", "c", NOW)

    assert read_token(token_path) == "rt-second"
    assert sorted(p.name for p in token_path.parent.iterdir()) == ["claude-refresh.json"]
    assert mode(token_path) == 0o600


def test_a_crash_before_the_rename_keeps_the_old_token(token_path, monkeypatch):
    write_token(token_path, "rt-old", "c", NOW)

    def crash(src: object, dst: object) -> None:
        raise OSError(5, "simulated crash between write and rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        write_token(token_path, "rt-new", "c", NOW)
    monkeypatch.undo()

    assert read_token(token_path) == "rt-old"
    assert [p.name for p in token_path.parent.iterdir()] == ["claude-refresh.json"]


def test_the_temp_file_is_private_before_it_is_renamed(token_path, monkeypatch):
    seen: list[int] = []
    real_replace = os.replace

    def inspect(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", inspect)
    write_token(token_path, "rt-new", "c", NOW)
    assert seen == [0o600]


def test_it_syncs_the_file_and_the_folder(token_path, monkeypatch):
    synced: list[bool] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_token(token_path, "rt-new", "c", NOW)
    assert synced == [False, True]  # the file first, then the folder holding the rename


def test_it_says_how_to_store_a_token_when_none_is_stored(token_path):
    with pytest.raises(TokenMissing, match=r"run `monitor token set claude-refresh`"):
        read_token(token_path)


@pytest.mark.parametrize("wider", [0o644, 0o640, 0o604, 0o660])
def test_it_refuses_a_file_others_can_read_and_gives_the_chmod_fix(token_path, wider):
    write_token(token_path, "rt-first", "c", NOW)
    token_path.chmod(wider)

    with pytest.raises(TokenInsecure) as refused:
        read_token(token_path)
    message = str(refused.value)
    assert f"{wider:04o}" in message
    assert f"chmod 600 {token_path}" in message
    assert "rt-first" not in message


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b'{"refresh_token": ""}',
        b'{"token": "x"}',
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in json, not a crash
    ],
)
def test_it_refuses_a_file_that_is_not_a_token_file(token_path, content):
    token_path.parent.mkdir(parents=True)
    token_path.write_bytes(content)
    token_path.chmod(0o600)
    with pytest.raises(TokenInvalid, match=r"monitor token set claude-refresh"):
        read_token(token_path)


def test_it_names_the_check_given_rather_than_the_file(tmp_path):
    with pytest.raises(TokenMissing, match=r"monitor token set vendor-a"):
        read_token(tmp_path / "custom.json", name="vendor-a")


def test_it_does_not_follow_a_symlink_to_the_token(token_path, tmp_path):
    target = tmp_path / "elsewhere.json"
    write_token(target, "rt-first", "c", NOW)
    token_path.parent.mkdir(parents=True)
    token_path.symlink_to(target)
    with pytest.raises(TokenInvalid, match="symbolic link"):
        read_token(token_path)


@pytest.mark.parametrize("bad", ["", " rt-x", "rt-x\n"])
def test_it_refuses_to_store_an_empty_or_padded_token(token_path, bad):
    with pytest.raises(ValueError, match="non-empty"):
        write_token(token_path, bad, "c", NOW)
    assert not token_path.exists()


def test_the_default_paths_sit_beside_the_config(tmp_path):
    config = tmp_path / "conf" / "config.toml"
    state = default_state_dir(config)
    assert state == (tmp_path / "conf").resolve() / ".monitor-state"
    context = CheckContext(config_dir=config.parent, state_dir=state)
    settings = OAuthRefreshCheck.model_validate(
        {"name": "r", "kind": "oauth_refresh", "token_url": "https://a.example/t", "client_id": "c"}
    )
    assert token_file_path(settings, context) == state / "tokens" / "r.json"
    relative = settings.model_copy(update={"token_file": "secrets/r.json"})
    assert token_file_path(relative, context) == config.parent / "secrets" / "r.json"


def test_a_fingerprint_is_a_short_stable_hash_prefix():
    assert fingerprint("rt-first") == fingerprint("rt-first")
    assert fingerprint("rt-first") != fingerprint("rt-second")
    assert len(fingerprint("rt-first")) == 12
    assert "rt-first" not in fingerprint("rt-first")


def test_a_fifo_in_place_of_the_token_is_refused_without_blocking(token_path):
    token_path.parent.mkdir(parents=True)
    os.mkfifo(token_path, 0o600)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_token(token_path)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=2)
    if reader.is_alive():  # blocked in open(): give it a writer so the thread can end
        os.close(os.open(token_path, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=2)
        pytest.fail("opening a FIFO token file blocked")
    (error,) = outcome
    assert isinstance(error, TokenInvalid)
    assert "not a regular file" in str(error)


def test_the_refresh_lock_is_a_private_file_beside_the_token(token_path):
    write_token(token_path, "rt-first", "c", NOW)
    with refresh_lock(token_path, wait_s=1):
        pass
    lock = token_path.with_name("claude-refresh.json.lock")
    assert mode(lock) == 0o600
    assert read_token(token_path) == "rt-first"


def test_a_held_refresh_lock_makes_another_holder_give_up_after_its_wait(token_path):
    write_token(token_path, "rt-first", "c", NOW)
    waited: list[float] = []
    errors: list[BaseException] = []

    def contend() -> None:
        began = time.monotonic()
        try:
            with refresh_lock(token_path, wait_s=0.3):
                pass
        except TokenBusy as exc:
            errors.append(exc)
        waited.append(time.monotonic() - began)

    with refresh_lock(token_path, wait_s=1):
        other = threading.Thread(target=contend)
        other.start()
        other.join(timeout=5)
    assert [str(e) for e in errors] == ["refresh already in progress by another process"]
    assert 0.3 <= waited[0] < 1.5
    with refresh_lock(token_path, wait_s=0.3):  # released: free again
        pass


def test_the_refresh_lock_waits_for_a_holder_that_finishes_in_time(token_path):
    write_token(token_path, "rt-first", "c", NOW)
    held, done_holding = threading.Event(), threading.Event()

    def hold() -> None:
        with refresh_lock(token_path, wait_s=1):
            held.set()
            threading.Event().wait(0.3)
            done_holding.set()  # the last thing before the lock is let go

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    with refresh_lock(token_path, wait_s=3):
        # Not "the thread has ended": it may still be unwinding after letting go.
        assert done_holding.is_set()
    holder.join()


def test_the_refresh_lock_says_no_token_is_stored_when_its_folder_is_missing(token_path):
    with (
        pytest.raises(TokenMissing, match=r"monitor token set claude-refresh"),
        refresh_lock(token_path, wait_s=0.1),
    ):
        pass


def test_a_rotated_token_does_not_replace_one_stored_meanwhile(token_path):
    write_token(token_path, "rt-sent", "c", NOW)
    write_token(token_path, "rt-set-by-the-user", "c", NOW)

    assert replace_token(token_path, "rt-sent", "rt-rotated", "c", NOW) is False
    assert read_token(token_path) == "rt-set-by-the-user"
    assert replace_token(token_path, "rt-set-by-the-user", "rt-rotated", "c", NOW) is True
    assert read_token(token_path) == "rt-rotated"
