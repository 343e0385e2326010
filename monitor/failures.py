"""The failure vocabulary: every class a failure can carry, and one partition into families.

A class is a ``Failure`` member, a ``StrEnum``: it equals the string stored
in the database, so a class read back as a plain string compares equal to
its member, whichever version wrote it. The list extends ARCHITECTURE.md's with the cases a
user must tell apart and that list could not: a connect timeout (nothing
answered) is not a read timeout (it answered, then stalled); a missing
credentials file is not an expired one; a check that could not run (an unset
variable) is neither up nor down.

``FAMILIES`` sorts every class into exactly one family for people: what sort
of trouble it was (chart colours and legends, grouped output). It does not
say whose fault it was: that is the correlator's judgement, made in
``monitor/correlate/classes.py`` from the same members.
"""

from __future__ import annotations

from enum import StrEnum


class Failure(StrEnum):
    """One class of failure, as checks record it and imported log lines are read as."""

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
    # A failure with no class: an imported line no rule names, a run stored without one.
    UNCLASSIFIED = "unclassified"


class Family(StrEnum):
    """What sort of trouble a class is, as a person reads it."""

    CREDENTIALS = "credentials"  # the vendor or the credentials said no
    NETWORK = "network"  # no (good) connection was made
    SERVER = "server"  # connected, and the vendor answered badly or stalled
    LOCAL = "local"  # this machine or monitor's own set-up
    UNCLASSIFIED = "unclassified"


F = Failure
# Every class in exactly one family, in legend order.
FAMILIES: dict[Family, tuple[Failure, ...]] = {
    Family.CREDENTIALS: (
        F.AUTH_REJECTED,
        F.FORBIDDEN,
        F.INVALID_GRANT,
        F.CREDENTIALS_MISSING,
        F.CREDENTIALS_INVALID,
        F.CREDENTIALS_EXPIRED,
        F.CREDENTIALS_INSECURE,
    ),
    Family.NETWORK: (
        F.CONNECT_TIMEOUT,
        F.CONNECT_REFUSED,
        F.NETWORK_UNREACHABLE,
        F.DNS_FAILURE,
        F.TLS_ERROR,
    ),
    # A read timeout and a reset come after the connection was made: the far end stalled.
    Family.SERVER: (
        F.SERVER_ERROR,
        F.TIMEOUT,
        F.CONNECTION_RESET,
        F.RATE_LIMITED,
        F.UNEXPECTED_STATUS,
        F.PROTOCOL_ERROR,
    ),
    # A login's callback is received by this machine: its port, its browser, its firewall.
    Family.LOCAL: (
        F.CALLBACK_FAILED,
        F.PORT_UNAVAILABLE,
        F.CLOCK_SKEW,
        F.MISCONFIGURED,
        F.INTERNAL_ERROR,
    ),
    Family.UNCLASSIFIED: (F.UNCLASSIFIED,),
}
del F
