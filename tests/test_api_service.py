"""The API inside ``monitor run``: started after the probe is claimed, advertised, stopped cleanly.

``Service.run_forever`` runs in the test's own thread (it installs signal
handlers, which only the main thread may); a helper thread talks to the API
once it serves and then asks the service to stop.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.service.api.server import ListenError
from monitor.service.lock import InstanceLock
from monitor.service.scheduler import Service
from monitor.store.heartbeats import LEASE
from tests.api_client import Answer, request, serving
from tests.conftest import run_monitor
from tests.loopback import wait_until

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def write(folder: Path, listen: str = "127.0.0.1:0") -> Path:
    path = folder / "config.toml"
    path.write_text(f'[monitor]\nprobe = "svc"\n\n[http]\nlisten = "{listen}"\n', encoding="utf-8")
    return path


@pytest.fixture
def signals_restored() -> Iterator[None]:
    """run_forever installs TERM/INT/HUP handlers; the test process gets its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def heartbeats(database: Path) -> list[tuple[str, str | None]]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute("SELECT probe, stopped_at FROM heartbeat").fetchall()


def test_the_service_serves_advertises_and_stops_cleanly(tmp_path, signals_restored):
    config = write(tmp_path)
    lock = InstanceLock.acquire(load_config(config))
    service = Service(str(config), grace=timedelta(seconds=1), lock=lock)
    seen: dict[str, Answer | str] = {}

    def visit() -> None:
        try:
            if not wait_until(lambda: service.api_url is not None, timeout=30):
                return
            assert service.api_url is not None
            seen["lock"] = lock.path.read_text(encoding="utf-8")
            seen["healthz"] = request(service.api_url, "/healthz")
            seen["why"] = request(service.api_url, "/api/why?format=text")
            seen["status"] = request(service.api_url, "/api/status?format=text")
        finally:
            service.stopping.set()

    visitor = threading.Thread(target=visit)
    visitor.start()
    try:
        status = service.run_forever()
    finally:
        visitor.join(timeout=30)
        lock.release()
        service.runtime.store.close()

    assert status == 0
    url = service.api_url
    assert url is not None
    assert url.startswith("http://127.0.0.1:")
    first, second = str(seen["lock"]).splitlines()
    assert first.startswith("pid ")
    assert second == f"api {url}"
    healthz = seen["healthz"]
    assert isinstance(healthz, Answer)
    assert healthz.status == 200
    assert healthz.json()["ok"] is True
    assert healthz.json()["probe"] == "svc"
    why = seen["why"]
    assert isinstance(why, Answer)
    assert why.status == 200
    status_text = seen["status"]
    assert isinstance(status_text, Answer)
    assert status_text.text.startswith(f"service: running for probe svc ({first}; ")
    # stopped: the port is closed, the thread gone, the heartbeat ended
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert not any(t.name == "monitor-api" and t.is_alive() for t in threading.enumerate())
    assert [stopped is not None for _, stopped in heartbeats(tmp_path / "monitor.db")] == [True]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_a_taken_port_fails_the_start_and_leaves_nothing_behind(tmp_path, taken_port):
    config = write(tmp_path, f"127.0.0.1:{taken_port}")
    service = Service(str(config), grace=timedelta(seconds=1))
    try:
        with pytest.raises(ListenError) as caught:
            service.run_forever()
        assert service.heartbeat.heartbeat_id is None
        assert not service.scheduler.running
    finally:
        service.runtime.store.close()

    assert str(caught.value) == (
        f"cannot serve the API on [http] listen (127.0.0.1:{taken_port}): the address is "
        "already in use (another program, or another monitor run, listens there); stop it, "
        "or choose another port in [http] listen (port 0 picks any free one)"
    )
    assert [stopped is not None for _, stopped in heartbeats(tmp_path / "monitor.db")] == [True]


def test_monitor_run_on_a_taken_port_exits_1_with_the_message(tmp_path, taken_port):
    config = write(tmp_path, f"127.0.0.1:{taken_port}")

    done = run_monitor(config, "run")

    assert done.returncode == 1
    assert f"error: cannot serve the API on [http] listen (127.0.0.1:{taken_port})" in done.stderr
    assert "Traceback" not in done.stderr
    assert [stopped is not None for _, stopped in heartbeats(tmp_path / "monitor.db")] == [True]
    assert not (tmp_path / "monitor.db.svc.lock").exists()  # no address left to be found


def test_healthz_says_503_when_the_heartbeat_is_stale_or_the_service_stops(tmp_path):
    now = [T0]
    with serving(write(tmp_path), clock=lambda: now[0]) as service:
        assert service.api_url is not None
        assert request(service.api_url, "/healthz").status == 200

        now[0] = T0 + LEASE  # no beat for a whole lease
        stale = request(service.api_url, "/healthz")
        assert stale.status == 503
        assert stale.json()["ok"] is False
        assert stale.json()["heartbeat_age_seconds"] == LEASE.total_seconds()
        assert "the heartbeat is stale: last renewed 90s ago" in stale.json()["problem"]

        service.beat()
        assert request(service.api_url, "/healthz").status == 200

        service.stopping.set()
        stopping = request(service.api_url, "/healthz")
        assert stopping.status == 503
        assert stopping.json()["problem"] == "the service is stopping"


def test_the_dashboard_address_says_when_the_first_one_comes_before_it_is_drawn(tmp_path):
    with serving(write(tmp_path), clock=lambda: T0) as service:
        assert service.api_url is not None
        answered = request(service.api_url, "/")
    assert answered.status == 404
    assert "the first a minute after it starts" in answered.json()["error"]
