"""monitor.discovery: a held lock file says who holds it and where its API listens."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.discovery import LockState, advert_line, holder, parse_lock, read_lock


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A lock file with an exclusive flock on its own open file, as ``monitor run`` holds it."""
    path = tmp_path / "monitor.db.probe.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    yield path, fd
    os.close(fd)


def write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def test_it_reads_the_holder_and_the_api_address_of_a_held_lock(held):
    path, fd = held
    write(
        fd, f"pid 7 on box, started 2026-04-14 10:00:00Z\n{advert_line('http://127.0.0.1:9470')}\n"
    )
    assert read_lock(path) == LockState(
        held=True, holder="pid 7 on box, started 2026-04-14 10:00:00Z", api="http://127.0.0.1:9470"
    )
    assert holder(path) == (True, "pid 7 on box, started 2026-04-14 10:00:00Z")


def test_it_reads_a_held_lock_without_an_api_line_as_a_service_without_an_api(held):
    path, fd = held
    write(fd, "pid 7 on box, started 2026-04-14 10:00:00Z\n")
    assert read_lock(path) == LockState(
        held=True, holder="pid 7 on box, started 2026-04-14 10:00:00Z"
    )


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602], ids=["0666", "0620", "0602"])
def test_it_believes_no_api_line_in_a_lock_file_others_may_write(held, mode):
    path, fd = held
    write(fd, f"pid 7 on box\n{advert_line('http://127.0.0.1:9470')}\n")
    os.chmod(path, mode)
    assert read_lock(path) == LockState(held=True, holder="pid 7 on box")
    os.chmod(path, 0o644)  # others may read it: the address is no secret
    assert read_lock(path).api == "http://127.0.0.1:9470"


def test_it_ignores_what_a_lock_nobody_holds_says(tmp_path):
    path = tmp_path / "stale.lock"
    path.write_text("pid 7 on box\napi http://127.0.0.1:9470\n")
    assert read_lock(path) == LockState(held=False)
    assert holder(path) == (False, None)


def test_it_finds_no_service_without_a_lock_file(tmp_path):
    assert read_lock(tmp_path / "missing.lock") == LockState(held=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", LockState(held=True, holder="")),
        ("pid 1\n", LockState(held=True, holder="pid 1")),
        ("pid 1\napi \n", LockState(held=True, holder="pid 1")),
        (
            "pid 1\napi http://[::1]:80\n",
            LockState(held=True, holder="pid 1", api="http://[::1]:80"),
        ),
        (
            "pid 1\nsomething else\napi http://h:1",
            LockState(held=True, holder="pid 1", api="http://h:1"),
        ),
        ("api http://h:1\n", LockState(held=True, holder="api http://h:1")),
    ],
)
def test_it_parses_the_lock_text(text, expected):
    assert parse_lock(text) == expected
