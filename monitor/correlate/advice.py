"""The next step: one short thing to do, fitted to the failure and the credential used.

Open trouble: wait; over: it was them, retry now. A rejected API key is
replaced, an OAuth login redone (and a stale refresh token removed if that
does not cure it), an SSH key checked; a broken path is looked at host by
host. Never the summary again.
"""

from __future__ import annotations

from monitor.correlate.evidence import Evidence
from monitor.correlate.matching import host_of
from monitor.correlate.subject import credential_of
from monitor.correlate.windows import LocalWindow, UpstreamWindow
from monitor.failures import Failure


def upstream_step(window: UpstreamWindow, rejected: bool) -> str:
    """Still on: wait. Over (resolved since, or before): it was them, retry now.

    A maintenance's end is its plan until the vendor says it completed.
    """
    follow = f" (follow {window.url})" if window.url else ""
    planned = window.kind == "maintenance" and window.status not in ("completed", "resolved")
    if window.end is None or planned:
        until = f", planned to end at {window.end:%Y-%m-%d %H:%M} UTC" if window.end else ""
        step = (
            f"Wait for {window.source} to resolve it{follow}{until}; nothing on this machine "
            "needs fixing: do not delete credentials or reinstall."
        )
        if rejected:
            step += " If the rejections go on after it is resolved, renew the credentials."
        return step
    when = window.end.strftime("%Y-%m-%d %H:%M UTC")
    step = (
        f"It was them, resolved at {when}: retry now; nothing on this machine needed fixing "
        "(do not delete credentials or reinstall)."
    )
    if rejected:
        step += " If the rejections go on now, renew the credentials they use."
    return step


def credential_step(
    rejected: list[LocalWindow],
    classes: set[str],
    files: list[LocalWindow],
    evidence: Evidence,
) -> str:
    """The fix for rejected credentials, for the credential the failing calls used.

    An API key from the environment is replaced, not re-logged; an OAuth
    login is redone, and a stale refresh token on disk removed if a fresh
    login does not cure it.
    """
    if classes <= {Failure.FORBIDDEN}:
        return (
            "The credentials are accepted but not allowed to do this: check the account's "
            "organisation, plan or the key's scopes."
        )
    used = {credential_of(w) for w in rejected}
    if files:
        used.add("oauth")
    if used == {"ssh_key"}:
        return (
            "Check the SSH key this machine offers: that the agent holds it (ssh-add -l) "
            "and that it is added to your account (ssh -T shows which account it maps to)."
        )
    if used == {"api_key"}:
        return (
            "Check the API key or token these calls send: it is rejected. Make sure the "
            "variable or file holding it has the current one (no stray spaces, the right "
            "account), or create a new one in the vendor's console."
        )
    path = next((w.target for w in files if w.target), None) or _credentials_path(evidence)
    where = f" ({path})" if path else ""
    if "oauth" in used:
        return (
            "Log in again with the tool that failed. If the rejections continue after a fresh "
            f"login, the credentials file{where} holds a stale refresh token: remove it "
            "and log in once more."
        )
    return (
        "Renew the credentials the failing tool uses: log in again, or replace its API key "
        "or token if it uses one; if a fresh login does not help, remove its stored "
        f"credentials{where} and log in once more."
    )


def _credentials_path(evidence: Evidence) -> str | None:
    for item in evidence.activity:
        if item.check.kind == "credentials_file":
            return item.check.target
    return None


# What to look at on this side for each way of failing to reach a host.
_NETWORK_FIX: dict[str, str] = {
    Failure.DNS_FAILURE: (
        "make {hosts} resolve (this machine's DNS server, the VPN's DNS, /etc/hosts)"
    ),
    Failure.CONNECT_TIMEOUT: "find what stops connections to {hosts} (firewall, proxy, VPN route)",
    Failure.CONNECT_REFUSED: (
        "find what refuses connections to {hosts} (a proxy setting, a firewall)"
    ),
    Failure.NETWORK_UNREACHABLE: "restore a route to {hosts} (Wi-Fi, VPN)",
    Failure.TLS_ERROR: "look for a proxy intercepting TLS to {hosts} (its certificate)",
}
_PATH_FIX = "check the path to {hosts} (VPN, proxy, firewall)"


def network_step(windows: list[LocalWindow]) -> str:
    """One action per way of failing, each naming its hosts once, then whose it is."""
    hosts: dict[str, list[str]] = {}
    for window in windows:
        cause = window.failure_classes[0] if window.failure_classes else ""
        host = host_of(window.target) if window.target else window.name
        hosts.setdefault(_NETWORK_FIX.get(cause, _PATH_FIX), []).append(host)
    actions = [fix.format(hosts=", ".join(dict.fromkeys(names))) for fix, names in hosts.items()]
    return (
        capital("; ".join(actions))
        + ". Check whether other sites load; the vendor cannot fix this."
    )


def private_step(windows: list[LocalWindow]) -> str:
    """The vendor answers these calls badly on this machine only: what differs here."""
    hosts = ", ".join(dict.fromkeys(host_of(w.target) if w.target else w.name for w in windows))
    return (
        f"Look at what this machine sends to {hosts} that the others do not: a proxy in "
        "the way, the key's account or plan, the region it reaches; nothing points at "
        "a vendor outage."
    )


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]
