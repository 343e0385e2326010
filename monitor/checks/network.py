"""``dns`` and ``tcp``: the network below HTTP, from this machine.

When an HTTP check fails, these say at which layer: the name does not
resolve, or nothing accepts the connection. Every blocking call is bounded
by the check's ``timeout``, name resolution included, so one stuck resolver
never holds up a batch of checks. ``local_port`` lives in
monitor.checks.ports and takes ``CheckFailure``, ``listing`` and
``os_reason`` from here.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from monitor.checks.context import CheckContext
from monitor.checks.result import CheckResult
from monitor.checks.settings import DnsCheck, TcpCheck
from monitor.failures import Failure

_SHOWN_ADDRESSES = 4
# Errors where the network itself said no: nothing to wait for, like a refusal.
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN}

# A resolved address and port, in the order the resolver gave them.
_Endpoint = tuple[str, int]


class CheckFailure(Exception):
    """A failure already named: its class and the line the user reads."""

    def __init__(self, failure_class: Failure, detail: str) -> None:
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
    except CheckFailure as failure:
        return CheckResult.failed(
            failure.failure_class, failure.detail, facts={"host": settings.host}
        )
    elapsed_ms = _ms_since(started)
    addresses = sorted({address for address, _ in endpoints})
    return CheckResult.passed(
        f"{settings.host} resolved to {listing(addresses, _SHOWN_ADDRESSES)} "
        f"in {_ms_text(elapsed_ms)}",
        # The time taken is a phase, not a fact: stored once, with the run's phases.
        phases_ms={"dns": elapsed_ms},
        facts={"host": settings.host, "addresses": addresses},
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
        # The resolver never answered: a DNS failure, not a timeout (no connection was made).
        raise CheckFailure(
            Failure.DNS_FAILURE, f"DNS lookup for {host} did not answer within {timeout:g}s"
        ) from None
    except socket.gaierror as exc:
        raise CheckFailure(
            Failure.DNS_FAILURE, f"DNS lookup failed for {host}: {exc.strerror}"
        ) from None
    except UnicodeError:
        raise CheckFailure(Failure.DNS_FAILURE, f"{host!r} is not a valid host name") from None
    except OSError as exc:
        raise CheckFailure(
            Failure.DNS_FAILURE, f"DNS lookup failed for {host}: {os_reason(exc)}"
        ) from None
    if not endpoints:
        raise CheckFailure(Failure.DNS_FAILURE, f"DNS lookup for {host} returned no addresses")
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
    except CheckFailure as failure:
        return CheckResult.failed(
            failure.failure_class, f"{target}: {failure.detail}", facts={"target": target}
        )
    via = "" if address == target else f" ({address})"
    return CheckResult.passed(
        f"connected to {target}{via} in {_ms_text(connect_ms)}",
        phases_ms={"dns": dns_ms, "connect": connect_ms},
        facts={"target": target, "address": address},
    )


def _connect_any(
    endpoints: Sequence[_Endpoint], deadline: float, timeout: float
) -> tuple[str, float]:
    """Try each resolved address in turn within one deadline, as clients do.

    ``create_connection`` on a hostname would give every address the full
    timeout (and resolve again, unbounded); here the whole attempt shares it.
    Returns the address connected and the time its connect took.
    """
    last: CheckFailure | None = None
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
    raise last or CheckFailure(Failure.CONNECT_TIMEOUT, f"DNS used up the {timeout:g}s timeout")


def _connect_failure(exc: OSError, timeout: float) -> CheckFailure:
    """Name a connect error; the class says who said no (the host, the path, nobody)."""
    if isinstance(exc, ConnectionRefusedError):
        return CheckFailure(
            Failure.CONNECT_REFUSED, "connection refused (nothing listening on that port)"
        )
    if isinstance(exc, TimeoutError):
        return CheckFailure(Failure.CONNECT_TIMEOUT, f"connect timed out after {timeout:g}s")
    if isinstance(exc, ConnectionResetError):
        return CheckFailure(Failure.CONNECTION_RESET, "connection reset while connecting")
    if exc.errno in _UNREACHABLE:
        return CheckFailure(
            Failure.NETWORK_UNREACHABLE, f"cannot connect: {os_reason(exc)} (check the network)"
        )
    return CheckFailure(Failure.CONNECT_REFUSED, f"cannot connect: {os_reason(exc)}")


# --- helpers (listing and os_reason serve monitor.checks.ports too) -----------


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _ms_text(ms: float) -> str:
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listing(items: Sequence[object], shown: int) -> str:
    """``a, b, c and 12 more``: one line however many there are."""
    head = ", ".join(str(item) for item in items[:shown])
    rest = len(items) - shown
    return f"{head} and {rest} more" if rest > 0 else head


def os_reason(exc: OSError) -> str:
    return (exc.strerror or str(exc) or type(exc).__name__).lower()
