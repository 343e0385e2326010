"""Exceptions raised by monitor, and what each one means to a user.

MonitorError                 base: anything the CLI turns into a readable message
├── ConfigError              the config file is missing or wrong (exit status 2)
├── DatabaseError            the database cannot be opened or migrated
├── SourceError              one poll of one status source failed; recorded, never fatal
│   ├── FetchError           transport or HTTP-level failure (timeout, 5xx, too large)
│   │   ├── ErrorResponse    (polling/fetch.py)  the status page answered 4xx/5xx
│   │   └── TransportFailure (polling/fetch.py)  no response: refused, timeout, DNS, TLS...
│   └── ParseError           the bytes arrived but are not the document we expected
├── TokenStoreError          (checks/tokenstore.py)  a check's own OAuth token file is unusable
│   ├── TokenMissing         (checks/tokenstore.py)  none stored yet: `monitor token set <check>`
│   ├── TokenInsecure        (checks/tokenstore.py)  others can read or write it; refused
│   ├── TokenInvalid         (checks/tokenstore.py)  not a token file monitor wrote, or unreadable
│   └── TokenBusy            (checks/tokenstore.py)  another process is refreshing that token
├── AlreadyRunning           (service/lock.py)  another `monitor run` already holds this database
└── ListenError              (service/api/server.py)  [http] listen cannot be bound (port taken)

Classes defined outside this module name their file under monitor/;
tests/test_errors.py fails if a MonitorError subclass is missing from this tree.

A SourceError carries ``reason`` (one readable line, safe to store and print)
and, where known, the HTTP status of the response that caused it.
"""

from __future__ import annotations

import os


class MonitorError(Exception):
    """Base class for errors the CLI reports as a message rather than a traceback."""


class ConfigError(MonitorError):
    """The configuration cannot be used; the message names the file, the key and the fix."""

    @classmethod
    def listing(cls, config_path: os.PathLike[str] | str, problems: list[str]) -> ConfigError:
        """One error listing ``problems`` (each ``key.path: what is wrong``) for the file."""
        noun = "problem" if len(problems) == 1 else "problems"
        lines = [f"{config_path}: {len(problems)} {noun} in config"]
        lines += [f"  {p}" for p in problems]
        return cls("\n".join(lines))


class DatabaseError(MonitorError):
    """The database cannot be opened, or its schema is newer than this program."""


class SourceError(MonitorError):
    """One poll of one source failed; the poll log records ``reason``."""

    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


class FetchError(SourceError):
    """The request did not produce a usable response body."""


class ParseError(SourceError):
    """The response body is not the kind of document the source expects."""
