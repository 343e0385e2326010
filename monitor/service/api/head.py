"""Reading a request's head (request line and headers) within a size and a time budget.

The standard library reads each header line up to 64 KiB and up to 100
of them, with a socket timeout per read: one connection could make the
service hold 6 MiB, and a client sending a byte every few seconds could
hold a connection (and its thread, and one of the capped slots) for
hours. ``HeadReader`` stands in for the handler's ``rfile`` while the
head is read: past ``budget`` bytes it raises ``HeadTooLarge`` (a 431),
past the ``deadline`` (counted from the connection's start, not per
read) a ``TimeoutError`` (the connection is dropped).
"""

from __future__ import annotations

import io
import socket
import time


class HeadTooLarge(Exception):
    """The request line and headers are longer than the budget."""


class HeadReader(io.BufferedIOBase):
    """``readline`` over a socket's buffered reader, counting bytes and watching a deadline.

    Each read is at most one ``recv`` (``read1``) with the socket's timeout
    cut to what is left of the deadline, so a slow sender cannot stretch
    one line over many timeouts. Bytes read past the head (a body the API
    never reads) stay in this reader's buffer.
    """

    def __init__(
        self,
        raw: io.BufferedIOBase,
        connection: socket.socket,
        *,
        budget: int,
        deadline: float,
        timeout: float,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._connection = connection
        self._budget = budget
        self._deadline = deadline  # time.monotonic() by which the head must be in
        self._timeout = timeout  # the socket's own timeout, restored after each line
        self._buffer = bytearray()
        self._used = 0

    def readable(self) -> bool:
        return True

    def readline(self, limit: int | None = -1) -> bytes:
        limit = -1 if limit is None else limit
        try:
            while True:
                end = self._buffer.find(b"\n")
                size = end + 1 if end >= 0 else len(self._buffer)
                if limit >= 0:
                    size = min(size, limit)
                if self._used + size > self._budget:
                    raise HeadTooLarge
                if end >= 0 or (limit >= 0 and len(self._buffer) >= limit):
                    return self._take(size)
                left = self._deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the request's head did not arrive in time")
                self._connection.settimeout(min(left, self._timeout))
                chunk = self._raw.read1(4096)
                if not chunk:  # the client closed: what there is
                    return self._take(len(self._buffer))
                self._buffer += chunk
        finally:
            self._connection.settimeout(self._timeout)

    def _take(self, size: int) -> bytes:
        line = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._used += size
        return line
