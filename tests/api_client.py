"""Talking to the service's API in tests: a real service's server on 127.0.0.1, and raw requests.

``http.client`` sends the path exactly as given (no ``..`` folded away, no
re-quoting), which the path-traversal tests need.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.service.scheduler import Service


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def request(
    url: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    """One request to ``url`` (``http://HOST:PORT``) on a connection of its own."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=30)
    try:
        connection.putrequest(method, path, skip_host="Host" in (headers or {}))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


@contextmanager
def serving(config: Path, clock: Callable[[], datetime]) -> Iterator[Service]:
    """The service for ``config`` with its probe claimed and its API bound, but no jobs scheduled.

    ``service.api_url`` is where it serves. The jobs are run by the test
    (``service.run_job``) when it needs them.
    """
    service = Service(str(config), grace=timedelta(seconds=1), clock=clock)
    try:
        api = service._api()
        assert api is not None, "the config has no [http] listen"
        service.heartbeat.start()
        service._serve(api)
        yield service
    finally:
        if service.api is not None:
            service.api.stop()
        service.heartbeat.stop()
        service.runtime.http.close()
        service.runtime.store.close()
