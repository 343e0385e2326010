"""dns, tcp (monitor.checks.network) and local_port (monitor.checks.ports) against
real sockets on 127.0.0.1; no external names."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from monitor.checks import network
from monitor.checks.context import CheckContext
from monitor.checks.network import run_dns, run_tcp
from monitor.checks.ports import run_local_port
from monitor.checks.registry import runner_for
from monitor.checks.settings import DnsCheck, LocalPortCheck, TcpCheck
from monitor.failures import Failure

# Reserved by RFC 2606: must never resolve, anywhere.
UNRESOLVABLE = "monitor-check-test.invalid"


@pytest.fixture
def context(tmp_path: Path) -> CheckContext:
    return CheckContext(config_dir=tmp_path, state_dir=tmp_path, env={})


def dns(host: str, timeout: str = "5s") -> DnsCheck:
    return DnsCheck.model_validate({"name": "d", "kind": "dns", "host": host, "timeout": timeout})


def tcp(host: str, port: int, timeout: str = "2s") -> TcpCheck:
    return TcpCheck.model_validate(
        {"name": "t", "kind": "tcp", "host": host, "port": port, "timeout": timeout}
    )


def local_port(ports: str, timeout: str = "5s") -> LocalPortCheck:
    return LocalPortCheck.model_validate(
        {"name": "p", "kind": "local_port", "ports": ports, "timeout": timeout}
    )


def listener(port: int = 0, host: str = "127.0.0.1", backlog: int = 8) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def closed_port() -> int:
    """A port nothing listens on: bound, noted, released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def occupied(count: int) -> Iterator[list[socket.socket]]:
    """``count`` listeners on consecutive ports (below the ephemeral range)."""
    for _ in range(100):
        base = random.randint(20000, 32000)
        with ExitStack() as stack:
            try:
                held = [stack.enter_context(listener(port)) for port in range(base, base + count)]
            except OSError:
                continue
            yield held
            return
    raise RuntimeError("no run of free ports found")


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


# --- dns --------------------------------------------------------------------


def test_dns_resolves_localhost(context: CheckContext) -> None:
    result = run_dns(dns("localhost"), context)

    assert result.ok, result.detail
    assert "127.0.0.1" in result.facts["addresses"]
    assert result.facts["addresses"] == sorted(set(result.facts["addresses"]))
    assert result.phases_ms["dns"] >= 0
    assert "elapsed_ms" not in result.facts  # a phase, kept once with the phases
    assert result.detail.startswith("localhost resolved to ")


def test_dns_reserved_invalid_name_fails(context: CheckContext) -> None:
    result = run_dns(dns(UNRESOLVABLE), context)

    assert result.failure_class == Failure.DNS_FAILURE, result.detail
    assert UNRESOLVABLE in result.detail


def test_dns_malformed_name_fails_without_raising(context: CheckContext) -> None:
    result = run_dns(dns("double..dot.invalid"), context)

    assert result.failure_class == Failure.DNS_FAILURE
    assert "not a valid host name" in result.detail


@pytest.fixture
def hung_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A resolver that never answers (cannot be produced on loopback: stand in for it)."""
    release = threading.Event()

    def hang(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    yield
    release.set()


@pytest.mark.usefixtures("hung_resolver")
def test_dns_lookup_that_never_answers_is_a_dns_failure(context: CheckContext) -> None:
    # Not TIMEOUT: that class means connected, then no answer; nothing was connected.
    result = run_dns(dns("stuck.invalid", timeout="200ms"), context)

    assert result.failure_class == Failure.DNS_FAILURE
    assert result.detail == "DNS lookup for stuck.invalid did not answer within 0.2s"


# --- tcp --------------------------------------------------------------------


def test_tcp_connects_to_a_listener(context: CheckContext) -> None:
    with listener() as server:
        port = port_of(server)
        result = run_tcp(tcp("127.0.0.1", port), context)

    assert result.ok, result.detail
    assert result.facts["address"] == f"127.0.0.1:{port}"
    assert result.phases_ms["connect"] >= 0
    assert set(result.phases_ms) == {"dns", "connect"}
    assert set(result.facts) == {"target", "address"}  # the times are phases, kept once


def test_tcp_by_name_tries_each_address(context: CheckContext) -> None:
    # localhost may resolve to ::1 first; only 127.0.0.1 listens.
    with listener() as server:
        port = port_of(server)
        result = run_tcp(tcp("localhost", port), context)

    assert result.ok, result.detail
    assert result.facts["address"] == f"127.0.0.1:{port}"


def test_tcp_closed_port_is_refused(context: CheckContext) -> None:
    port = closed_port()

    result = run_tcp(tcp("127.0.0.1", port), context)

    assert result.failure_class == Failure.CONNECT_REFUSED
    assert f"127.0.0.1:{port}: connection refused" in result.detail


def test_tcp_full_accept_queue_times_out(context: CheckContext) -> None:
    # A listener with a full accept queue drops SYNs: nothing answers, as with
    # a firewall that drops packets.
    with listener(backlog=0) as server, ExitStack() as fillers:
        address = server.getsockname()
        for _ in range(8):
            filler = fillers.enter_context(socket.socket())
            filler.settimeout(0.3)
            try:
                filler.connect(address)
            except TimeoutError:
                break
        result = run_tcp(tcp("127.0.0.1", address[1], timeout="300ms"), context)

    assert result.failure_class == Failure.CONNECT_TIMEOUT
    assert "connect timed out after 0.3s" in result.detail


def test_tcp_unresolvable_host_is_a_dns_failure(context: CheckContext) -> None:
    result = run_tcp(tcp(UNRESOLVABLE, 443), context)

    assert result.failure_class == Failure.DNS_FAILURE


@pytest.mark.usefixtures("hung_resolver")
def test_tcp_resolver_that_never_answers_is_a_dns_failure(context: CheckContext) -> None:
    result = run_tcp(tcp("stuck.invalid", 443, timeout="200ms"), context)

    assert result.failure_class == Failure.DNS_FAILURE
    assert (
        result.detail
        == "stuck.invalid:443: DNS lookup for stuck.invalid did not answer within 0.2s"
    )


# --- local_port -------------------------------------------------------------


def test_local_port_is_run_from_its_own_module() -> None:
    assert runner_for("local_port") is run_local_port
    assert not hasattr(network, "run_local_port")


def test_free_single_port_passes(context: CheckContext) -> None:
    port = closed_port()

    result = run_local_port(local_port(str(port)), context)

    assert result.ok
    assert result.detail == f"port {port} is free on 127.0.0.1"
    assert result.facts["free"] is True


def test_occupied_single_port_fails_naming_it(context: CheckContext) -> None:
    with occupied(1) as (held,):
        port = port_of(held)
        result = run_local_port(local_port(str(port)), context)

    assert result.failure_class == Failure.PORT_UNAVAILABLE
    assert result.detail.startswith(f"port {port} is in use on 127.0.0.1")
    assert result.facts["occupied"] == [port]
    if "first_free" in result.facts:
        assert f"(first free: {result.facts['first_free']})" in result.detail


def test_port_held_on_all_interfaces_is_in_use_on_loopback(context: CheckContext) -> None:
    with listener(host="0.0.0.0") as server:  # noqa: S104
        port = port_of(server)
        result = run_local_port(local_port(str(port)), context)

    assert result.failure_class == Failure.PORT_UNAVAILABLE
    assert f"port {port} is in use" in result.detail


def test_range_with_every_port_occupied_fails(context: CheckContext) -> None:
    with occupied(3) as held:
        ports = [port_of(sock) for sock in held]
        spec = f"{ports[0]}-{ports[-1]}"
        result = run_local_port(local_port(spec), context)

    assert result.failure_class == Failure.PORT_UNAVAILABLE
    assert result.detail == f"all 3 ports {spec} are in use on 127.0.0.1"
    assert result.facts["occupied"] == ports
    assert result.facts["free_count"] == 0


def test_range_with_one_free_port_passes_and_says_which(context: CheckContext) -> None:
    with occupied(3) as held:
        ports = [port_of(sock) for sock in held]
        spec = f"{ports[0]}-{ports[-1]}"
        # A listener that never accepted leaves no TIME_WAIT: its port is free again.
        held[1].close()
        result = run_local_port(local_port(spec), context)

    assert result.ok, result.detail
    assert result.facts["first_free"] == ports[1]
    assert result.facts["occupied"] == [ports[0], ports[2]]
    assert result.facts["occupied_count"] == 2
    assert result.detail == (
        f"2 of 3 ports {spec} taken on 127.0.0.1 ({ports[0]}, {ports[2]}); first free: {ports[1]}"
    )


def test_range_all_free_passes(context: CheckContext) -> None:
    with occupied(3) as held:
        ports = [port_of(sock) for sock in held]
        for sock in held:
            sock.close()
        spec = f"{ports[0]}-{ports[-1]}"
        result = run_local_port(local_port(spec), context)

    assert result.ok
    assert result.detail == f"all 3 ports {spec} are free on 127.0.0.1"


def test_large_range_is_scanned_within_the_timeout(context: CheckContext) -> None:
    result = run_local_port(local_port("21000-21999"), context)

    assert result.facts["checked"] == 1000
    assert result.ok, result.detail


def test_scan_stops_at_the_timeout(context: CheckContext) -> None:
    result = run_local_port(local_port("1024-65535", timeout="1ms"), context)

    assert result.facts["checked"] < 64512
    assert f"the first {result.facts['checked']} of 64512 ports 1024-65535" in result.detail
    assert result.detail.endswith("the scan stopped at the timeout")
