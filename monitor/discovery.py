"""Finding the running service from another process: its lock file says who and where.

``monitor run`` holds an flock on its lock file (``monitor.service.lock``)
and writes two lines in it: who holds it, and, once its HTTP API listens,
``api http://HOST:PORT``. A command that could ask the service instead of
reading the database itself reads those lines here. Light on purpose (no
SQLAlchemy, no pydantic): a command pays for this before it knows whether
it needs the heavy parts at all.
"""

from __future__ import annotations

import fcntl
import os
from typing import NamedTuple

API_PREFIX = "api "
# A holder line and an address are short; anything past this is not ours.
READ_LIMIT = 1024


def advert_line(url: str) -> str:
    """The lock file's second line, saying where the service's HTTP API listens."""
    return f"{API_PREFIX}{url}"


class LockState(NamedTuple):
    """Whether a live process holds the lock; its first line; its API's address if it has one."""

    held: bool
    holder: str | None = None
    api: str | None = None


def read_lock(path: str | os.PathLike[str]) -> LockState:
    """What the lock file at ``path`` says, read only while a live process holds it.

    A lock nobody holds is a leftover of a stopped service: whatever it
    says is stale, so it is not read at all. The ``api`` line is believed
    only from a file this user owns and nobody else may write: a command
    sends its token to that address.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # missing, or not ours to read: no service to be found through it
        return LockState(held=False)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            state = parse_lock(os.pread(fd, READ_LIMIT, 0).decode(errors="replace"))
            return state if trusted(os.fstat(fd)) else state._replace(api=None)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return LockState(held=False)
    finally:
        os.close(fd)


def trusted(stat: os.stat_result) -> bool:
    """Whether a lock file's words are this user's own: owned by them, writable by nobody else."""
    return stat.st_uid == os.getuid() and not stat.st_mode & 0o022


def parse_lock(text: str) -> LockState:
    """A held lock file's text: the holder (first line) and the ``api`` line, if any."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    api = next(
        (line[len(API_PREFIX) :].strip() for line in lines[1:] if line.startswith(API_PREFIX)),
        None,
    )
    return LockState(held=True, holder=first, api=api or None)


def holder(path: str | os.PathLike[str]) -> tuple[bool, str | None]:
    """Whether the lock is held by a live process, and who (its first line)."""
    state = read_lock(path)
    return state.held, state.holder
