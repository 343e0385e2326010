"""monitor.service.lock: a look at the lock never stops ``monitor run`` from claiming it.

``monitor why`` and ``monitor status`` find the service by testing its
flock (``monitor.discovery.read_lock``), which takes a shared lock
for an instant; a claim that lands in that instant must still win.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.service.lock import AlreadyRunning, InstanceLock, lock_path
from monitor.store.files import still_at

# Looks at the lock as fast as it can until the stop file appears.
READER = """
import os, sys
from monitor.discovery import read_lock
path, stop = sys.argv[1], sys.argv[2]
read_lock(path)
print("ready", flush=True)
while not os.path.exists(stop):
    for _ in range(100):
        read_lock(path)
"""
# Before claims retried, about one in ten of these was refused.
CLAIMS = 2000


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[monitor]\nprobe = "laptop"\n[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n',
        encoding="utf-8",
    )
    return load_config(path)


def test_a_claim_wins_while_another_process_keeps_looking_at_the_lock(
    config: Config, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    refused = 0
    with subprocess.Popen(
        [sys.executable, "-c", READER, str(lock_path(config)), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    ) as reader:
        try:
            assert reader.stdout is not None
            assert reader.stdout.readline() == "ready\n"
            for _ in range(CLAIMS):
                try:
                    InstanceLock.acquire(config).release()
                except AlreadyRunning:
                    refused += 1
        finally:
            stop.touch()
            reader.wait(timeout=30)
    assert refused == 0


def test_a_held_lock_is_still_refused_naming_its_holder(config: Config) -> None:
    held = InstanceLock.acquire(config)
    try:
        with pytest.raises(AlreadyRunning, match=r"pid \d+ on "):
            InstanceLock.acquire(config)
    finally:
        held.release()
    InstanceLock.acquire(config).release()  # and free again once released


def test_a_stopped_service_leaves_no_lock_file(config: Config) -> None:
    lock = InstanceLock.acquire(config)
    assert lock_path(config).exists()

    lock.release()

    assert not lock_path(config).exists()


def test_a_flock_won_on_the_file_a_stopped_service_removed_is_not_the_lock(
    config: Config,
) -> None:
    """Why a claim re-checks the path: the file it opened early can be won, and guards nothing.

    (That ``acquire`` does re-check is the racing test below: without it, two hold at once.)
    """
    holder = InstanceLock.acquire(config)
    early = os.open(lock_path(config), os.O_RDONLY)  # a claimant that opened it then
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(early, fcntl.LOCK_EX | fcntl.LOCK_NB)
        holder.release()
        fcntl.flock(early, fcntl.LOCK_EX | fcntl.LOCK_NB)  # won: its holder let go
        assert not still_at(early, lock_path(config))
        second = InstanceLock.acquire(config)  # the real claim is not held up by it
        try:
            assert still_at(second.fd, lock_path(config))
            assert not still_at(early, lock_path(config))
            with pytest.raises(AlreadyRunning):
                InstanceLock.acquire(config)
        finally:
            second.release()
    finally:
        os.close(early)


def test_claims_racing_releases_never_give_two_holders(config: Config) -> None:
    """Threads stand in for processes (an flock belongs to an open file, not a process)."""
    inside, most, held, guard = [0], [0], [0], threading.Lock()

    def claim_and_release() -> None:
        for _ in range(60):
            try:
                lock = InstanceLock.acquire(config)
            except AlreadyRunning:
                continue
            with guard:
                inside[0] += 1
                held[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.0002)
            with guard:
                inside[0] -= 1
            lock.release()

    workers = [threading.Thread(target=claim_and_release) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert most == [1]
    assert held[0] > 0
    assert not lock_path(config).exists()
