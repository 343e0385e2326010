"""When does a local failure window line up with an upstream window, and how well.

Status pages declare late and resolve late, so an upstream window is
widened by ``lead`` before its start and ``lag`` after its end. A failure
*inside* the widened window is explained by it; one that merely overlaps it
(it began well before the vendor's trouble, or outlived it) is explained in
part, which is weaker evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from monitor.correlate.windows import LocalWindow, UpstreamWindow


def host_of(target: str) -> str:
    """The host a check's target names ("POST https://h/x" -> "h", "h:443" -> "h")."""
    text = target.split()[-1] if target.strip() else target
    if "://" in text:
        return urlsplit(text).hostname or text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


Fit = Literal["inside", "overlap"]
Scope = Literal["component", "page"]


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How loosely times line up (``[correlate]`` lead and lag)."""

    lead: timedelta = timedelta(minutes=30)
    lag: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Match:
    """A local window lined up with an upstream one: how it fits, and on what."""

    local: LocalWindow
    upstream: UpstreamWindow
    fit: Fit
    scope: Scope
    components: tuple[str, ...]  # the components both name (empty for a page-wide match)


def fit(local: LocalWindow, upstream: UpstreamWindow, tolerance: Tolerance) -> Fit | None:
    """``inside`` the widened upstream window, ``overlap`` with it, or None."""
    lo = upstream.start - tolerance.lead
    hi = None if upstream.end is None else upstream.end + tolerance.lag
    if hi is not None and local.start > hi:
        return None
    if local.end is not None and local.end < lo:
        return None
    ends_in_time = hi is None or (local.end is not None and local.end <= hi)
    return "inside" if local.start >= lo and ends_in_time else "overlap"


def scope(local: LocalWindow, upstream: UpstreamWindow) -> tuple[Scope, tuple[str, ...]] | None:
    """On what the two meet: shared components, the whole page, or (None) nothing.

    A window on another source never matches. Where both name components
    they must share one; where either names none, the match is page-wide,
    unless the failing call's host is part of a component's name (vendors
    write "Claude API (api.anthropic.com)"): then that component matches.
    """
    if local.source is None or local.source != upstream.source:
        return None
    if local.components and upstream.components:
        shared = tuple(c for c in local.components if _named(c, upstream.components))
        return ("component", shared) if shared else None
    host = host_of(local.target).casefold() if local.target else ""
    named = tuple(c for c in upstream.components if _host_named(host, c))
    if named:
        return "component", named
    return "page", ()


def _host_named(host: str, component: str) -> bool:
    """Whether ``component`` names ``host`` whole: "api.anthropic.com", not "api"."""
    if "." not in host:
        return False
    pattern = rf"(?<![\w.-]){re.escape(host)}(?![\w-]|\.\w)"
    return re.search(pattern, component.casefold()) is not None


def _named(component: str, names: tuple[str, ...]) -> bool:
    wanted = component.casefold()
    return any(wanted == name.casefold() for name in names)


def matches(
    local: LocalWindow, upstream: list[UpstreamWindow], tolerance: Tolerance
) -> list[Match]:
    """Every upstream window ``local`` lines up with, best first."""
    found = []
    for window in upstream:
        where = scope(local, window)
        if where is None:
            continue
        how = fit(local, window, tolerance)
        if how is None:
            continue
        found.append(Match(local, window, how, where[0], where[1]))
    found.sort(key=lambda m: (m.fit != "inside", m.scope != "component", m.upstream.start))
    return found
