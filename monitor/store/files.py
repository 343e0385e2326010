"""The database's files on disk are private: 0600, whatever the umask.

A SQLite database holds imported error text, check details and hosts: what
the user's tools logged is theirs, not every account's on the machine. SQLite
creates the ``-wal`` and ``-shm`` files with the database file's own mode, so
a database created 0600 keeps its companions 0600 too; the lock files beside
it are opened the same way.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
from collections.abc import Callable
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
COMPANIONS = ("-wal", "-shm", "-journal")


def open_private(path: Path, flags: int = os.O_RDWR) -> int:
    """Open (creating if need be) ``path`` as a file only its owner can read or write.

    A link in its place is refused (``O_NOFOLLOW``): in a shared folder it
    could aim the chmod at someone else's file.
    """
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, PRIVATE_FILE)
    _tighten(lambda mode: os.fchmod(fd, mode), os.fstat(fd).st_mode)
    return fd


def _tighten(chmod: Callable[[int], None], mode: int) -> None:
    """Take away what group and others may do; never add a permission (a 0400 file stays 0400).

    Best effort: another account's file, or one on a read-only mount, is left as it is.
    """
    if mode & 0o077:
        with contextlib.suppress(OSError):
            chmod(stat.S_IMODE(mode) & ~0o077)


def make_private(database: Path) -> None:
    """Create an empty database file 0600 if there is none; make it and its companions 0600.

    A database written by an older version (0644) is tightened on open:
    group and others lose their access, and nothing is ever added (a
    read-only 0444 file becomes 0400, not 0600). A file that belongs to
    another account, or sits on a read-only mount, is left as it is.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for path in (database, *(database.with_name(database.name + s) for s in COMPANIONS)):
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISREG(mode):
            _tighten(functools.partial(os.chmod, path), mode)


def private_dir(folder: Path) -> None:
    """Create missing folders 0700; an existing folder is left as the user set it."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # another writer got there first: theirs to set
            continue
        os.chmod(created, PRIVATE_DIR)  # whatever the umask took away


def still_at(fd: int, path: Path) -> bool:
    """Is the file open as ``fd`` the one at ``path`` now (not removed, not replaced)?

    A lock file whose holder removes it on release is safe only if whoever
    locks it next checks this: a process that opened the file before the
    removal and waited holds a lock on a file nobody else can find.
    """
    try:
        at_path = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (at_path.st_dev, at_path.st_ino)
