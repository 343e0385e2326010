"""How findings read: spells of failures, matches, windows and spans, one line each.

Shared by the rules and the verdict so every line says a thing the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from monitor.correlate.matching import host_of
from monitor.correlate.relevance import Match
from monitor.correlate.windows import LocalWindow, UpstreamWindow, by_name
from monitor.failures import Failure

# Which step of a call each network-level failure stopped at.
_FAILED_STEP: dict[str, str] = {
    Failure.DNS_FAILURE: "DNS",
    Failure.CONNECT_TIMEOUT: "connecting",
    Failure.CONNECT_REFUSED: "connecting",
    Failure.NETWORK_UNREACHABLE: "routing",
    Failure.TLS_ERROR: "TLS",
}


def network_failures(windows: list[LocalWindow]) -> list[str]:
    """ "DNS for api.anthropic.com failed (api-dns, api-reachable: dns_failure)": one per host."""
    grouped: dict[str, list[LocalWindow]] = {}
    for window in windows:
        first = window.failure_classes[0] if window.failure_classes else ""
        what = _FAILED_STEP.get(first, "the call")
        host = host_of(window.target) if window.target else window.name
        role = "control target" if window.role == "control" else ""
        grouped.setdefault(f"{what} for {role} {host}".replace("  ", " "), []).append(window)
    return [
        f"{subject} failed ({', '.join(dict.fromkeys(w.label for w in g))}: {classes_of(g)})"
        for subject, g in grouped.items()
    ]


def match_reasons(found: list[Match]) -> tuple[str, ...]:
    """One reason per failing check and upstream window, however many spells it had."""
    groups: dict[tuple[str, UpstreamWindow], list[Match]] = {}
    for match in found:
        groups.setdefault((match.local.label, match.upstream), []).append(match)
    return tuple(_match_reason(group) for group in groups.values())


def _match_reason(group: list[Match]) -> str:
    best, up = group[0], group[0].upstream
    kind = "maintenance" if up.kind == "maintenance" else up.kind
    on = {
        "component": f"on {', '.join(best.components)}, which they use",
        "sign_in": f"sign-in trouble (on {', '.join(best.components)})",
        "page": "on the status page as a whole (no component to compare)",
    }[best.scope]
    fit = "inside" if all(m.fit == "inside" for m in group) else "overlapping"
    impact = f", impact {up.impact}" if up.impact else ""
    return (
        f"{_spells([m.local for m in group])}, {fit} {up.source} {kind} \u201c{up.title}\u201d "
        f"({window_span(up)}{impact}) {on}"
    )


def window_span(window: UpstreamWindow) -> str:
    """The window as the vendor gave it: a span stated in an update, with the declared
    times beside it, or the declared times alone."""
    declared = span_text(window.declared_start or window.start, window.declared_end)
    if window.stated is None:
        return (
            declared if window.declared_start is not None else span_text(window.start, window.end)
        )
    return f"stated in an update as {span_text(*window.stated)}; declared {declared}"


def window_reasons(windows: Iterable[LocalWindow]) -> tuple[str, ...]:
    return tuple(_spells(group) for group in by_name(windows))


def _spells(windows: list[LocalWindow]) -> str:
    """What one check's failure windows amount to: "api failed 40× in 3 spells (...) ..."."""
    first, last = windows[0], windows[-1]
    what = "observed failures" if first.kind == "observed" else "failed"
    failures = sum(w.failures for w in windows)
    count = f"{failures}\u00d7" if failures != 1 else "once"
    spells = f" in {len(windows)} spells" if len(windows) > 1 else ""
    when = span_text(first.start, last.end)
    return f"{first.label} {what} {count}{spells} ({classes_of(windows)}) {when}"


def classes_of(windows: Iterable[LocalWindow]) -> str:
    seen = dict.fromkeys(c for w in windows for c in w.failure_classes)
    return ", ".join(seen) or "failures"


def span_text(start: datetime | None, end: datetime | None) -> str:
    if start is None:
        return "time unknown"
    first = start.strftime("%Y-%m-%d %H:%M")
    if end is None:
        return f"from {first} UTC, still open"
    last = end.strftime("%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M")
    return f"{first}\u2013{last} UTC"
