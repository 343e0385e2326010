"""The rules: each reads the evidence and says what it shows, or nothing.

One small function per pattern, so each has its own test and a reader can
check the reasoning against the incident reports that motivated it. The
verdict (``explain``) only weighs what the rules found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from monitor.checks import result as fc
from monitor.correlate.evidence import AUTH, LOCAL_KINDS, NETWORK, SERVER_SIDE, Evidence
from monitor.correlate.matching import Match, host_of, matches
from monitor.correlate.windows import LocalWindow, UpstreamWindow, by_name

Confidence = Literal["high", "medium", "low"]
# Failing to reach a target at all: what a broken path looks like from here.
PATH = NETWORK | {fc.TIMEOUT, fc.CONNECTION_RESET}
RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule concluded, and why."""

    verdict: str
    confidence: Confidence
    summary: str
    reasons: tuple[str, ...]
    next_step: str
    local: tuple[LocalWindow, ...] = ()
    upstream: tuple[UpstreamWindow, ...] = ()


Rule = Callable[[Evidence], Finding | None]


def network(evidence: Evidence) -> Finding | None:
    """The control target fails too, or network-level failures hit every target: it is the path.

    A VPN, a proxy, a firewall or DNS on this side stops every connection,
    the vendor's and anyone else's alike.
    """
    # A control answering 5xx proves the path works; only failing to reach it
    # counts, and only while the vendor calls were failing too.
    vendor = evidence.vendor()
    control = [
        w
        for w in evidence.control()
        if set(w.failure_classes) & PATH and any(_meet(w, v) for v in vendor)
    ]
    broken = [w for w in vendor if set(w.failure_classes) & NETWORK]
    everywhere = _every_target(evidence, broken)
    if control:
        path_down = broken or any(set(w.failure_classes) & NETWORK for w in control)
        confidence: Confidence = "high" if path_down else "medium"
        if sum(w.failures for w in control) < 2 and not everywhere:
            # One lost control request is a blip, not a broken path, unless every
            # other target failed the same way at the same time.
            confidence = "low"
    else:
        if not everywhere or evidence.control_passed():
            return None
        confidence = "medium"
    failed = [*broken, *control]
    what = "; ".join(_network_failures(failed))
    return Finding(
        verdict="network",
        confidence=confidence,
        summary=f"Your network path is failing, not the vendor: {what}.",
        reasons=_window_reasons(failed),
        next_step=(
            f"{_capital(what)}. Check the VPN, proxy, firewall and DNS settings on this "
            "machine (and whether other sites load); the vendor cannot fix this."
        ),
        local=tuple(failed),
    )


def upstream_declared(evidence: Evidence) -> Finding | None:
    """Failures that depend on a source sit inside a window that source declared."""
    explained: list[Match] = []
    for window in evidence.vendor():
        found = matches(window, list(evidence.upstream), evidence.tolerance)
        if found:
            explained.append(min(found, key=lambda m: _rank(m, evidence)))
    if not explained:
        return None
    # Best first, so the summary names the match that sets the confidence and is
    # about the moment asked (not whichever failure began first).
    explained.sort(key=lambda m: _rank(m, evidence))
    if any(m.fit == "inside" and m.scope == "component" for m in explained):
        confidence: Confidence = "high"
    elif any(m.fit == "inside" for m in explained):
        confidence = "medium"
    else:
        confidence = "low"
    lead = explained[0].upstream
    label = "maintenance" if lead.kind == "maintenance" else lead.kind
    summary = (
        f"It is them: {lead.source} declared {label} \u201c{lead.title}\u201d "
        f"({_span(lead.start, lead.end)}) and your failures "
        f"{'fall inside it' if explained[0].fit == 'inside' else 'overlap it'}."
    )
    follow = f" (follow {lead.url})" if lead.url else ""
    return Finding(
        verdict="upstream",
        confidence=confidence,
        summary=summary,
        reasons=_match_reasons(explained),
        next_step=(
            f"Wait for {lead.source} to resolve it{follow}. Nothing on this machine needs "
            "fixing: do not delete credentials or reinstall; retry once it is resolved."
        ),
        local=tuple(m.local for m in explained),
        upstream=tuple(dict.fromkeys(m.upstream for m in explained)),
    )


def credentials(evidence: Evidence) -> Finding | None:
    """The API answers, but rejects these credentials, and no declared trouble explains it.

    The stale-refresh-token case: re-login alone may not cure it, because
    the tool keeps reusing the token file on disk.
    """
    rejected = [
        w for w in evidence.vendor() if set(w.failure_classes) & AUTH and not _touched(w, evidence)
    ]
    if not rejected:
        return None
    reachable = evidence.reachable()
    files = [w for w in evidence.setup() if w.check_kind == "credentials_file"]
    confidence: Confidence = "high" if reachable else "medium"
    if files and confidence == "medium":
        confidence = "high"
    if all(w.kind == "observed" for w in rejected) and not reachable:
        confidence = "low" if not files else "medium"
    # One rejected call among many good ones is a blip (a token rotated between
    # two requests), not a reason to delete anything.
    rejections = sum(w.failures for w in rejected)
    if rejections < 2:
        confidence = "low"
    elif rejections < 3 and confidence == "high":
        confidence = "medium"
    reasons = list(_window_reasons(rejected))
    if reachable:
        reasons.append(
            f"{', '.join(reachable)} passed: the API is up and answers 401 to a call "
            "without credentials, as it should"
        )
    reasons += _window_reasons(files)
    classes = {c for w in rejected for c in w.failure_classes}
    path = next((w.target for w in files if w.target), None) or _credentials_path(evidence)
    where = f" ({path})" if path else ""
    if classes <= {fc.FORBIDDEN}:
        step = (
            "The credentials are accepted but not allowed to do this: check the account's "
            "organisation, plan or API key scope."
        )
    else:
        step = (
            "Log in again with the tool that failed. If the 401s continue after a fresh "
            f"login, the credentials file{where} holds a stale refresh token: remove it "
            "and log in once more."
        )
    up = "the API is up" if reachable else "no declared upstream trouble explains it"
    return Finding(
        verdict="local",
        confidence=confidence,
        summary=f"It is you: your credentials are rejected ({_classes(rejected)}) while {up}.",
        reasons=tuple(reasons),
        next_step=step,
        local=(*rejected, *files),
    )


def local_setup(evidence: Evidence) -> Finding | None:
    """This machine's own set-up fails: credentials file, callback port, clock."""
    broken = evidence.setup()
    if not broken:
        return None
    steps = []
    classes = {c for w in broken for c in w.failure_classes}
    if classes & {fc.PORT_UNAVAILABLE, fc.CALLBACK_FAILED}:
        steps.append(
            "free the OAuth callback port (another process holds it) or let the browser "
            "reach localhost, then log in again"
        )
    if fc.CLOCK_SKEW in classes:
        steps.append("synchronise this machine's clock (NTP): a skewed clock voids tokens")
    if classes & {fc.CREDENTIALS_EXPIRED, fc.CREDENTIALS_MISSING, fc.CREDENTIALS_INVALID}:
        steps.append("log in again to write fresh credentials")
    if fc.CREDENTIALS_INSECURE in classes:
        steps.append("make the credentials file private (chmod 600)")
    return Finding(
        verdict="local",
        confidence="medium",
        summary=f"It is you: this machine's set-up fails ({_classes(broken)}).",
        reasons=_window_reasons(broken),
        next_step=_capital("; ".join(steps)) + ".",
        local=tuple(broken),
    )


def upstream_undeclared(evidence: Evidence) -> Finding | None:
    """The vendor answers with 5xx or times out while the control target is fine.

    Nothing is declared yet: the early warning, before the status page
    catches up.
    """
    failing = [
        w
        for w in evidence.vendor()
        if w.failure_classes
        and set(w.failure_classes) & SERVER_SIDE
        and not matches(w, list(evidence.upstream), evidence.tolerance)
    ]
    if not failing:
        return None
    control_ok = evidence.control_passed()
    return Finding(
        verdict="upstream",
        confidence="medium" if control_ok else "low",
        summary=(
            f"Probably them, not (yet) declared on the status page: {_classes(failing)} "
            f"from the vendor{' while the control target is fine' if control_ok else ''}."
        ),
        reasons=(
            *_window_reasons(failing),
            "the control target passed in the same window"
            if control_ok
            else "no control check ran, so a problem on this side cannot be ruled out",
            "no incident or maintenance on the status page covers these failures",
        ),
        next_step=(
            "Retry later and watch the vendor's status page; nothing on this machine needs "
            "fixing. If it persists, report it to the vendor with the times above."
        ),
        local=tuple(failing),
    )


RULES: tuple[Rule, ...] = (
    network,
    upstream_declared,
    credentials,
    local_setup,
    upstream_undeclared,
)


def _rank(match: Match, evidence: Evidence) -> tuple[bool, bool, bool, int]:
    """Sort key, best first: covers the moment asked about, inside, on a component, size."""
    up, tolerance = match.upstream, evidence.tolerance
    covers = up.start - tolerance.lead <= evidence.at and (
        up.end is None or evidence.at <= up.end + tolerance.lag
    )
    return (not covers, match.fit != "inside", match.scope != "component", -match.local.failures)


def _meet(a: LocalWindow, b: LocalWindow) -> bool:
    """Whether two failure windows overlap in time (an open one runs on)."""
    return (b.end is None or a.start <= b.end) and (a.end is None or b.start <= a.end)


def _touched(window: LocalWindow, evidence: Evidence) -> bool:
    """Whether any declared window on what this check relies on meets it, even in part.

    Rejected credentials that overlap the vendor's trouble are not blamed on
    the user: "remove the credentials file" is the advice that cost people
    hours in April 2026, and a late declaration is the usual case.
    """
    return bool(matches(window, list(evidence.upstream), evidence.tolerance))


def _credentials_path(evidence: Evidence) -> str | None:
    for item in evidence.activity:
        if item.check.kind == "credentials_file":
            return item.check.target
    return None


def _every_target(evidence: Evidence, broken: list[LocalWindow]) -> bool:
    """Whether network-level failures hit every vendor target that was tried (two at least).

    Every target means every check that probes one and could run: a credentials
    file or a port has no network target, a misconfigured check tried none.
    """
    unusable = {w.name for w in evidence.unusable()}
    ran = {
        a.check.name
        for a in evidence.activity
        if a.runs
        and a.check.role == "vendor"
        and a.check.kind not in LOCAL_KINDS
        and (a.passed or a.check.name not in unusable)
    }
    hit = {w.name for w in broken if w.kind == "check"}
    return len(ran) >= 2 and ran <= hit


def _network_failures(windows: list[LocalWindow]) -> list[str]:
    """ "DNS for api.anthropic.com failed (api-dns, api-reachable: dns_failure)": one per host."""
    grouped: dict[str, list[LocalWindow]] = {}
    for window in windows:
        what = {
            fc.DNS_FAILURE: "DNS",
            fc.CONNECT_TIMEOUT: "connecting",
            fc.CONNECT_REFUSED: "connecting",
            fc.NETWORK_UNREACHABLE: "routing",
            fc.TLS_ERROR: "TLS",
        }.get(window.failure_classes[0] if window.failure_classes else "", "the call")
        host = host_of(window.target) if window.target else window.name
        role = "control target" if window.role == "control" else ""
        grouped.setdefault(f"{what} for {role} {host}".replace("  ", " "), []).append(window)
    return [
        f"{subject} failed ({', '.join(dict.fromkeys(w.name for w in group))}: {_classes(group)})"
        for subject, group in grouped.items()
    ]


def _match_reasons(found: list[Match]) -> tuple[str, ...]:
    """One reason per failing check and upstream window, however many spells it had."""
    groups: dict[tuple[str, UpstreamWindow], list[Match]] = {}
    for match in found:
        groups.setdefault((match.local.name, match.upstream), []).append(match)
    return tuple(_match_reason(group) for group in groups.values())


def _match_reason(group: list[Match]) -> str:
    best, up = group[0], group[0].upstream
    kind = "maintenance" if up.kind == "maintenance" else up.kind
    on = (
        f"on {', '.join(best.components)}"
        if best.scope == "component"
        else "page-wide (no components to compare)"
    )
    stated = ""
    if up.stated_in_update and up.declared_start is not None:
        declared = _span(up.declared_start, up.declared_end)
        stated = f"; the impact window is stated in an update, declared {declared}"
    fit = "inside" if all(m.fit == "inside" for m in group) else "overlapping"
    impact = f", impact {up.impact}" if up.impact else ""
    return (
        f"{_spells([m.local for m in group])}, {fit} {up.source} {kind} \u201c{up.title}\u201d "
        f"({_span(up.start, up.end)}{impact}) {on}{stated}"
    )


def _window_reasons(windows: Iterable[LocalWindow]) -> tuple[str, ...]:
    return tuple(_spells(group) for group in by_name(windows))


def _spells(windows: list[LocalWindow]) -> str:
    """What one check's failure windows amount to: "api failed 40× in 3 spells (...) ..."."""
    first, last = windows[0], windows[-1]
    what = "observed failures" if first.kind == "observed" else "failed"
    failures = sum(w.failures for w in windows)
    count = f"{failures}\u00d7" if failures != 1 else "once"
    spells = f" in {len(windows)} spells" if len(windows) > 1 else ""
    return (
        f"{first.name} {what} {count}{spells} ({_classes(windows)}) {_span(first.start, last.end)}"
    )


def _classes(windows: Iterable[LocalWindow]) -> str:
    seen = dict.fromkeys(c for w in windows for c in w.failure_classes)
    return ", ".join(seen) or "failures"


def _span(start: datetime | None, end: datetime | None) -> str:
    if start is None:
        return "time unknown"
    first = start.strftime("%Y-%m-%d %H:%M")
    if end is None:
        return f"from {first} UTC, still open"
    last = end.strftime("%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M")
    return f"{first}\u2013{last} UTC"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
