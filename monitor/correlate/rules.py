"""The rules: each reads the evidence and says what it shows, or nothing.

One small function per pattern, so each has its own test and a reader can
check the reasoning against the incident reports that motivated it. The
verdict (``explain``) only weighs what the rules found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from monitor.correlate.advice import (
    capital,
    credential_step,
    network_step,
    private_step,
    upstream_step,
)
from monitor.correlate.agreement import Peers, private_reason, probe_list, shared_reason
from monitor.correlate.classes import ANSWERED, AUTH, LOCAL_KINDS, NETWORK, PATH, SERVER_SIDE
from monitor.correlate.evidence import Evidence
from monitor.correlate.matching import host_of
from monitor.correlate.relevance import RANK, Confidence, Match, affinity, hit_at, need_of
from monitor.correlate.windows import LocalWindow, UpstreamWindow
from monitor.correlate.wording import (
    classes_of,
    match_reasons,
    network_failures,
    window_reasons,
    window_span,
)
from monitor.failures import Failure

__all__ = ["RANK", "RULES", "Confidence", "Finding"]


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
    """The control target fails too, network-level failures hit every target, or calls
    could not even connect while nothing declared explains it: it is the path.

    A VPN, a proxy, a firewall or DNS on this side stops every connection,
    the vendor's and anyone else's alike. A vendor's outage looks different:
    its servers still accept the connection and answer 5xx or stall, so a
    name that does not resolve or a refused connection with nothing declared
    is not evidence against the vendor.
    """
    # A control answering 5xx proves the path works; only failing to reach it
    # counts, and only while the vendor calls failed to get through too: a
    # vendor answering (a 500, a 401) meanwhile proves the path to it works.
    vendor = evidence.vendor()
    unreached = [v for v in vendor if not set(v.failure_classes) <= ANSWERED]
    # A control fails for the machine it ran on: another probe's lost control
    # says nothing of this one's path.
    control = [
        w
        for w in evidence.control()
        if set(w.failure_classes) & PATH
        and any(w.meets(v) and evidence.same_machine(w, v) for v in unreached)
    ]
    broken = [w for w in vendor if set(w.failure_classes) & NETWORK]
    everywhere = _every_target(evidence, broken)
    # A host that answered meanwhile (a 503, a 401) had a name and a route: a
    # lookup or a connection lost beside that is a blip, not the path. What
    # the other probes saw decides the rest (``one_machine``, ``upstream_undeclared``).
    answered = [w for w in vendor if set(w.failure_classes) & ANSWERED]
    unexplained = [
        w
        for w in broken
        if not evidence.explained(w)
        and not any(_same_host(w, a) and w.meets(a) for a in answered)
        and not evidence.private(w)
        and not _shared_past_controls(evidence, w)
    ]
    if control:
        path_down = broken or any(set(w.failure_classes) & NETWORK for w in control)
        confidence: Confidence = "high" if path_down else "medium"
        if sum(w.failures for w in control) < 2 and not everywhere:
            # One lost control request is a blip, not a broken path, unless every
            # other target failed the same way at the same time.
            confidence = "low"
    elif everywhere and not evidence.control_passed():
        confidence = "medium"
    elif unexplained and (
        sum(w.failures for w in unexplained) >= 2 or all(w in broken for w in vendor)
    ):
        # Only the vendor's host fails to connect, and nothing declared explains it:
        # this side's DNS, proxy or firewall is the likelier cause, but one cannot
        # tell for sure without a control target failing alongside. One such line
        # among other failures is a blip, not the answer.
        broken, confidence = unexplained, "low"
    else:
        return None
    failed = [*broken, *control]
    what = "; ".join(network_failures(failed))
    reasons = list(window_reasons(failed))
    reasons += [shared_reason(p) for p in _peers(evidence, failed) if p.shared]
    if not control and evidence.control_passed({w.probe for w in failed}):
        reasons.append(
            "the control target passed: the trouble is on the way to this vendor only "
            "(DNS, a proxy or firewall rule, a VPN route)"
        )
    elif not control:
        reasons.append("no declared trouble explains it: a vendor outage still accepts connections")
    return Finding(
        verdict="network",
        confidence=confidence,
        summary=f"Your network path is failing, not the vendor: {what}.",
        reasons=tuple(reasons),
        next_step=network_step(failed),
        local=tuple(failed),
    )


def upstream_declared(evidence: Evidence) -> Finding | None:
    """Failures sit inside a window their source declared, on what they used (``relevance``)."""
    explained: list[Match] = []
    for window in evidence.vendor():
        found = evidence.matches(window)
        if found:
            explained.append(min(found, key=lambda m: _rank(m, evidence)))
    if not explained:
        return None
    # Best first, so the summary names the match that sets the confidence and is
    # about the moment asked (not whichever failure began first).
    explained.sort(key=lambda m: _rank(m, evidence))
    confidence = max((m.strength for m in explained), key=RANK.__getitem__)
    if confidence == "high" and sum(m.local.failures for m in explained) < 2:
        confidence = "medium"  # one failed call is too little to be sure of anything
    best = explained[0]
    lead = best.upstream
    label = "maintenance" if lead.kind == "maintenance" else lead.kind
    summary = (
        f"It is them: {lead.source} declared {label} \u201c{lead.title}\u201d "
        f"({window_span(lead)}) and your failures "
        f"{'fall inside it' if best.fit == 'inside' else 'overlap it'}."
    )
    rejected = any(need_of(m.local) == "credential" for m in explained)
    reasons = list(match_reasons(explained))
    private = [p for p in _peers(evidence, [m.local for m in explained]) if p.private]
    if private:
        # The declared trouble reached only some machines: for rejected
        # credentials that leaves this machine's key in doubt.
        reasons += [private_reason(p) for p in private]
        if any(need_of(p.window) == "credential" for p in private) and confidence == "high":
            confidence = "medium"
    return Finding(
        verdict="upstream",
        confidence=confidence,
        summary=summary,
        reasons=tuple(reasons),
        next_step=upstream_step(lead, rejected),
        local=tuple(m.local for m in explained),
        upstream=tuple(dict.fromkeys(m.upstream for m in explained)),
    )


def credentials(evidence: Evidence) -> Finding | None:
    """The vendor rejects these credentials, and no relevant trouble explains it.

    The stale-refresh-token case: re-login alone may not cure it, because
    the tool keeps reusing the token file on disk. Trouble elsewhere on the
    page (a web UI, webhooks, billing) does not excuse a rejected key.
    """
    # A rejection declared trouble explains still counts here when another
    # machine's credentials got through the same call meanwhile: the declared
    # trouble may spare tokens still valid, or this key may be broken.
    rejected = [
        w
        for w in evidence.vendor()
        if set(w.failure_classes) & AUTH and (not evidence.explained(w) or evidence.private(w))
    ]
    if not rejected:
        return None
    reachable = evidence.reachable()
    peers = _peers(evidence, rejected)
    # The same call with credentials passing on another machine meanwhile is as
    # direct as a 401 to no credentials: the API is up and takes good ones.
    accepted = [p for p in peers if p.private]
    files = [w for w in evidence.setup() if w.check_kind == "credentials_file"]
    confidence: Confidence = "high" if reachable or accepted else "medium"
    if files and confidence == "medium":
        confidence = "high"
    if all(w.kind == "observed" for w in rejected) and not (reachable or accepted):
        confidence = "low" if not files else "medium"
    # One rejected call among many good ones is a blip (a token rotated between
    # two requests), not a reason to delete anything.
    rejections = sum(w.failures for w in rejected)
    if rejections < 2:
        confidence = "low"
    elif rejections < 3 and confidence == "high":
        confidence = "medium"
    reasons = list(window_reasons(rejected))
    if reachable:
        reasons.append(
            f"{', '.join(reachable)} passed: the API is up and answers 401 to a call "
            "without credentials, as it should"
        )
    if any(evidence.explained(w) for w in rejected) and confidence == "high":
        confidence = "medium"  # declared sign-in trouble stands beside it, as strong
    reasons += [private_reason(p) for p in accepted]
    # Rejected on every machine: not one machine's file or clock, but the key or
    # account they all use (or the vendor's sign-in, which no page declared).
    reasons += [
        f"{shared_reason(p)}; the key or account they share is rejected" for p in peers if p.shared
    ]
    reasons += window_reasons(files)
    unread = [p for p in evidence.unread() if p.source in {w.source for w in rejected}]
    if unread:
        # Declared trouble cannot be ruled out on a page nobody could read.
        confidence = "low"
        reasons += [f"{p.unread()}: declared sign-in trouble cannot be ruled out" for p in unread]
    classes = {c for w in rejected for c in w.failure_classes}
    up = (
        "the API is up"
        if reachable or accepted
        else "no declared trouble on what they use explains it"
    )
    if unread and not reachable:
        up = "the status page could not be read to rule out the vendor"
    return Finding(
        verdict="local",
        confidence=confidence,
        summary=f"It is you: your credentials are rejected ({classes_of(rejected)}) while {up}.",
        reasons=tuple(reasons),
        next_step=(
            "First look at the vendor's status page yourself (monitor could not read it): if "
            "it shows sign-in trouble, wait for it. Otherwise: "
            if unread
            else ""
        )
        + credential_step(rejected, classes, files, evidence),
        local=(*rejected, *files),
    )


def local_setup(evidence: Evidence) -> Finding | None:
    """This machine's own set-up fails: credentials file, callback port, clock."""
    broken = evidence.setup()
    if not broken:
        return None
    steps = []
    classes = {c for w in broken for c in w.failure_classes}
    if Failure.PORT_UNAVAILABLE in classes:
        steps.append("free the OAuth callback port (another process holds it), then log in again")
    elif Failure.CALLBACK_FAILED in classes:
        steps.append(
            "finish the login in a browser on this machine (the redirect to localhost must "
            "reach it: no remote session, proxy or VPN in the way), then try again"
        )
    if Failure.CLOCK_SKEW in classes:
        steps.append("synchronise this machine's clock (NTP): a skewed clock voids tokens")
    if classes & {
        Failure.CREDENTIALS_EXPIRED,
        Failure.CREDENTIALS_MISSING,
        Failure.CREDENTIALS_INVALID,
    }:
        steps.append("log in again to write fresh credentials")
    if Failure.CREDENTIALS_INSECURE in classes:
        steps.append("make the credentials file private (chmod 600)")
    confidence: Confidence = "medium" if sum(w.failures for w in broken) >= 2 else "low"
    summary = f"It is you: this machine's set-up fails ({classes_of(broken)})."
    reasons = list(window_reasons(broken))
    unread = [p for p in evidence.unread() if p.source in {w.source for w in broken}]
    if unread and any(need_of(w) == "callback" for w in broken):
        # A callback that never came may be the vendor's sign-in being down.
        confidence = "low"
        summary = (
            f"Probably you: this machine's set-up fails ({classes_of(broken)}), but the status "
            "page could not be read to rule out sign-in trouble."
        )
        reasons += [f"{p.unread()}: declared sign-in trouble cannot be ruled out" for p in unread]
    return Finding(
        verdict="local",
        confidence=confidence,
        summary=summary,
        reasons=tuple(reasons),
        next_step=capital("; ".join(steps)) + ".",
        local=tuple(broken),
    )


def upstream_undeclared(evidence: Evidence) -> Finding | None:
    """The vendor answers with 5xx or times out while the control target is fine.

    Nothing relevant is declared yet: the early warning, before the status
    page catches up. Trouble declared on another component does not count.
    """
    failing = [
        w
        for w in evidence.vendor()
        if not evidence.explained(w)
        and not evidence.private(w)
        and (
            (w.failure_classes and w.failure_classes[0] in SERVER_SIDE)
            or _shared_past_controls(evidence, w)
        )
    ]
    if not failing:
        return None
    control_ok = evidence.control_passed({w.probe for w in failing})
    shared = [p for p in _peers(evidence, failing) if p.shared]
    # Several machines failing to reach the vendor at once: its front door, or a
    # network they share (one office, one resolver): never more than low.
    unreached = all(
        not (w.failure_classes and w.failure_classes[0] in SERVER_SIDE) for w in failing
    )
    unread = [p for p in evidence.unread() if p.source in {w.source for w in failing}]
    everywhere = sorted({probe for p in shared for probe in p.failing})
    if control_ok:
        beside = " while the control target is fine"
    elif everywhere:
        beside = f" on every probe that made those calls ({', '.join(everywhere)})"
    else:
        beside = ""
    if unread:
        summary = (
            f"Probably them: {classes_of(failing)} from the vendor{beside}; whether they "
            "declared it is unknown (the status page could not be read)."
        )
        declared = tuple(p.unread() for p in unread)
    else:
        summary = (
            f"Probably them, not (yet) declared for what these calls use: {classes_of(failing)} "
            f"from the vendor{beside}."
        )
        declared = ("no incident or maintenance on what these calls use covers them",)
    if control_ok:
        control = "the control target passed in the same window"
    elif shared:
        control = "no control check ran, but the other probes stand in for one"
    else:
        control = "no control check ran, so a problem on this side cannot be ruled out"
    return Finding(
        verdict="upstream",
        confidence="low" if unreached or not (control_ok or shared) else "medium",
        summary=summary,
        reasons=(
            *window_reasons(failing),
            *(shared_reason(p) for p in shared),
            *(
                [
                    "they could not reach it from several machines: its front door, unless the "
                    "machines share a network (one office, one resolver, one VPN)"
                ]
                if unreached
                else []
            ),
            control,
            *declared,
        ),
        next_step=(
            "Retry in a few minutes; nothing on this machine needs fixing. If it persists, "
            "report it to the vendor with the times above."
            if control_ok
            else "Retry in a few minutes; every probe fails alike, so no one machine needs "
            "fixing. If it persists, report it to the vendor with the times above."
            if shared
            else "Retry in a few minutes, and check that other sites load from this machine "
            "(no control check ran). If it persists, report it to the vendor with the times "
            "above."
        ),
        local=tuple(failing),
    )


def one_machine(evidence: Evidence) -> Finding | None:
    """A call fails on some probes while another makes it without trouble meanwhile.

    The vendor answers that call, so the trouble is the failing machines'
    (``agreement``): their path when they could not reach or hear back from
    it, what they send (their key's account, their proxy, their region) when
    the vendor answered them badly. Rejected credentials are ``credentials``'
    to weigh; trouble declared on what the call uses still weighs as declared.
    """
    private = [
        peers
        for w in evidence.vendor()
        if w.kind == "check"
        and not evidence.explained(w)
        and not set(w.failure_classes) <= AUTH
        and (peers := evidence.peers(w)) is not None
        and peers.private
    ]
    if not private:
        return None
    failed = [p.window for p in private]
    probes = probe_list(f for p in private for f in p.failing)
    others = probe_list(o for p in private for o in p.passing)
    path = all(set(w.failure_classes) <= PATH for w in failed)
    failures = sum(w.failures for w in failed)
    passed = min(p.passed_runs for p in private)
    confidence: Confidence = "high" if failures >= 3 and passed >= 2 else "medium"
    if failures < 2:
        confidence = "low"  # one lost call beside good ones is a blip
    elif not path:
        confidence = "medium"  # a bad answer to one machine may still be the vendor's region
    if all(p.same_host for p in private):
        # The same machine gets through under another probe: what differs is
        # this probe's own settings, not the machine's network.
        summary = (
            f"Only {probes} fails ({classes_of(failed)}), and {others} on the same host "
            f"makes the same calls meanwhile: it is {probes}'s own settings (its proxy, its "
            "credentials), not the vendor."
        )
    elif path:
        what = "; ".join(network_failures(failed))
        summary = (
            f"Only {probes} fails, and {others} makes the same calls meanwhile: it is the "
            f"path from {probes}, not the vendor: {what}."
        )
    else:
        summary = (
            f"Only {probes} fails ({classes_of(failed)}), and {others} makes the same calls "
            f"meanwhile: it is something on {probes}'s side, not a vendor outage."
        )
    return Finding(
        verdict="network" if path else "local",
        confidence=confidence,
        summary=summary,
        reasons=(*window_reasons(failed), *(private_reason(p) for p in private)),
        next_step=(network_step(failed) if path else private_step(failed))
        + f" Compare {probes} with {others}, which gets through.",
        local=tuple(failed),
    )


RULES: tuple[Rule, ...] = (
    network,
    upstream_declared,
    credentials,
    local_setup,
    one_machine,
    upstream_undeclared,
)


def _rank(match: Match, evidence: Evidence) -> tuple[bool, int, bool, int, timedelta, int]:
    """Sort key, best first: hit at the moment asked, strength, on a component, the
    words it shares with the failure, the shorter (more specific) window, size."""
    up = match.upstream
    covers = hit_at(match, evidence.at, evidence.tolerance)
    length = (up.end or max(evidence.at, up.start)) - up.start
    return (
        not covers,
        -RANK[match.strength],
        match.scope != "component",
        -affinity(match.local, up),
        length,
        -match.local.failures,
    )


def _peers(evidence: Evidence, windows: list[LocalWindow]) -> list[Peers]:
    return [p for w in windows if (p := evidence.peers(w)) is not None]


def _shared_past_controls(evidence: Evidence, window: LocalWindow) -> bool:
    """A vendor host no probe could reach while the probes' own controls passed.

    From one machine a refused connection or a name that does not resolve is
    the path's doing; from several machines at once, each reaching its control
    target, it is the vendor's name or front door.
    """
    if not set(window.failure_classes) & NETWORK:
        return False
    peers = evidence.peers(window)
    return peers is not None and peers.shared and evidence.control_passed(peers.failing)


def _same_host(a: LocalWindow, b: LocalWindow) -> bool:
    return bool(a.target and b.target) and host_of(a.target) == host_of(b.target)


def _every_target(evidence: Evidence, broken: list[LocalWindow]) -> bool:
    """Whether network-level failures hit every vendor target that was tried (two at least).

    Every target means every check that probes one and could run: a credentials
    file or a port has no network target, a misconfigured check tried none.
    """
    unusable = {(w.name, w.probe) for w in evidence.unusable()}
    ran: dict[str, set[str]] = {}
    for a in evidence.activity:
        if (
            a.runs
            and a.check.role == "vendor"
            and a.check.kind not in LOCAL_KINDS
            and (a.passed or (a.check.name, a.probe) not in unusable)
        ):
            ran.setdefault(a.probe, set()).add(a.check.name)
    hit = {(w.name, w.probe) for w in broken if w.kind == "check"}
    # Per machine: each probe tries its own targets along its own path.
    return any(
        len(names) >= 2 and all((name, probe) in hit for name in names)
        for probe, names in ran.items()
    )
