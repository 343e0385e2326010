"""The database's files on disk are private: 0600, whatever the umask.

A SQLite database holds imported error text, check details and hosts: what
the user's tools logged is theirs, not every account's on the machine. SQLite
creates the ``-wal`` and ``-shm`` files with the database file's own mode, so
a database created 0600 keeps its companions 0600 too; the lock files beside
it are opened the same way.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
COMPANIONS = ("-wal", "-shm", "-journal")


def open_private(path: Path, flags: int = os.O_RDWR) -> int:
    """Open (creating if need be) ``path`` as a file only its owner can read or write."""
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    with contextlib.suppress(PermissionError):  # another account's file: leave it as it is
        os.fchmod(fd, PRIVATE_FILE)
    return fd


def make_private(database: Path) -> None:
    """Create an empty database file 0600 if there is none; make it and its companions 0600.

    A database written by an older version (0644) is tightened on open. A
    file that belongs to another account is left alone: reading it is still
    allowed where its owner allowed it.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for path in (database, *(database.with_name(database.name + s) for s in COMPANIONS)):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(path, PRIVATE_FILE)


def private_dir(folder: Path) -> None:
    """Create missing folders 0700; an existing folder is left as the user set it."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another writer got there first
            created.mkdir(mode=PRIVATE_DIR)
        os.chmod(created, PRIVATE_DIR)
