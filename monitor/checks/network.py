"""``dns``, ``tcp`` and ``local_port``: the network below HTTP, from this machine.

When an HTTP check fails, these say at which layer: the name does not
resolve, nothing accepts the connection, or (for an OAuth login loop) the
tool cannot even bind its localhost callback port. Every blocking call is
bounded by the check's ``timeout``, name resolution included, so one stuck
resolver never holds up a batch of checks.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from monitor.checks.context import CheckContext
from monitor.checks.result import (
    CONNECT_REFUSED,
    CONNECT_TIMEOUT,
    CONNECTION_RESET,
    DNS_FAILURE,
    MISCONFIGURED,
    NETWORK_UNREACHABLE,
    PORT_UNAVAILABLE,
    TIMEOUT,
    CheckResult,
)
from monitor.checks.settings import DnsCheck, LocalPortCheck, TcpCheck, port_span

LOOPBACK = "127.0.0.1"
_SHOWN_ADDRESSES = 4
_SHOWN_PORTS = 8
_FACT_PORTS = 50
# A single busy port: how far to look for a free neighbour to suggest.
_NEIGHBOURS = 100
_IN_USE = "in use"
# Errors where the network itself said no: nothing to wait for, like a refusal.
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN}

# A resolved address and port, in the order the resolver gave them.
_Endpoint = tuple[str, int]


class _Failure(Exception):
    """A failure already named: its class and the line the user reads."""

    def __init__(self, failure_class: str, detail: str) -> None:
        super().__init__(detail)
        self.failure_class = failure_class
        self.detail = detail


# --- name resolution --------------------------------------------------------


def run_dns(settings: DnsCheck, context: CheckContext) -> CheckResult:
    """Resolve the host the way every client on this machine will, and time it."""
    timeout = settings.timeout.total_seconds()
    started = time.perf_counter()
    try:
        endpoints = _resolve(settings.host, None, timeout)
    except _Failure as failure:
        return CheckResult.failed(
            failure.failure_class, failure.detail, facts={"host": settings.host}
        )
    elapsed_ms = _ms_since(started)
    addresses = sorted({address for address, _ in endpoints})
    return CheckResult.passed(
        f"{settings.host} resolved to {_listing(addresses, _SHOWN_ADDRESSES)} "
        f"in {_ms_text(elapsed_ms)}",
        phases_ms={"dns": elapsed_ms},
        facts={"host": settings.host, "addresses": addresses, "elapsed_ms": elapsed_ms},
    )


def _resolve(host: str, port: int | None, timeout: float) -> list[_Endpoint]:
    """``getaddrinfo`` bounded by ``timeout``.

    getaddrinfo cannot be cancelled, so it runs in a daemon thread and is
    abandoned if it does not answer in time: an executor's worker would be
    joined at interpreter exit and keep ``monitor check`` from exiting.
    """
    answer: Future[list[_Endpoint]] = Future()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            endpoints = [(str(info[4][0]), int(info[4][1])) for info in infos]
            answer.set_result(list(dict.fromkeys(endpoints)))
        except BaseException as exc:  # handed to the caller, who names it
            answer.set_exception(exc)

    threading.Thread(target=lookup, name=f"dns {host}", daemon=True).start()
    try:
        endpoints = answer.result(timeout)
    except FutureTimeout:
        raise _Failure(TIMEOUT, f"no DNS answer for {host} within {timeout:g}s") from None
    except socket.gaierror as exc:
        raise _Failure(DNS_FAILURE, f"DNS lookup failed for {host}: {exc.strerror}") from None
    except UnicodeError:
        raise _Failure(DNS_FAILURE, f"{host!r} is not a valid host name") from None
    except OSError as exc:
        raise _Failure(DNS_FAILURE, f"DNS lookup failed for {host}: {_reason(exc)}") from None
    if not endpoints:
        raise _Failure(DNS_FAILURE, f"DNS lookup for {host} returned no addresses")
    return endpoints


# --- connecting -------------------------------------------------------------


def run_tcp(settings: TcpCheck, context: CheckContext) -> CheckResult:
    """Open (and close) a TCP connection: is anything listening, reachable from here?"""
    timeout = settings.timeout.total_seconds()
    target = f"{settings.host}:{settings.port}"
    deadline = time.monotonic() + timeout
    started = time.perf_counter()
    try:
        endpoints = _resolve(settings.host, settings.port, timeout)
        dns_ms = _ms_since(started)
        address, connect_ms = _connect_any(endpoints, deadline, timeout)
    except _Failure as failure:
        return CheckResult.failed(
            failure.failure_class, f"{target}: {failure.detail}", facts={"target": target}
        )
    via = "" if address == target else f" ({address})"
    return CheckResult.passed(
        f"connected to {target}{via} in {_ms_text(connect_ms)}",
        phases_ms={"dns": dns_ms, "connect": connect_ms},
        facts={"target": target, "address": address, "connect_ms": connect_ms, "dns_ms": dns_ms},
    )


def _connect_any(
    endpoints: Sequence[_Endpoint], deadline: float, timeout: float
) -> tuple[str, float]:
    """Try each resolved address in turn within one deadline, as clients do.

    ``create_connection`` on a hostname would give every address the full
    timeout (and resolve again, unbounded); here the whole attempt shares it.
    Returns the address connected and the time its connect took.
    """
    last: _Failure | None = None
    for host, port in endpoints:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        started = time.perf_counter()
        try:
            with socket.create_connection((host, port), timeout=remaining):
                return _host_port(host, port), _ms_since(started)
        except OSError as exc:
            last = _connect_failure(exc, timeout)
    raise last or _Failure(CONNECT_TIMEOUT, f"DNS used up the {timeout:g}s timeout")


def _connect_failure(exc: OSError, timeout: float) -> _Failure:
    """Name a connect error; the class says who said no (the host, the path, nobody)."""
    if isinstance(exc, ConnectionRefusedError):
        return _Failure(CONNECT_REFUSED, "connection refused (nothing listening on that port)")
    if isinstance(exc, TimeoutError):
        return _Failure(CONNECT_TIMEOUT, f"connect timed out after {timeout:g}s")
    if isinstance(exc, ConnectionResetError):
        return _Failure(CONNECTION_RESET, "connection reset while connecting")
    if exc.errno in _UNREACHABLE:
        return _Failure(NETWORK_UNREACHABLE, f"cannot connect: {_reason(exc)} (check the network)")
    return _Failure(CONNECT_REFUSED, f"cannot connect: {_reason(exc)}")


# --- binding on loopback ----------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    """Which ports of a span could be bound: the busy ones with their reason."""

    checked: int
    free: list[int]
    busy: dict[int, str]
    finished: bool


def run_local_port(settings: LocalPortCheck, context: CheckContext) -> CheckResult:
    """Can a tool bind its OAuth callback port (or one in its range) on 127.0.0.1?"""
    ports = port_span(settings.ports)
    deadline = time.monotonic() + settings.timeout.total_seconds()
    try:
        scan = _scan(ports, deadline)
    except _Failure as failure:
        return CheckResult.failed(failure.failure_class, failure.detail)
    if len(ports) == 1:
        return _single_port_result(ports[0], scan, deadline)
    return _range_result(settings.ports, ports, scan)


def _scan(ports: Sequence[int], deadline: float, stop_at_free: bool = False) -> _Scan:
    """Bind and close each port, within the deadline."""
    free: list[int] = []
    busy: dict[int, str] = {}
    for index, port in enumerate(ports):
        if index and time.monotonic() >= deadline:
            return _Scan(index, free, busy, finished=False)
        reason = _bind_problem(port)
        if reason is None:
            free.append(port)
            if stop_at_free:
                return _Scan(index + 1, free, busy, finished=True)
        else:
            busy[port] = reason
    return _Scan(len(ports), free, busy, finished=True)


def _bind_problem(port: int) -> str | None:
    """None if ``port`` can be bound on 127.0.0.1 right now, else why not.

    SO_REUSEADDR stays off: a port another socket holds must count as taken.
    """
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:
        raise _Failure(
            MISCONFIGURED, f"cannot open a socket to test ports: {_reason(exc)}"
        ) from None
    with probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            return _IN_USE if exc.errno == errno.EADDRINUSE else _reason(exc)
    return None


def _single_port_result(port: int, scan: _Scan, deadline: float) -> CheckResult:
    """A fixed callback port: taken means the login cannot complete; suggest a neighbour."""
    facts: dict[str, object] = {"ports": str(port), "free": not scan.busy}
    if not scan.busy:
        return CheckResult.passed(f"port {port} is free on {LOOPBACK}", facts=facts)
    detail = f"port {port} {_busy_phrase(scan.busy.values())} on {LOOPBACK}"
    neighbours = range(port + 1, min(port + 1 + _NEIGHBOURS, 65536))
    nearby = _scan(neighbours, deadline, stop_at_free=True).free
    if nearby:
        facts["first_free"] = nearby[0]
        detail += f" (first free: {nearby[0]})"
    return CheckResult.failed(PORT_UNAVAILABLE, detail, facts={**facts, "occupied": [port]})


def _range_result(spec: str, ports: range, scan: _Scan) -> CheckResult:
    """One free port is enough for a tool that picks from a range."""
    busy = sorted(scan.busy)
    facts: dict[str, object] = {
        "ports": spec,
        "checked": scan.checked,
        "free_count": len(scan.free),
        "occupied_count": len(busy),
        "occupied": busy[:_FACT_PORTS],
        "first_free": scan.free[0] if scan.free else None,
    }
    where = f"{len(ports)} ports {spec}"
    stopped = ""
    if not scan.finished:
        where = f"the first {scan.checked} of {where}"
        stopped = "; the scan stopped at the timeout"
    if not scan.free:
        if not scan.finished:
            detail = f"none of {where} is free on {LOOPBACK}{stopped}"
            return CheckResult.failed(TIMEOUT, detail, facts=facts)
        phrase = _busy_phrase(scan.busy.values(), plural=True)
        return CheckResult.failed(
            PORT_UNAVAILABLE, f"all {where} {phrase} on {LOOPBACK}", facts=facts
        )
    if not busy:
        every = "all" if scan.finished else "all of"
        return CheckResult.passed(f"{every} {where} are free on {LOOPBACK}{stopped}", facts=facts)
    return CheckResult.passed(
        f"{len(busy)} of {where} taken on {LOOPBACK} ({_listing(busy, _SHOWN_PORTS)}); "
        f"first free: {scan.free[0]}{stopped}",
        facts=facts,
    )


def _busy_phrase(reasons: Iterable[str], plural: bool = False) -> str:
    """Say "in use", or why else binding failed (a privileged port, say): the fixes differ."""
    other = sorted(set(reasons) - {_IN_USE})
    if not other:
        return "are in use" if plural else "is in use"
    return f"cannot be bound ({', '.join(other)})"


# --- shared -----------------------------------------------------------------


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _ms_text(ms: float) -> str:
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listing(items: Sequence[object], shown: int) -> str:
    """``a, b, c and 12 more``: one line however many there are."""
    head = ", ".join(str(item) for item in items[:shown])
    rest = len(items) - shown
    return f"{head} and {rest} more" if rest > 0 else head


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc) or type(exc).__name__).lower()
