"""monitor.service.lock: a look at the lock never stops ``monitor run`` from claiming it.

``monitor why`` and ``monitor status`` find the service by testing its
flock (``monitor.discovery.read_lock``), which takes a shared lock
for an instant; a claim that lands in that instant must still win.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.service.lock import AlreadyRunning, InstanceLock, lock_path

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


def test_after_a_stop_the_next_service_locks_a_new_file_and_holds_it_alone(
    config: Config,
) -> None:
    """A file opened before the holder stopped and removed it is no longer the lock."""
    holder = InstanceLock.acquire(config)
    early = os.open(lock_path(config), os.O_RDONLY)  # a claimant that opened it then
    try:
        holder.release()
        second = InstanceLock.acquire(config)
        try:
            # Locking the file it opened early would succeed: it is no longer the lock.
            with pytest.raises(AlreadyRunning):
                InstanceLock.acquire(config)
            assert os.fstat(early).st_ino != os.stat(lock_path(config)).st_ino
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
