"""Weigh what the rules found into one verdict, honest about what does not fit.

Order of precedence, and why:

1. Nothing failed: ``healthy`` when the monitor was watching, ``no_data``
   when it was not (a gap is not a healthy period). Upstream windows open
   then are listed either way.
2. ``network`` wins unless another finding is stronger: when the path out
   of this machine is broken, nothing beyond it can be judged; but one lost
   control request does not outweigh a declared outage.
3. Upstream and local findings are compared by confidence; the stronger
   wins and the weaker stays in the reasons. Equal strength both ways is
   ``inconclusive``, listing both.
4. Failures no rule explains are ``inconclusive``, never a guess.

A check's newest state wins: a check that failed and passed again before
the moment asked about (fixed since) does not drive the answer while other
failures go on; it is listed as fixed. A status page that could not be read
around that moment is said so, never passed off as "nothing declared".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from monitor.correlate.agreement import ProbeView, probe_views
from monitor.correlate.evidence import Evidence
from monitor.correlate.pages import Page
from monitor.correlate.relevance import why_not
from monitor.correlate.rules import RANK, RULES, Confidence, Finding
from monitor.correlate.windows import Coverage, LocalWindow, UpstreamWindow
from monitor.correlate.wording import span_text
from monitor.failures import Failure

VERDICTS = ("upstream", "local", "network", "inconclusive", "healthy", "no_data")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to "is it me or is it them" at one moment, with its evidence."""

    at: datetime
    lo: datetime
    hi: datetime
    verdict: str
    confidence: Confidence
    summary: str
    reasons: tuple[str, ...]
    next_step: str
    local: tuple[LocalWindow, ...]
    upstream: tuple[UpstreamWindow, ...]
    coverage: Coverage
    unread: tuple[Page, ...] = ()
    # The status pages read around ``at`` (what they declared then is known), and the
    # others (unknown; ``unread`` has those the failures depend on, with the reason).
    read: tuple[str, ...] = ()
    not_read: tuple[str, ...] = ()
    # What each probe saw, when more than one ran checks in the window.
    probes: tuple[ProbeView, ...] = ()
    # The declared windows the verdict rests on (the first of ``upstream``; the
    # rest are context): "whose fault, which incident" for the notifications.
    explained_by: tuple[UpstreamWindow, ...] = ()
    # The failures still going on at ``at``, as the verdict judges them: usable
    # check windows not ended by then, imported bursts not over (beyond the lag).
    # Not part of any output: the notifications ask "what fails now?" of it.
    ongoing: tuple[LocalWindow, ...] = ()


def explain(evidence: Evidence) -> Verdict:
    """Run every rule and weigh their findings (see the module docstring)."""
    fixed = _fixed_since(evidence)
    judged = replace(evidence, local=tuple(w for w in evidence.local if w not in fixed))
    findings = [f for rule in RULES if (f := rule(judged)) is not None]
    chosen = _weigh(judged, findings)
    used = set(chosen.upstream)
    context = [w for w in evidence.upstream if w.overlaps(evidence.lo, evidence.hi)]
    aside = [_aside(w, chosen.verdict, judged) for w in context if w not in used]
    aside += [_fixed(w) for w in fixed]
    unread = evidence.unread()
    aside += [
        f"{p.unread()}: what it declared then is unknown"
        for p in unread
        if not any(r.startswith(p.unread()) for r in chosen.reasons)
    ]
    unusable = [_unusable(w) for w in evidence.unusable()]
    reasons = tuple(dict.fromkeys((*chosen.reasons, *aside, *unusable)))
    views = probe_views(evidence.series, evidence.hosts, evidence.lo, evidence.hi)
    return Verdict(
        at=evidence.at,
        lo=evidence.lo,
        hi=evidence.hi,
        verdict=chosen.verdict,
        confidence=chosen.confidence,
        summary=chosen.summary,
        reasons=reasons,
        next_step=chosen.next_step,
        local=evidence.local,
        upstream=tuple(dict.fromkeys([*chosen.upstream, *context])),
        coverage=evidence.coverage,
        unread=tuple(unread),
        read=tuple(p.source for p in evidence.pages if p.known),
        not_read=tuple(p.source for p in evidence.pages if not p.known),
        probes=views if len(views) > 1 else (),
        explained_by=chosen.upstream,
        ongoing=_ongoing(evidence),
    )


def _fixed_since(evidence: Evidence) -> list[LocalWindow]:
    """Failures that stopped before both the moment asked and the failures that go
    on: fixed since (a check passed again), or over (an imported burst ended well
    before), so not what is failing now.

    Each check's newest state on each probe wins: a credentials file made
    private at 10:05 does not explain a 500 at 10:30. A check that failed
    alongside the failures that go on (a control lost while the vendor calls
    failed) is part of their story and stays; so does every spell of a check
    still failing. An imported burst over before the moment is past even if
    it overlapped what goes on: 500s that stopped at 23:48 do not answer for
    401s still coming at 00:35. When nothing else failed, the fixed failures are all there
    is to explain, and they stay.
    """
    unusable = evidence.unusable()
    usable = [w for w in evidence.local if w not in unusable]
    newest: dict[tuple[str, str | None], LocalWindow] = {}
    for window in usable:
        if window.kind == "check":
            key = (window.name, window.probe)
            if key not in newest or window.start > newest[key].start:
                newest[key] = window
    over = {key for key, last in newest.items() if last.end is not None and last.end <= evidence.at}

    def ended(window: LocalWindow) -> bool:
        if window.kind == "check":
            return (window.name, window.probe) in over
        return _burst_over(window, evidence)

    live = [w for w in usable if not ended(w)]
    fixed = [
        w
        for w in usable
        if ended(w) and (w.kind == "observed" or not any(w.meets(other) for other in live))
    ]
    return fixed if live else []


def _burst_over(window: LocalWindow, evidence: Evidence) -> bool:
    """Imported failures say nothing of recovering: a burst whose last failure lies
    well before the moment (beyond the lag) is over by then."""
    until = window.failing_until
    return until is not None and until < evidence.at - evidence.tolerance.lag


def _ongoing(evidence: Evidence) -> tuple[LocalWindow, ...]:
    """The usable failures going on at the moment asked: a check's window begun by
    then and not ended by then, an imported burst begun by then and not over."""
    unusable = evidence.unusable()
    at = evidence.at
    return tuple(
        w
        for w in evidence.local
        if w not in unusable
        and w.start <= at
        and ((w.end is None or w.end > at) if w.kind == "check" else not _burst_over(w, evidence))
    )


def _fixed(window: LocalWindow) -> str:
    ended = f"{window.end:%H:%M} UTC" if window.end else "then"
    what = f"{window.label} failed ({', '.join(window.failure_classes)})"
    if window.kind == "observed":
        return (
            f"{what} {span_text(window.start, window.end)} and was not seen failing after "
            f"{ended}: over before the moment asked, so not what is failing now"
        )
    return (
        f"{what} {span_text(window.start, window.end)} and has not failed since {ended} (it "
        "passed, or stopped running): fixed since"
    )


def _weigh(evidence: Evidence, findings: list[Finding]) -> Finding:
    unusable = evidence.unusable()
    failing = [w for w in evidence.local if w not in unusable]
    if not failing:
        return _quiet(evidence)
    by_verdict: dict[str, list[Finding]] = {}
    for finding in findings:
        by_verdict.setdefault(finding.verdict, []).append(finding)
    upstream = _strongest(by_verdict.get("upstream", []))
    local = _merge_local(by_verdict.get("local", []))
    network = _strongest(by_verdict.get("network", []))
    if network is not None and all(
        RANK[network.confidence] >= RANK[other.confidence] for other in (upstream, local) if other
    ):
        return _with_asides(network, findings)
    if upstream and local:
        if RANK[upstream.confidence] == RANK[local.confidence]:
            return _both_ways(upstream, local)
        stronger = upstream if RANK[upstream.confidence] > RANK[local.confidence] else local
        return _with_asides(stronger, findings)
    if upstream or local:
        return _with_asides(upstream or local, findings)  # type: ignore[arg-type]
    return _unexplained(failing)


def _strongest(findings: list[Finding]) -> Finding | None:
    # Stable: on equal confidence the declared window (listed first) wins.
    return max(findings, key=lambda f: RANK[f.confidence], default=None)


def _merge_local(findings: list[Finding]) -> Finding | None:
    if not findings:
        return None
    first = _strongest(findings)
    assert first is not None
    others = [f for f in findings if f is not first]
    reasons = list(first.reasons)
    for other in others:
        reasons += [r for r in other.reasons if r not in reasons]
    steps = " ".join([first.next_step, *(f.next_step for f in others)])
    return Finding(
        verdict="local",
        confidence=first.confidence,
        summary=first.summary,
        reasons=tuple(reasons),
        next_step=steps,
        local=tuple(dict.fromkeys(w for f in findings for w in f.local)),
    )


def _with_asides(chosen: Finding, findings: list[Finding]) -> Finding:
    asides = tuple(
        f"also considered ({f.verdict}, {f.confidence}): {f.summary}"
        for f in findings
        if f.verdict != chosen.verdict
    )
    return Finding(
        verdict=chosen.verdict,
        confidence=chosen.confidence,
        summary=chosen.summary,
        reasons=(*chosen.reasons, *asides),
        next_step=chosen.next_step,
        local=chosen.local,
        upstream=chosen.upstream,
    )


def _both_ways(upstream: Finding, local: Finding) -> Finding:
    return Finding(
        verdict="inconclusive",
        confidence="low",
        summary=(
            "The evidence points both ways: some failures line up with the vendor's "
            "trouble, others point at this machine."
        ),
        reasons=(
            *(f"them: {r}" for r in upstream.reasons),
            *(f"you: {r}" for r in local.reasons),
        ),
        next_step=f"First rule out this side: {local.next_step} Then: {upstream.next_step}",
        local=(*upstream.local, *local.local),
        upstream=upstream.upstream,
    )


def _unexplained(failing: list[LocalWindow]) -> Finding:
    names = ", ".join(dict.fromkeys(w.label for w in failing))
    return Finding(
        verdict="inconclusive",
        confidence="low",
        summary=(
            f"{names} failed, but the failures match no declared upstream trouble and no "
            "known local or network pattern."
        ),
        reasons=tuple(
            f"{w.label} failed {w.failures}\u00d7 ({', '.join(w.failure_classes)}) "
            f"{span_text(w.start, w.end)}: {w.detail}".rstrip(": ")
            for w in failing
        ),
        next_step=(
            "Look at the failing runs' details (monitor results --failed) and retry; if it "
            "persists with the control target fine, report it to the vendor."
        ),
        local=tuple(failing),
    )


def _quiet(evidence: Evidence) -> Finding:
    coverage = evidence.coverage
    window = span_text(evidence.lo, evidence.hi)
    if not coverage.watching:
        at = evidence.at.strftime("%Y-%m-%d %H:%M UTC")
        reasons = [
            "no service heartbeat covers it, and no check run or imported failure is near it"
        ]
        if coverage.runs:
            reasons.append(
                f"{coverage.runs} check runs passed elsewhere in {window} (the first at "
                f"{coverage.first_run:%H:%M}, the last at {coverage.last_run:%H:%M} UTC): "
                "the monitor started or stopped around then, and a gap is not a healthy period"
            )
        return Finding(
            verdict="no_data",
            confidence="high",
            summary=f"No monitoring data at {at}: the monitor was not running then.",
            reasons=tuple(reasons),
            next_step=(
                "Nothing can be said about this machine then. Keep `monitor run` running "
                "(or import your tool's logs with `monitor import`) to have evidence next time."
            ),
        )
    runs = coverage.runs
    return Finding(
        verdict="healthy",
        confidence="high" if runs else "medium",
        summary=f"Nothing failed here in {window}"
        + (f" ({runs} check runs passed)." if runs else " (the service was up; no runs)."),
        reasons=(f"{runs} check runs in the window, none failing",),
        next_step=(
            "If something failed for you then, it was not seen by these checks: import the "
            "tool's log (`monitor import`) or add a check for that call."
        ),
    )


def _aside(window: UpstreamWindow, verdict: str, evidence: Evidence) -> str:
    when = span_text(window.start, window.end)
    base = f"{window.source} had {window.kind} \u201c{window.title}\u201d open then ({when})"
    if verdict in ("healthy", "no_data"):
        return base
    if any(m.upstream == window for w in evidence.local for m in evidence.matches(w)):
        if verdict == "upstream":
            return f"{base}; it too concerns what the failing calls use"
        return f"{base}; it concerns what the failing calls use, but is outweighed"
    mine = [w for w in evidence.local if w.source == window.source]
    if not mine:
        return f"{base}, but it does not explain the failures seen here (another source)"
    page = next((p for p in evidence.pages if p.source == window.source), None)
    reason = why_not(mine[0], window, evidence.tolerance, page)
    return f"{base}, but it does not explain {mine[0].label}'s failures: {reason}"


def _unusable(window: LocalWindow) -> str:
    if Failure.INTERNAL_ERROR in window.failure_classes:
        return (
            f"{window.label} could not run (internal_error): monitor itself failed; "
            "please report it"
        )
    classes = ", ".join(window.failure_classes)
    return f"{window.label} could not run ({classes}): fix its configuration"
