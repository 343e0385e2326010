"""Asking the running service instead of reading the database: the same answer, sooner.

When ``monitor run`` serves this config's database and probe, it has the
database open, the models imported and its caches warm; a new ``monitor
why`` process has none of that. So a command that can be answered by the
service's HTTP API (``/api/why``, ``/api/status``, ``/api/timeline``) asks
it first, and reads the database itself whenever the service cannot answer
for certain: no service, no API, a refused or slow connection, a service
running another config (its ``Monitor-Config-Digest`` differs), or any
answer but 200 or 400. The service answers with the very bytes the command
would print (both render with ``monitor.views``), so where the answer came
from never shows.

Everything here is light: the stdlib HTTP client, ``tomllib`` and the lock
file (``monitor.configfile``, ``monitor.service.discovery``), nothing that
imports SQLAlchemy or pydantic, so the fast path stays fast.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

import click

from monitor.configfile import glance
from monitor.service.discovery import DIGEST_HEADER, read_lock

# Connecting is loopback work: a service that does not accept at once is not there.
CONNECT_TIMEOUT_S = 0.5
# Answering reads the database; past this the service is stuck, and reading
# it here is the quicker way to an answer.
ANSWER_TIMEOUT_S = 5.0


class ServiceUsageError(click.UsageError):
    """The service read a parameter and refused it (its 400): the command's own usage error."""


def ask_service(config_path: str | None, path: str, params: Mapping[str, str | None]) -> str | None:
    """The service's answer to ``GET path?params``, as the text to print; None to answer here.

    ``params`` left None are not sent. A 400 raises ``ServiceUsageError``
    with the service's words, which are the command's own (``ParamError.usage``);
    a 400 without them is answered here, where the command finds its own.
    """
    seen = glance(config_path)
    if seen is None:
        return None
    lock = read_lock(seen.lock_path)
    if lock.api is None:
        return None
    address = urlsplit(lock.api)
    try:
        host, port = address.hostname, address.port
    except ValueError:  # a port that is not a number
        return None
    if address.scheme != "http" or host is None:
        return None
    query = urlencode({k: v for k, v in params.items() if v is not None})
    headers = {"Accept": "text/plain, application/json"}
    if seen.token:
        headers["Authorization"] = f"Bearer {seen.token}"
    connection = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_S)
    try:
        connection.connect()
        assert connection.sock is not None  # connect() made it
        connection.sock.settimeout(ANSWER_TIMEOUT_S)
        connection.request("GET", f"{path}?{query}", headers=headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    if response.getheader(DIGEST_HEADER) != seen.digest:
        return None  # another config's service: not this question's answer
    refusal = _refusal(body) if response.status == 400 else None
    if refusal is not None:
        raise ServiceUsageError(refusal)
    if response.status != 200:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.removesuffix("\n")


def _refusal(body: bytes) -> str | None:
    """The ``error`` of a 400's JSON body, or None when it has none."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, str) and error else None
