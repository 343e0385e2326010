"""monitor.service.lock: a look at the lock never stops ``monitor run`` from claiming it.

``monitor why`` and ``monitor status`` find the service by testing its
flock (``monitor.discovery.read_lock``), which takes a shared lock
for an instant; a claim that lands in that instant must still win.
"""

from __future__ import annotations

import subprocess
import sys
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
    InstanceLock.acquire(config).release()  # the file exists for the reader to open
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
