"""Which config a process answers with: the SHA-256 of the config file's bytes.

The running service sends it with every HTTP answer (``Monitor-Config-Digest``)
and a command line computes it for the file it was given: equal digests mean
both read the same file contents, so the service may answer for the command.
Kept apart from ``monitor.config`` so a caller pays for hashlib alone.
"""

from __future__ import annotations

import hashlib
import os

DIGEST_HEADER = "Monitor-Config-Digest"


def config_digest(path: str | os.PathLike[str]) -> str:
    """The lowercase hex SHA-256 of the file's bytes; OSError when it cannot be read."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


# The database and probe the service answers for, and the version answering:
# the same config bytes can mean another database (``${DATABASE_URL}`` differs
# between shells), and an older service may not know a newer option.
DATABASE_HEADER = "Monitor-Database"
VERSION_HEADER = "Monitor-Version"


def database_digest(database_url: str, probe: str) -> str:
    """The lowercase hex SHA-256 of the resolved database URL and the probe name.

    A digest rather than the URL itself: the URL may carry a password, and
    the header only needs to say whether two processes mean the same thing.
    """
    return hashlib.sha256(f"{database_url}\n{probe}".encode()).hexdigest()
