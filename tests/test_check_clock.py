"""clock against real servers on 127.0.0.1: skew produced by shifting this side's clock."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.checks.clock import run_clock
from monitor.checks.context import CheckContext
from monitor.checks.runner import run_check
from monitor.checks.settings import ClockCheck
from monitor.failures import Failure
from tests.loopback import LoopbackServer


def clock(url: str, **options: Any) -> ClockCheck:
    return ClockCheck.model_validate({"name": "clock", "kind": "clock", "url": url, **options})


def shifted(tmp_path: Path, offset: timedelta = timedelta(0)) -> CheckContext:
    """A context whose clock is ``offset`` ahead of the real one (the server's)."""

    def now() -> datetime:
        return datetime.now(UTC) + offset

    return CheckContext(config_dir=tmp_path, state_dir=tmp_path, env={}, now=now)


@contextmanager
def raw_server(head: bytes) -> Iterator[str]:
    """A one-shot HTTP server answering with exactly ``head`` (http.server always adds Date)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)

    def answer() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(5)
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                received += chunk
            connection.sendall(head)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        listener.close()
        thread.join(timeout=5)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_clock_in_step_with_the_server_passes(server: LoopbackServer, tmp_path: Path) -> None:
    server.route("/time", b"{}")

    result = run_clock(clock(f"{server.url}/time"), shifted(tmp_path))

    assert result.ok, result.detail
    assert result.detail in (
        "clock agrees with 127.0.0.1 to the second (max skew 30s)",
        "this machine is 1s ahead of 127.0.0.1, within the max skew 30s",
        "this machine is 1s behind 127.0.0.1, within the max skew 30s",
    )
    assert abs(result.facts["skew_s"]) <= 1.5
    assert result.facts["http_status"] == 200
    assert result.facts["round_trip_ms"] >= 0
    assert result.facts["server_date"].endswith("Z")
    assert result.server_date is not None
    assert abs((result.server_date - datetime.now(UTC)).total_seconds()) < 5
    assert result.http_status == 200


def test_any_status_will_do(server: LoopbackServer, tmp_path: Path) -> None:
    # No route: the loopback server answers 404, with a Date all the same.
    result = run_clock(clock(f"{server.url}/missing"), shifted(tmp_path))

    assert result.ok, result.detail
    assert result.http_status == 404


def test_machine_ahead_of_the_server_fails(server: LoopbackServer, tmp_path: Path) -> None:
    server.route("/", b"")

    result = run_clock(clock(server.url + "/"), shifted(tmp_path, timedelta(minutes=10)))

    assert result.failure_class == Failure.CLOCK_SKEW
    assert result.facts["skew_s"] == pytest.approx(-600, abs=1.5)
    assert result.detail.startswith("this machine is ")
    assert "ahead of 127.0.0.1 (max skew 30s)" in result.detail
    assert result.facts["max_skew_s"] == 30


def test_machine_behind_the_server_fails(server: LoopbackServer, tmp_path: Path) -> None:
    server.route("/", b"")

    result = run_clock(
        clock(server.url + "/", max_skew="1m"),
        shifted(tmp_path, -timedelta(minutes=2, seconds=13)),
    )

    assert result.failure_class == Failure.CLOCK_SKEW
    assert result.facts["skew_s"] == pytest.approx(133, abs=1.5)
    assert "behind 127.0.0.1 (max skew 1m)" in result.detail
    assert result.detail.startswith(tuple(f"this machine is 2m{s}s" for s in (12, 13, 14)))


def test_skew_within_the_threshold_passes(server: LoopbackServer, tmp_path: Path) -> None:
    server.route("/", b"")

    result = run_clock(
        clock(server.url + "/", max_skew="5m"), shifted(tmp_path, timedelta(minutes=2))
    )

    assert result.ok, result.detail
    assert result.facts["skew_s"] == pytest.approx(-120, abs=1.5)
    assert "ahead of 127.0.0.1, within the max skew 5m" in result.detail


def test_no_date_header_is_a_protocol_error(tmp_path: Path) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with raw_server(head) as url:
        result = run_clock(clock(url), shifted(tmp_path))

    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert result.detail == "127.0.0.1 sent no Date header: cannot measure clock skew"
    assert result.http_status == 200


def test_unreadable_date_header_is_a_protocol_error(tmp_path: Path) -> None:
    head = (
        b"HTTP/1.1 204 No Content\r\nDate: yesterday-ish\r\nContent-Length: 0\r\n"
        b"Connection: close\r\n\r\n"
    )
    with raw_server(head) as url:
        result = run_clock(clock(url), shifted(tmp_path))

    assert result.failure_class == Failure.PROTOCOL_ERROR
    assert "'yesterday-ish'" in result.detail


def test_date_without_a_zone_is_taken_as_gmt(tmp_path: Path) -> None:
    stamp = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S -0000").encode()
    head = b"HTTP/1.1 200 OK\r\nDate: " + stamp + b"\r\nContent-Length: 0\r\n\r\n"
    with raw_server(head) as url:
        result = run_clock(clock(url), shifted(tmp_path))

    assert result.ok, result.detail


def test_closed_port_is_refused(tmp_path: Path) -> None:
    result = run_clock(clock(f"http://127.0.0.1:{closed_port()}/"), shifted(tmp_path))

    assert result.failure_class == Failure.CONNECT_REFUSED
    assert "skew_s" not in result.facts


def test_unresolvable_host_is_a_dns_failure(tmp_path: Path) -> None:
    result = run_clock(clock("http://monitor-clock-test.invalid/"), shifted(tmp_path))

    assert result.failure_class == Failure.DNS_FAILURE


def test_server_that_never_answers_times_out(server: LoopbackServer, tmp_path: Path) -> None:
    server.route("/slow", b"", delay=30)

    result = run_clock(clock(f"{server.url}/slow", timeout="300ms"), shifted(tmp_path))

    assert result.failure_class == Failure.TIMEOUT


def test_https_with_the_configured_ca(
    tls_server: tuple[LoopbackServer, Path], tmp_path: Path
) -> None:
    running, ca_file = tls_server
    running.route("/", b"")

    trusted = run_clock(clock(running.url + "/", ca_file=str(ca_file)), shifted(tmp_path))
    untrusted = run_clock(clock(running.url + "/"), shifted(tmp_path))
    unverified = run_clock(clock(running.url + "/", verify_tls=False), shifted(tmp_path))

    assert trusted.ok, trusted.detail
    assert untrusted.failure_class == Failure.TLS_ERROR
    assert unverified.ok, unverified.detail


def test_missing_ca_file_is_misconfigured(server: LoopbackServer, tmp_path: Path) -> None:
    context = shifted(tmp_path)
    _, _, result = run_check(
        clock(server.url + "/", ca_file=str(tmp_path / "absent.pem")), context, context.now
    )

    assert result.failure_class == Failure.MISCONFIGURED
    assert "absent.pem" in result.detail


def test_request_is_dated_on_both_sides(server: LoopbackServer, tmp_path: Path) -> None:
    """``now`` is read once before sending and once on the answer: the midpoint is judged."""
    calls: list[datetime] = []
    real: Callable[[], datetime] = shifted(tmp_path).now

    def counting() -> datetime:
        calls.append(real())
        return calls[-1]

    server.route("/", b"")
    context = CheckContext(config_dir=tmp_path, state_dir=tmp_path, env={}, now=counting)

    result = run_clock(clock(server.url + "/"), context)

    assert result.ok
    assert len(calls) == 2
    assert result.facts["round_trip_ms"] == pytest.approx(
        (calls[1] - calls[0]).total_seconds() * 1000, abs=0.01
    )
