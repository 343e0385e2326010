"""Relevance: whether an upstream window explains a local failure, by component, time and class.

The principle (the design's "Relevance" section, and README.md). A window declared by a status
page explains a failure only if all three hold:

1. **Component.** The component the failure used was hit. That component is
   the check's ``depends_on`` components, else the one its host names
   ("Claude API (api.anthropic.com)" for api.anthropic.com, "API Requests"
   for api.github.com). Trouble on another component is no match. A window
   naming no component (a feed entry) is page-wide; a failure whose
   component cannot be told may be any hit component, but that is only as
   strong as a page-wide match.
2. **Time.** The component was hit *then*: each update says which
   components are degraded and which are back (``ComponentHit``), widened by
   ``lead`` and ``lag`` because pages declare late and resolve late.
3. **Class.** That kind of trouble can cause that kind of failure
   (``need``): a credential rejection needs trouble with signing in (login,
   auth, tokens: said by the component's name or the incident's subject) or
   trouble on an API component the failure called (or may have called,
   when its component is unknown); an OAuth callback that never
   arrives needs sign-in trouble; this machine's own set-up (a port, the
   clock, a file's mode) is never the vendor's doing; any other failure
   needs trouble on the component called.

Strength follows the match: ``high`` needs the component, the time and the
class to match directly; a page-wide or unknown-component match, sign-in
trouble elsewhere on the page, or API trouble behind a credential rejection
is ``medium``; a failure that only overlaps the window is ``low``. A
credential rejection that outlived the relevant trouble is not explained at
all: rejections that go on after the vendor recovered are what a broken key
(or a stale token on disk) looks like.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from monitor.correlate.classes import CREDENTIAL_REJECTIONS, THIS_MACHINE
from monitor.correlate.components import foreign, used_components
from monitor.correlate.matching import Fit, Tolerance, covers, fit
from monitor.correlate.pages import Page
from monitor.correlate.subject import (
    about_keys,
    about_names,
    about_reaching,
    credential_of,
    sign_in_components,
)
from monitor.correlate.windows import LocalWindow, UpstreamWindow
from monitor.failures import Failure

Confidence = Literal["high", "medium", "low"]
# component: trouble on the component the failure used; sign_in: trouble with
# signing in, wherever on the page; page: the page as a whole (no components
# to compare, or the failure's own component unknown).
Scope = Literal["component", "sign_in", "page"]
Need = Literal["component", "credential", "callback", "dns", "path", "never"]

_API = re.compile(r"\bapis?\b", re.IGNORECASE)


def need(failure_class: str) -> Need:
    """Which trouble can explain a failure of ``failure_class`` (the module docstring, 3)."""
    if failure_class in THIS_MACHINE:
        return "never"
    if failure_class in CREDENTIAL_REJECTIONS:
        return "credential"
    if failure_class == Failure.CALLBACK_FAILED:
        return "callback"
    if failure_class == Failure.DNS_FAILURE:
        return "dns"
    if failure_class in (Failure.CONNECT_REFUSED, Failure.NETWORK_UNREACHABLE):
        return "path"
    return "component"


def need_of(window: LocalWindow) -> Need:
    """A window's need is its most frequent class's (imported windows hold one family)."""
    return need(window.failure_classes[0]) if window.failure_classes else "component"


@dataclass(frozen=True, slots=True)
class Match:
    """A failure window lined up with an upstream window: how, on what, and how strongly."""

    local: LocalWindow
    upstream: UpstreamWindow
    fit: Fit
    scope: Scope
    components: tuple[str, ...]  # the components both name (empty for a page-wide match)
    direct: bool  # the trouble's kind is the failure's own cause, not merely compatible

    @property
    def strength(self) -> Confidence:
        if self.fit != "inside":
            return "low"
        return "high" if self.scope == "component" and self.direct else "medium"


def explains(
    local: LocalWindow,
    upstream: UpstreamWindow,
    tolerance: Tolerance,
    page: Page | None = None,
) -> Match | None:
    """How ``upstream`` explains ``local``, or None when it does not (component, time, class).

    ``page`` is what is known of the status page: the components it has (so a
    host can be matched to one the window does not name) and what the vendor
    is called (so a call to another vendor's host matches nothing).
    """
    if local.source is None or local.source != upstream.source:
        return None
    wanted = need_of(local)
    if wanted == "never" or (page is not None and foreign(local, page)):
        return None
    named = upstream.components
    known = [*(page.components if page else ()), *named]
    used = used_components(local, known) if named else ()
    on_used = tuple(c for c in used if _among(c, named))
    found = _on_what(local, upstream, wanted, used, on_used)
    if found is None:
        return None
    scope, on, direct = found
    spans = upstream.spans(on) if on else [(upstream.start, upstream.end)]
    if wanted == "credential":
        # Rejections that began before the trouble (however sparse the log: a cron
        # job's every quarter hour counts from its first) or outlived it went on
        # while nothing relevant was wrong: what a broken key or a stale token looks like.
        whole = replace(local, start=local.began or local.start)
        if not any(fit(whole, start, end, tolerance) == "inside" for start, end in spans):
            return None
    fits = [f for start, end in spans if (f := fit(local, start, end, tolerance)) is not None]
    if not fits:
        return None
    how: Fit = "inside" if "inside" in fits or _mostly(local, spans, tolerance) else "overlap"
    return Match(local, upstream, how, scope, on if scope != "page" else (), direct)


def _on_what(
    local: LocalWindow,
    upstream: UpstreamWindow,
    wanted: Need,
    used: tuple[str, ...],
    on_used: tuple[str, ...],
) -> tuple[Scope, tuple[str, ...], bool] | None:
    """The scope, the components whose hits count, and whether the kind of trouble is
    the failure's own cause (the class rule of the module docstring), or None."""
    named = upstream.components
    if wanted == "dns":
        # A name that does not resolve is the vendor's doing only when its trouble
        # is with names: a vendor answering 500s had a name that resolved.
        if not about_names(upstream):
            return None
        wanted = "component"
    if wanted == "path":
        # A connection refused or without a route: the vendor's doing only when its
        # trouble is with being reached at all, not a service answering errors.
        if not about_reaching(upstream):
            return None
        wanted = "component"
    if wanted == "component":
        if not named:
            return "page", (), True
        # Naming components, the window says what it hit: a failure whose own
        # component cannot be told is no match for it.
        return ("component", on_used, True) if on_used else None
    sign_in = sign_in_components(upstream)
    # A login outage does not reject API keys: only sign-in trouble on the
    # component called, or about keys and tokens, does.
    if (
        sign_in is not None
        and wanted == "credential"
        and credential_of(local) == "api_key"
        and not about_keys(upstream, sign_in)
        and not any(_among(c, sign_in) for c in on_used)
    ):
        sign_in = None
    if sign_in is not None:
        if not named:
            return "page", (), True
        hit = tuple(c for c in on_used if _among(c, sign_in or named))
        return ("component", hit, True) if hit else ("sign_in", sign_in or named, True)
    if wanted == "callback" or not named or Failure.CREDENTIALS_EXPIRED in local.failure_classes:
        # "Token has expired" states its own cause: only sign-in trouble (a refresh
        # that cannot work) excuses it, not an API that answers badly.
        return None
    apis = tuple(c for c in on_used if _API.search(c))
    if not apis:
        return None
    return "component", apis, False


def why_not(
    local: LocalWindow, upstream: UpstreamWindow, tolerance: Tolerance, page: Page | None = None
) -> str:
    """Which of component, time and class kept ``upstream`` from explaining ``local``:
    said beside the verdict, so an open incident is never silently passed over."""
    if local.source != upstream.source:
        return "it is on another status page"
    if page is not None and foreign(local, page):
        return f"{local.name} is another vendor's host"
    wanted = need_of(local)
    if wanted == "never":
        return "this machine's own set-up is never the vendor's doing"
    named = upstream.components
    used = used_components(local, [*(page.components if page else ()), *named]) if named else ()
    on_used = tuple(c for c in used if _among(c, named))
    if _on_what(local, upstream, wanted, used, on_used) is None:
        if wanted == "credential":
            return "it is neither sign-in trouble nor trouble on the API these calls used"
        if wanted == "callback":
            return "it is not sign-in trouble"
        if wanted == "dns":
            return "it is not trouble with names (DNS), and a vendor that answers has a name"
        if wanted == "path":
            return "it is not trouble reaching the vendor, and a vendor in trouble still answers"
        if not used:
            return f"it hit {', '.join(named)}, and which component these calls used is unknown"
        return f"it hit {', '.join(named)}, not {', '.join(used)}, which these calls used"
    return "not at that moment: the failures began before it, or went on after it ended"


def _mostly(
    local: LocalWindow, spans: list[tuple[datetime, datetime | None]], tolerance: Tolerance
) -> bool:
    """Whether most of a failure window (three quarters of its time) lies inside one
    widened span: a long burst that began a few minutes early is still the vendor's."""
    until = local.failing_until
    if until is None or until <= local.start:
        return False
    length = (until - local.start).total_seconds()
    for start, end in spans:
        lo = max(local.start, start - tolerance.lead)
        hi = until if end is None else min(until, end + tolerance.lag)
        if hi > lo and (hi - lo).total_seconds() >= 0.75 * length:
            return True
    return False


def matches(
    local: LocalWindow,
    upstream: Iterable[UpstreamWindow],
    tolerance: Tolerance,
    pages: dict[str, Page] | None = None,
) -> list[Match]:
    """Every upstream window that explains ``local``, strongest first.

    ``pages`` maps a source to what is known of its status page.
    """
    page = (pages or {}).get(local.source or "")
    found = [m for w in upstream if (m := explains(local, w, tolerance, page)) is not None]
    found.sort(key=lambda m: (-RANK[m.strength], m.scope != "component", m.upstream.start))
    return found


RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


def _among(component: str, names: Iterable[str]) -> bool:
    wanted = component.casefold()
    return any(wanted == name.casefold() for name in names)


# Words too common in titles and errors to tell one window from another.
_COMMON = frozenset(
    {
        "the",
        "and",
        "with",
        "for",
        "from",
        "some",
        "all",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "this",
        "that",
        "not",
        "our",
        "your",
        "http",
        "https",
        "www",
        "com",
        "net",
        "org",
        "api",
        "apis",
        "error",
        "errors",
        "issue",
        "issues",
        "incident",
        "incidents",
        "service",
        "services",
        "degraded",
        "performance",
        "elevated",
        "disruption",
        "partial",
        "major",
        "outage",
        "status",
        "code",
        "failed",
        "failure",
        "failures",
        "failing",
        "request",
        "requests",
        "response",
        "users",
        "customers",
        "investigating",
        "resolved",
        "monitoring",
        "identified",
        "update",
        "scheduled",
        "maintenance",
    }
)


def affinity(local: LocalWindow, upstream: UpstreamWindow) -> int:
    """How many telling words a failure's host and error share with a window's title and
    components: of several page-wide windows open at once, the one naming "droplet" or
    "FRA1" is the one a failed droplet create in FRA1 met."""
    return len(
        _words(f"{local.target} {local.detail}") & _words(upstream.title, *upstream.components)
    )


def _words(*texts: str) -> set[str]:
    found = re.findall(r"[a-z][a-z0-9]{2,}", " ".join(texts).casefold())
    return {word.rstrip("s") for word in found if word not in _COMMON}


def hit_at(match: Match, at: datetime, tolerance: Tolerance) -> bool:
    """Whether the trouble behind ``match`` was on at ``at`` (within lead and lag)."""
    up = match.upstream
    spans = (up.spans(match.components) if match.components else []) or [(up.start, up.end)]
    return any(covers(start, end, at, tolerance) for start, end in spans)
