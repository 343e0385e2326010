"""``clock``: how far this machine's clock is from a server's ``Date`` header.

OAuth and signed tokens carry issue and expiry times; a clock a few minutes
off makes a vendor's perfectly good tokens look expired or not yet valid,
and the user sees "invalid credentials" for what is a local problem. Any
HTTP answer will do: only its ``Date`` header is read, never its body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from monitor.checks.context import CheckContext
from monitor.checks.result import CheckResult
from monitor.checks.settings import ClockCheck
from monitor.checks.web import parse_http_date
from monitor.failures import Failure
from monitor.redact import redact_url
from monitor.times import format_duration, isoformat_z
from monitor.transport import transport_failure

# ``Date`` has whole seconds and servers truncate: the true server time lies
# in the second it names, so its middle is the unbiased estimate.
_DATE_RESOLUTION = timedelta(seconds=1)


@dataclass(frozen=True)
class _Exchange:
    """One request: when it left, when the answer came, and what the answer said."""

    sent: datetime
    received: datetime
    status: int
    date_header: str | None

    @property
    def midpoint(self) -> datetime:
        """Best local estimate of the moment the server stamped its answer."""
        return self.sent + (self.received - self.sent) / 2

    @property
    def round_trip_ms(self) -> float:
        return round((self.received - self.sent).total_seconds() * 1000, 2)


def run_clock(settings: ClockCheck, context: CheckContext) -> CheckResult:
    """Compare the server's ``Date`` with this machine's clock at the request's midpoint."""
    timeout = settings.timeout.total_seconds()
    url = settings.url
    facts: dict[str, Any] = {
        "url": redact_url(url),
        **context.run_facts(verify_tls=settings.verify_tls),
    }
    # An unloadable ca_file raises CheckMisconfigured: the runner records it.
    client = context.http_client(
        timeout=timeout, verify_tls=settings.verify_tls, ca_file=settings.ca_file
    )
    try:
        with client:
            exchange = _exchange(client, url, context.now)
    except httpx.HTTPError as exc:
        failure_class, reason = transport_failure(
            exc, url, connect_timeout=timeout, timeout=timeout
        )
        return CheckResult.failed(failure_class, reason, facts=facts)
    return _judge(exchange, settings, facts)


def _exchange(client: httpx.Client, url: str, now: Callable[[], datetime]) -> _Exchange:
    """GET ``url`` and stop at the headers: the body says nothing about the time."""
    sent = now()
    with client.stream("GET", url) as response:
        received = now()
        return _Exchange(sent, received, response.status_code, response.headers.get("date"))


def _judge(exchange: _Exchange, settings: ClockCheck, facts: dict[str, Any]) -> CheckResult:
    host = httpx.URL(settings.url).host
    facts.update(http_status=exchange.status, round_trip_ms=exchange.round_trip_ms)
    evidence: dict[str, Any] = {"http_status": exchange.status, "facts": facts}
    if exchange.date_header is None:
        return CheckResult.failed(
            Failure.PROTOCOL_ERROR,
            f"{host} sent no Date header: cannot measure clock skew",
            **evidence,
        )
    server_date = parse_http_date(exchange.date_header)
    if server_date is None:
        shown = exchange.date_header[:60]
        return CheckResult.failed(
            Failure.PROTOCOL_ERROR, f"{host} sent an unreadable Date header: {shown!r}", **evidence
        )
    skew = (server_date + _DATE_RESOLUTION / 2 - exchange.midpoint).total_seconds()
    max_skew = settings.max_skew.total_seconds()
    facts.update(skew_s=round(skew, 3), server_date=isoformat_z(server_date), max_skew_s=max_skew)
    evidence["server_date"] = server_date
    limit = f"max skew {format_duration(settings.max_skew)}"
    if abs(skew) > max_skew:
        return CheckResult.failed(
            Failure.CLOCK_SKEW, f"{_describe(skew, host)} ({limit})", **evidence
        )
    if round(abs(skew)) == 0:
        # Claiming milliseconds from a header with whole seconds would be false precision.
        detail = f"clock agrees with {host} to the second ({limit})"
    else:
        detail = f"{_describe(skew, host)}, within the {limit}"
    return CheckResult.passed(detail, **evidence)


def _describe(skew: float, host: str) -> str:
    """Say which way: a clock behind makes fresh tokens look "not yet valid"."""
    direction = "behind" if skew > 0 else "ahead of"
    return f"this machine is {_span(skew)} {direction} {host}"


def _span(seconds: float) -> str:
    """Whole seconds: the ``Date`` header has no finer resolution."""
    return format_duration(timedelta(seconds=round(abs(seconds))))
