"""Asking the running service instead of reading the database: the same answer, sooner.

When ``monitor run`` serves this config's database and probe, it has the
database open, the models imported and its caches warm; a new ``monitor
why`` process has none of that. So a command that can be answered by the
service's HTTP API (``/api/why``, ``/api/status``, ``/api/timeline``) asks
it first, and reads the database itself whenever the service cannot answer
for certain: no service, no API, a refused or slow connection, a service
running another config (its ``Monitor-Config-Digest`` differs), another
database or probe (``Monitor-Database``: the same bytes can name another
database through ``${DATABASE_URL}``), another version of monitor
(``Monitor-Version``: an older service may not know a newer option), or any
answer but 200 or 400. The service answers with the very bytes the command
would print (both render with ``monitor.views``), so where the answer came
from never shows.

Everything here is light, because it runs before the command knows whether
it needs the heavy parts: ``tomllib`` and the lock file for finding the
service (``monitor.configfile``, ``monitor.discovery``), and one
GET over a plain socket to ask it. Not ``http.client``: it imports
``email`` and ``ssl`` for what a loopback GET to our own server never
needs, some 40 ms of a command that should take 150. The server is ours
and always says ``Content-Length``; anything else it might send is not
read as an answer (the command reads the database instead).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from socket import SOCK_STREAM
from typing import NamedTuple
from urllib.parse import SplitResult, urlencode, urlsplit

import click

from monitor import __version__
from monitor.configfile import ConfigGlance, glance
from monitor.digest import DATABASE_HEADER, DIGEST_HEADER, VERSION_HEADER, database_digest
from monitor.discovery import read_lock

# Connecting is loopback work: a service that does not accept at once is not there.
CONNECT_TIMEOUT_S = 0.5
# Answering reads the database; past this the service is stuck, and reading
# it here is the quicker way to an answer.
ANSWER_TIMEOUT_S = 5.0
# An answer is a page of text; a timeline over months, a few megabytes.
# A longer one is not read: the database is.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
# The status line and a dozen headers; a head past this is not our service's.
MAX_HEAD_BYTES = 64 * 1024
HEAD_CHUNK = 16 * 1024


class Reply(NamedTuple):
    """The service's answer: the text to print, and the headers that came with it."""

    text: str
    headers: Mapping[str, str]  # names in lower case


class Response(NamedTuple):
    """An HTTP answer read whole. (NamedTuples here: a dataclass costs a
    millisecond or two to make, at every start.)"""

    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes | bytearray  # read into one buffer, not copied again


class ServiceUsageError(click.UsageError):
    """The service read a parameter and refused it (its 400): the command's own usage error."""


def ask_service(
    config_path: str | None,
    path: str,
    params: Mapping[str, str | None],
    *,
    timeout: float | None = None,
) -> Reply | None:
    """The service's answer to ``GET path?params``; None to answer here.

    ``params`` left None are not sent; ``timeout`` bounds the whole
    exchange (default ``ANSWER_TIMEOUT_S``). A 400 naming the ``option`` it
    refused and the ``message`` raises ``ServiceUsageError`` with the
    command's own words (``ParamError.usage``); a 400 without both is
    answered here, where the command finds its own.
    """
    seen = glance(config_path)
    if seen is None:
        return None
    lock = read_lock(seen.lock_path)
    if lock.api is None:
        return None
    try:
        address = urlsplit(lock.api)
    except ValueError:  # "http://[::1" and the like
        return None
    if address.scheme != "http" or not address.hostname:
        return None
    target = f"{path}?{urlencode({k: v for k, v in params.items() if v is not None})}"
    headers = {"Accept": "text/plain, application/json"}
    if seen.token:
        headers["Authorization"] = f"Bearer {seen.token}"
    try:
        response = get(address, target, headers, timeout=timeout)
    except (OSError, ValueError):  # refused, reset, timed out; a port that is not a number
        return None
    if response is None or not answers_for(response.headers, seen):
        return None  # not an answer, or another config's, database's or version's
    refusal = _refusal(response.body) if response.status == 400 else None
    if refusal is not None:
        raise ServiceUsageError(refusal)
    if response.status != 200:
        return None
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return Reply(text.removesuffix("\n"), response.headers)


def answers_for(headers: Mapping[str, str], seen: ConfigGlance) -> bool:
    """Whether a service sending ``headers`` answers as this process would.

    The same config bytes, the same database and probe (digested from the
    URL as resolved here and by ``monitor.config``, so a password never
    travels), and the same version; a header missing is a mismatch.
    """
    return (
        headers.get(DIGEST_HEADER.lower()) == seen.digest
        and headers.get(DATABASE_HEADER.lower()) == database_digest(seen.database_url, seen.probe)
        and headers.get(VERSION_HEADER.lower()) == __version__
    )


def get(
    address: SplitResult,
    target: str,
    headers: Mapping[str, str],
    *,
    timeout: float | None = None,
) -> Response | None:
    """One ``GET target`` to ``http://HOST:PORT``; None for anything but a whole answer.

    The head is read first; a body longer than ``MAX_ANSWER_BYTES`` is not
    read at all, and reading stops at ``Content-Length`` (a peer keeping the
    connection open costs nothing). OSError when the connection fails or the
    answer takes longer than ``timeout`` (``ANSWER_TIMEOUT_S``) in all.
    """
    lines = [f"GET {target} HTTP/1.1", f"Host: {address.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if any(c in line for line in lines for c in "\r\n\0"):
        return None  # a value that would forge a header line (a token with a newline)
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    deadline = time.monotonic() + (ANSWER_TIMEOUT_S if timeout is None else timeout)
    # The service advertises an IP address (monitor/listen.py), so
    # the first address is the one; given as bytes, it is not IDNA-encoded
    # (which would import that codec, for nothing).
    host = (address.hostname or "").encode("ascii")
    family, kind, proto, _, where = socket.getaddrinfo(host, address.port or 80, 0, SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as connection:
        connection.settimeout(min(CONNECT_TIMEOUT_S, max(deadline - time.monotonic(), 0.001)))
        connection.connect(where)
        connection.sendall(request)
        return _read_response(connection, deadline)


def _read_response(connection: socket.socket, deadline: float) -> Response | None:
    """The head until its blank line, then exactly ``Content-Length`` bytes into one buffer."""
    received = bytearray()
    searched = 0
    while (end := received.find(b"\r\n\r\n", searched)) < 0:
        if len(received) > MAX_HEAD_BYTES:
            return None
        searched = max(len(received) - 3, 0)  # the blank line may straddle two reads
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = connection.recv(HEAD_CHUNK)
        if not chunk:
            return None
        received += chunk
    head = parse_head(bytes(received[:end]))
    if head is None:
        return None
    status, fields = head
    length = body_length(fields)
    early = len(received) - end - 4
    if length is None or early > length:
        return None
    body = bytearray(length)
    body[:early] = received[end + 4 :]
    view = memoryview(body)
    got = early
    while got < length:
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        count = connection.recv_into(view[got:])
        if not count:
            return None  # cut short
        got += count
    return Response(status, fields, body)


def parse_head(head: bytes) -> tuple[int, dict[str, str]] | None:
    """An HTTP/1.x status line and header lines: the status and the headers (names lower case)."""
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        return None
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            return None
        headers[name.lower()] = value.strip()
    return int(code), headers


def body_length(headers: Mapping[str, str]) -> int | None:
    """The ``Content-Length`` of an answer we read: None when absent, chunked or too long."""
    length = headers.get("content-length", "")
    if "transfer-encoding" in headers or not length.isdigit() or len(length) > 12:
        return None
    value = int(length)
    return value if value <= MAX_ANSWER_BYTES else None


def parse_response(data: bytes) -> Response | None:
    """An HTTP/1.x answer read to its end: status, headers, and a body as long as it says."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return None
    parsed = parse_head(head)
    if parsed is None or body_length(parsed[1]) != len(body):
        return None
    return Response(parsed[0], parsed[1], body)


def _refusal(body: bytes | bytearray) -> str | None:
    """The usage error a 400's JSON names (``option`` and ``message``), or None without both.

    Only a service that read one of the command's own parameters says
    which; any other 400 (an older or newer service refusing something this
    process sent) is answered here, where the command finds its own words.
    """
    import json

    from monitor.views.params import ParamError

    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    option, message = document.get("option"), document.get("message")
    if not isinstance(option, str) or not isinstance(message, str) or not option or not message:
        return None
    return ParamError(option, message).usage()
