"""``local_port``: can a tool bind its OAuth callback port on 127.0.0.1?

An OAuth login loop fails before any request when the tool cannot bind its
localhost callback port: another process holds it, or (below 1024) the
system refuses. Each port is bound and closed at once, within the check's
``timeout``; nothing is left listening.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.checks.context import CheckContext
from monitor.checks.network import CheckFailure, listing, os_reason
from monitor.checks.result import CheckResult
from monitor.checks.settings import LocalPortCheck, port_span
from monitor.failures import Failure

LOOPBACK = "127.0.0.1"
_SHOWN_PORTS = 8
_FACT_PORTS = 50
# A single busy port: how far to look for a free neighbour to suggest.
_NEIGHBOURS = 100
_IN_USE = "in use"


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
    except CheckFailure as failure:
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
        raise CheckFailure(
            Failure.MISCONFIGURED, f"cannot open a socket to test ports: {os_reason(exc)}"
        ) from None
    with probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            return _IN_USE if exc.errno == errno.EADDRINUSE else os_reason(exc)
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
    return CheckResult.failed(Failure.PORT_UNAVAILABLE, detail, facts={**facts, "occupied": [port]})


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
            return CheckResult.failed(Failure.TIMEOUT, detail, facts=facts)
        phrase = _busy_phrase(scan.busy.values(), plural=True)
        return CheckResult.failed(
            Failure.PORT_UNAVAILABLE, f"all {where} {phrase} on {LOOPBACK}", facts=facts
        )
    if not busy:
        every = "all" if scan.finished else "all of"
        return CheckResult.passed(f"{every} {where} are free on {LOOPBACK}{stopped}", facts=facts)
    return CheckResult.passed(
        f"{len(busy)} of {where} taken on {LOOPBACK} ({listing(busy, _SHOWN_PORTS)}); "
        f"first free: {scan.free[0]}{stopped}",
        facts=facts,
    )


def _busy_phrase(reasons: Iterable[str], plural: bool = False) -> str:
    """Say "in use", or why else binding failed (a privileged port, say): the fixes differ."""
    other = sorted(set(reasons) - {_IN_USE})
    if not other:
        return "are in use" if plural else "is in use"
    return f"cannot be bound ({', '.join(other)})"
