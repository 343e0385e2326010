"""What a failure class says about whose fault it is: the correlator's judgement sets.

The correlator reasons over these sets, never over error strings. They are
written in ``monitor.failures.Failure`` and answer another question than its
families (what sort of trouble, for people): where the two differ, the line
says why.
"""

from __future__ import annotations

from typing import Literal

from monitor.failures import Failure

F = Failure

# No connection was made: the network family. A read timeout and a reset are
# left out: the connection was made, so they are no proof the path is broken.
NETWORK = frozenset(
    {F.DNS_FAILURE, F.CONNECT_TIMEOUT, F.NETWORK_UNREACHABLE, F.TLS_ERROR, F.CONNECT_REFUSED}
)
# Failing to reach a target at all: what a broken path looks like from here;
# unlike the families, a stalled or reset call counts, since a path that drops
# packets does both.
PATH = NETWORK | {F.TIMEOUT, F.CONNECTION_RESET}
# The credentials family, less a file wider than 0600: the vendor still takes the key.
AUTH = frozenset(
    {
        F.AUTH_REJECTED,
        F.FORBIDDEN,
        F.INVALID_GRANT,
        F.CREDENTIALS_EXPIRED,
        F.CREDENTIALS_MISSING,
        F.CREDENTIALS_INVALID,
    }
)
# The vendor rejecting credentials it was given.
CREDENTIAL_REJECTIONS = frozenset(
    {F.AUTH_REJECTED, F.FORBIDDEN, F.INVALID_GRANT, F.CREDENTIALS_EXPIRED}
)
# The vendor answered badly or stopped answering mid-call: what its own outage
# looks like. Failing to connect at all (refused, DNS, no route) is not: a vendor
# outage behind a load balancer still accepts the connection. Narrower than the
# server family: a 429 or an odd status is the vendor's answer, not its outage.
SERVER_SIDE = frozenset({F.SERVER_ERROR, F.TIMEOUT, F.CONNECTION_RESET, F.PROTOCOL_ERROR})
# The server answered: its name resolved and the path to it worked.
ANSWERED = frozenset(
    {
        F.SERVER_ERROR,
        F.AUTH_REJECTED,
        F.FORBIDDEN,
        F.RATE_LIMITED,
        F.UNEXPECTED_STATUS,
        F.INVALID_GRANT,
        F.PROTOCOL_ERROR,
    }
)
# Failures that describe this machine's set-up, whatever the vendor does: the
# local family's callback, port and clock, and the credential files on this disk
# (an expired one included: refreshing it is this machine's job).
LOCAL_SETUP = frozenset(
    {
        F.CREDENTIALS_EXPIRED,
        F.CREDENTIALS_INSECURE,
        F.CREDENTIALS_MISSING,
        F.CREDENTIALS_INVALID,
        F.PORT_UNAVAILABLE,
        F.CLOCK_SKEW,
        F.CALLBACK_FAILED,
    }
)
# This machine's own set-up, or a check that could not run: no status page
# explains these. The callback is left out: a sign-in outage can stop it.
THIS_MACHINE = frozenset(
    {
        F.PORT_UNAVAILABLE,
        F.CLOCK_SKEW,
        F.CREDENTIALS_INSECURE,
        F.CREDENTIALS_MISSING,
        F.CREDENTIALS_INVALID,
        F.MISCONFIGURED,
        F.INTERNAL_ERROR,
    }
)
# A check that could not run, or monitor's own bug: says nothing about anyone else.
NOT_EVIDENCE = frozenset({F.MISCONFIGURED, F.INTERNAL_ERROR})

# Check kinds, as the store hands them over by name. Each kind's settings say
# the same (``monitor/checks/settings.py``; tests/test_check_kinds.py holds the
# two together): the correlator sits below the checks and cannot import them.
# Kinds that inspect this machine (a file, a port, the clock), not the vendor.
LOCAL_KINDS = frozenset({"credentials_file", "local_port", "clock"})
# Kinds whose credential is an OAuth token.
OAUTH_KINDS = frozenset({"oauth_refresh", "oauth_token_endpoint", "credentials_file"})

del F

ShownRole = Literal["vendor", "local", "control"]


def shown_role(role: str, kind: str | None) -> ShownRole:
    """The role to show for a check: ``control``, ``local`` or ``vendor``; display only.

    The stored role says only vendor or control (what the user configured);
    a check that inspects this machine (a ``LOCAL_KINDS`` kind: the
    credentials file, the callback port, the clock) is shown ``local``, as
    the correlator already treats it (its failures are this machine's
    set-up, never a vendor call). A configured ``control`` stays ``control``
    whatever its kind. ``dns`` and ``tcp`` stay ``vendor``: they ask about
    the vendor's own host, and the correlator counts their failures with the
    other calls to the vendor (the path to it, or the vendor's DNS trouble
    when its page declares some). An imported failure (no check kind) was a
    call to the vendor too. Nothing the correlator decides reads this.
    """
    if role == "control":
        return "control"
    if kind in LOCAL_KINDS:
        return "local"
    return "vendor"
