"""One service per database and probe: an flock here, a lease in the database everywhere.

The flock answers at once on this machine and is released by the kernel
even on SIGKILL. It cannot see another machine writing into the same
server database under the same probe name; the heartbeat's lease
(``store/heartbeats.py``) does, and ``refused`` says who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import Config
from monitor.configfile import lock_path_for
from monitor.discovery import READ_LIMIT, advert_line, parse_lock
from monitor.discovery import holder as holder
from monitor.errors import MonitorError
from monitor.store.files import open_private, private_dir, still_at
from monitor.store.heartbeats import LEASE, Lease
from monitor.times import as_utc, format_duration

# ``monitor why`` and ``monitor status`` test whether the lock is held by
# taking a shared flock for an instant (``discovery.read_lock``; Linux has no
# way to test an flock without taking it). A claim landing in that instant
# tries again; a lock still taken after this long has a holder.
CLAIM_PATIENCE_S = 0.2
CLAIM_RETRY_S = 0.002


class AlreadyRunning(MonitorError):
    """Another ``monitor run`` holds this database and probe."""


def refused(holder: Lease, now: datetime) -> AlreadyRunning:
    """The refusal naming the holder: where, which process, its last beat, when it lapses."""
    last_seen, expires = as_utc(holder.last_seen), as_utc(holder.expires_at)
    age = now - last_seen
    beaten = f"{format_duration(age)} ago" if age >= timedelta(0) else "ahead of this clock"
    return AlreadyRunning(
        f"probe {holder.probe!r} is already running on host {holder.host} "
        f"(pid {holder.pid}), last heartbeat {beaten} ({last_seen:%H:%M:%S} UTC); "
        f"if that machine is gone, this probe can start after {expires:%H:%M:%S} UTC "
        "(the lease lasts "
        f"{format_duration(LEASE)} past the last heartbeat). Or give this machine its own "
        "[monitor] probe name."
    )


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class InstanceLock:
    """An exclusive flock on a file beside the database, naming the holder inside.

    The kernel releases it when the process dies, even by SIGKILL, so a
    crash never leaves a stale lock behind. A clean stop removes the file
    (while still holding it), so a stopped service leaves nothing beside the
    database; a claimant that opened it before the removal finds the file no
    longer at its path and claims the one there now (``still_at``), the same
    rule as the migration lock's.
    """

    path: Path
    fd: int

    @staticmethod
    def acquire(config: Config) -> InstanceLock:
        path = lock_path(config)
        private_dir(path.parent)
        while True:
            fd = open_private(path)
            if not _claim(fd):
                text = os.pread(fd, READ_LIMIT, 0).decode(errors="replace")
                holder = parse_lock(text).holder or "unknown process"
                os.close(fd)
                raise AlreadyRunning(
                    f"another monitor run already serves this database for probe "
                    f"{config.probe!r}: {holder} (lock file {path})"
                ) from None
            if still_at(fd, path):
                break
            os.close(fd)  # its holder stopped and removed it meanwhile: claim the one there now
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            f"pid {os.getpid()} on {socket.gethostname()}, "
            f"started {datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}\n".encode(),
            0,
        )
        return InstanceLock(path, fd)

    def advertise(self, url: str) -> None:
        """Add a second line ``api URL`` (the service's local API) under the holder's line."""
        first = parse_lock(os.pread(self.fd, READ_LIMIT, 0).decode(errors="replace")).holder
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{first}\n{advert_line(url)}\n".encode(), 0)

    def release(self) -> None:
        """Remove the file while still holding it, then close (which drops the flock)."""
        with contextlib.suppress(FileNotFoundError):
            if still_at(self.fd, self.path):
                self.path.unlink()
        os.close(self.fd)


def _claim(fd: int) -> bool:
    """An exclusive flock on ``fd``, tried for ``CLAIM_PATIENCE_S`` past a reader's glance."""
    deadline = time.monotonic() + CLAIM_PATIENCE_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(CLAIM_RETRY_S)
        else:
            return True


def lock_path(config: Config) -> Path:
    """Beside a SQLite file; in the state folder for a server database."""
    return lock_path_for(config.database_url, config.probe, config.path)
