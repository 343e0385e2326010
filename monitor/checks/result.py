"""What one check run says: a failure class the correlator can reason over, and evidence.

The classes extend ARCHITECTURE.md's list with the cases a user must tell
apart and the list could not: a connect timeout (nothing answered) is not a
read timeout (it answered, then stalled); a missing credentials file is not
an expired one; a check that could not run (an unset variable) is neither up
nor down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

OK = "ok"
AUTH_REJECTED = "auth_rejected"  # 401
FORBIDDEN = "forbidden"  # 403
RATE_LIMITED = "rate_limited"  # 429
SERVER_ERROR = "server_error"  # 5xx
UNEXPECTED_STATUS = "unexpected_status"
INVALID_GRANT = "invalid_grant"  # OAuth refresh token refused
TIMEOUT = "timeout"  # connected, then no answer in time
CONNECT_TIMEOUT = "connect_timeout"  # no connection in time
CONNECT_REFUSED = "connect_refused"
NETWORK_UNREACHABLE = "network_unreachable"  # no route: the local network, VPN or Wi-Fi
CONNECTION_RESET = "connection_reset"
DNS_FAILURE = "dns_failure"
TLS_ERROR = "tls_error"
CREDENTIALS_MISSING = "credentials_missing"
CREDENTIALS_INVALID = "credentials_invalid"  # unreadable, not JSON, wrong shape
CREDENTIALS_EXPIRED = "credentials_expired"
CREDENTIALS_INSECURE = "credentials_insecure"  # wider than 0600
PORT_UNAVAILABLE = "port_unavailable"
CALLBACK_FAILED = "callback_failed"  # an OAuth login's redirect to localhost never arrived
CLOCK_SKEW = "clock_skew"
MISCONFIGURED = "misconfigured"  # could not run: e.g. ${VAR} not set
PROTOCOL_ERROR = "protocol_error"  # answered, but not in the protocol expected
INTERNAL_ERROR = "internal_error"  # monitor itself failed running the check

# Every class a check may report: the vocabulary the correlator reasons over.
FAILURE_CLASSES: tuple[str, ...] = (
    AUTH_REJECTED,
    FORBIDDEN,
    RATE_LIMITED,
    SERVER_ERROR,
    UNEXPECTED_STATUS,
    INVALID_GRANT,
    TIMEOUT,
    CONNECT_TIMEOUT,
    CONNECT_REFUSED,
    NETWORK_UNREACHABLE,
    CONNECTION_RESET,
    DNS_FAILURE,
    TLS_ERROR,
    CREDENTIALS_MISSING,
    CREDENTIALS_INVALID,
    CREDENTIALS_EXPIRED,
    CREDENTIALS_INSECURE,
    PORT_UNAVAILABLE,
    CALLBACK_FAILED,
    CLOCK_SKEW,
    MISCONFIGURED,
    PROTOCOL_ERROR,
    INTERNAL_ERROR,
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one run, before the runner dates it and names the check.

    ``detail`` is one readable line, already redacted. ``facts`` holds what is
    specific to a kind (resolved addresses, token fingerprints, the occupied
    port, the measured skew, the proxy in effect) and must hold no secret.
    ``skipped`` marks a run that did not apply (its condition is unmet): it
    is recorded, and counts neither as up nor as down.
    """

    ok: bool
    failure_class: str | None
    detail: str
    http_status: int | None = None
    phases_ms: dict[str, float] = field(default_factory=dict)
    request_id: str | None = None
    server_date: datetime | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False

    @staticmethod
    def passed(detail: str, **evidence: Any) -> CheckResult:
        return CheckResult(ok=True, failure_class=None, detail=detail, **evidence)

    @staticmethod
    def failed(failure_class: str, detail: str, **evidence: Any) -> CheckResult:
        return CheckResult(ok=False, failure_class=failure_class, detail=detail, **evidence)

    @staticmethod
    def skip(detail: str, **evidence: Any) -> CheckResult:
        return CheckResult(ok=True, failure_class=None, detail=detail, skipped=True, **evidence)
