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
from functools import lru_cache
from typing import Literal

from monitor.checks import result as fc
from monitor.correlate.matching import Fit, Tolerance, covers, fit, host_of
from monitor.correlate.windows import LocalWindow, Page, UpstreamWindow

Confidence = Literal["high", "medium", "low"]
# component: trouble on the component the failure used; sign_in: trouble with
# signing in, wherever on the page; page: the page as a whole (no components
# to compare, or the failure's own component unknown).
Scope = Literal["component", "sign_in", "page"]
Need = Literal["component", "credential", "callback", "dns", "never"]

# The vendor rejecting credentials it was given.
CREDENTIAL_REJECTIONS = frozenset(
    {fc.AUTH_REJECTED, fc.FORBIDDEN, fc.INVALID_GRANT, fc.CREDENTIALS_EXPIRED}
)
# This machine's own set-up, or a check that could not run: no status page explains these.
THIS_MACHINE = frozenset(
    {
        fc.PORT_UNAVAILABLE,
        fc.CLOCK_SKEW,
        fc.CREDENTIALS_INSECURE,
        fc.CREDENTIALS_MISSING,
        fc.CREDENTIALS_INVALID,
        fc.MISCONFIGURED,
        fc.INTERNAL_ERROR,
    }
)

# What a window's subject says it broke. Words, not substrings: "authored" is not auth.
_SIGN_IN = re.compile(
    r"\b(?:log(?:ging)?[ -]?ins?|logins?|sign(?:ing)?[ -]?(?:in|on)s?|signin|sso|saml|o?auth"
    r"|authenticat\w*|(?:access|auth|refresh|api|oauth) tokens?"
    r"|tokens? refresh\w*|api[ -]?keys?|2fa|mfa|two[ -]factor|identity provider)\b",
    re.IGNORECASE,
)
# What an update's prose must say, within one sentence that denies nothing,
# for trouble to be about signing in: that signing in fails ("unable to log
# in", "login failures", "may affect docker pull and login", "failing to
# authenticate") or that credentials the vendor issued went bad ("configuration
# files were expiring prematurely"). A word in passing ("fields used for
# authentication") is not enough: prose is long.
_SIGNING = r"(?:log(?:ging)?[ -]?ins?|sign(?:ing)?[ -]?(?:in|on)|authenticat\w*|oauth|sso|2fa|mfa)"
_SIGN_IN_FAILING = re.compile(
    r"(?:unable|not able|fail\w*|cannot|can't|could not|errors?|trouble|problems?)"
    r"\W+(?:\w+\W+){0,2}?"
    rf"(?:to\W+)?{_SIGNING}"
    rf"|{_SIGNING}\W+(?:\w+\W+){{0,2}}?(?:fail\w*|errors?|issues?|problems?|outage|unavailable)"
    rf"|affect\w*\W+(?:\w+\W+){{0,4}}?{_SIGNING}"
    r"|(?:credentials?|tokens?|certificates?|keys?|config(?:uration)? files?|kubeconfigs?)"
    r"\W+(?:\w+\W+){0,3}?expir(?:ing|ed)\s+(?:prematurely|early|unexpectedly)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+")
# A sentence that says sign-in was spared ("This does not affect
# authentication", "Login is working normally") says nothing against it.
_DENIAL = re.compile(
    r"\b(?:(?:not|n't|never)\s+(?:\w+\s+)?(?:affect|impact)\w*|no (?:\w+ )?impact"
    r"|unaffected|unimpacted|(?:working|operating|functioning) (?:normally|as expected))\b",
    re.IGNORECASE,
)
# What says an API key (not a login) is the subject.
_KEYS = re.compile(
    r"\b(?:apis?|api[ -]?keys?|(?:access|auth|api|personal access) tokens?|tokens?)\b",
    re.IGNORECASE,
)
# What says the trouble is with names: a name that does not resolve is explained.
_DNS = re.compile(
    r"\b(?:dns|domain names?|name resolution|resolvers?|nameservers?"
    r"|(?:could not|cannot|can't|failed to|unable to) resolve)\b",
    re.IGNORECASE,
)
_API = re.compile(r"\bapis?\b", re.IGNORECASE)
# Host labels that name no component: "www.example.com" is the site, not a part of it.
_GENERIC_LABELS = frozenset(
    {"www", "status", "m", "the", "and", "for", "with", "http", "https", "com", "net", "org"}
    | {"code", "error", "errors", "type", "message", "failed", "request", "requests", "response"}
)


def need(failure_class: str) -> Need:
    """Which trouble can explain a failure of ``failure_class`` (the module docstring, 3)."""
    if failure_class in THIS_MACHINE:
        return "never"
    if failure_class in CREDENTIAL_REJECTIONS:
        return "credential"
    if failure_class == fc.CALLBACK_FAILED:
        return "callback"
    if failure_class == fc.DNS_FAILURE:
        return "dns"
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


@lru_cache(maxsize=1024)
def sign_in_components(window: UpstreamWindow) -> tuple[str, ...] | None:
    """The components sign-in trouble hit, or None when the trouble is not with signing in.

    A title, or prose saying signing in fails, makes all it hit sign-in trouble
    (a page-wide window: the empty tuple); a component named for signing in
    ("Authentication") makes only that one so. Cached: prose runs long, and
    every failure is weighed against every window.
    """
    if _SIGN_IN.search(window.title) or any(
        _SIGN_IN_FAILING.search(sentence) and not _DENIAL.search(sentence)
        for sentence in _SENTENCE.findall(window.about)
    ):
        return window.components
    named = tuple(c for c in window.components if _SIGN_IN.search(c))
    return named or None


def signs_in(window: UpstreamWindow) -> bool:
    """Whether the trouble is (at least in part) with signing in."""
    return sign_in_components(window) is not None


def credential_of(window: LocalWindow) -> str:
    """``api_key``, ``oauth``, ``ssh_key`` or ``unknown``: the credential a failing call used.

    A check says it by its kind; an imported line only in its text ("invalid
    x-api-key" is a key, "OAuth token has expired" a login).
    """
    if window.kind == "check":
        return "oauth" if window.check_kind in _OAUTH_KINDS else "api_key"
    if _SSH_TEXT.search(window.detail) or window.target.startswith("ssh://"):
        return "ssh_key"
    if fc.INVALID_GRANT in window.failure_classes:
        return "oauth"
    # "Invalid API key · Please run /login" names the key it rejected.
    if _API_KEY_TEXT.search(window.detail):
        return "api_key"
    return "oauth" if _OAUTH_TEXT.search(window.detail) else "unknown"


_API_KEY_TEXT = re.compile(r"api[ _-]?key|x-api-key|bad credentials|personal access token", re.I)
_OAUTH_TEXT = re.compile(r"oauth|refresh[ _]token|invalid_grant|log ?in|session", re.I)
_SSH_TEXT = re.compile(r"\(publickey|ssh:|git@[\w.-]+:|host key", re.I)
_OAUTH_KINDS = frozenset({"oauth_refresh", "oauth_token_endpoint", "credentials_file"})


def used_components(local: LocalWindow, names: Iterable[str]) -> tuple[str, ...]:
    """The components of ``names`` the failure used: configured, else told by its host,
    else by its error's own words. Empty: unknown.

    A host is named whole ("Claude API (api.anthropic.com)"); else a word of
    its domain names one ("copilot" in api.githubcopilot.com); else its first
    label does ("api" in api.github.com names "API Requests"), as a bare
    target word does. Else the error's words ("API Error: 529" names the
    API). A word that names several components ("hub": Docker Hub Registry,
    Docker Hub Web) tells nothing.
    """
    if local.components:
        return local.components
    names = list(dict.fromkeys(names))
    host = host_of(local.target).casefold() if local.target else ""
    whole = tuple(n for n in names if _host_named(host, n))
    if whole:
        return whole
    labels = host.split(".") if "." in host else ([host] if host else [])
    domain = labels[-2] if len(labels) >= 2 else ""
    # A word of the domain may name a family ("copilot": Copilot, Copilot AI Model
    # Providers); a first label or an error's word must name one component.
    family = [w for w in _distinct_words(names) if len(w) >= 4 and w in domain and w != domain]
    if family:
        return tuple(n for n in names if any(_word_in(w, n) for w in family))
    first = labels[0] if len(labels) >= 3 or len(labels) == 1 else ""
    candidates = [first, *re.findall(r"[a-z]{3,}", first)] if first else []
    if not host or len(labels) == 2:
        candidates += sorted(set(re.findall(r"[a-z][a-z0-9]{2,}", local.detail.casefold())))
    for word in candidates:
        if word in _GENERIC_LABELS:
            continue
        named = [n for n in names if _word_in(word, n)]
        if named and _one_component(named):
            return tuple(named)
    return ()


def _one_component(names: list[str]) -> bool:
    """Whether the names are one component: itself and its parts ("Docker Hub Registry",
    "Docker Hub Registry / AWS"), not several that share a word."""
    base = min(names, key=len).casefold()
    return all(name.casefold().startswith(base) for name in names)


def _distinct_words(names: Iterable[str]) -> set[str]:
    return {w for n in names for w in re.findall(r"[a-z][a-z0-9]+", n.casefold())}


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
    if wanted == "never" or (page is not None and _foreign(local, page)):
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
        if not _DNS.search(f"{upstream.title} {' '.join(named)}") and not any(
            _DNS.search(sentence) and not _DENIAL.search(sentence)
            for sentence in _SENTENCE.findall(upstream.about)
        ):
            return None
        wanted = "component"
    if wanted == "component":
        if not named:
            return "page", (), True
        # Naming components, the window says what it hit: a failure whose own
        # component cannot be told is no match for it.
        return ("component", on_used, True) if on_used else None
    sign_in = sign_in_components(upstream)
    if sign_in is not None and wanted == "credential" and credential_of(local) == "api_key":
        # A login outage does not reject API keys: only sign-in trouble on the
        # component called, or about keys and tokens, does.
        about_keys = _KEYS.search(upstream.title) or any(_KEYS.search(c) for c in sign_in)
        if not about_keys and not any(_among(c, sign_in) for c in on_used):
            sign_in = None
    if sign_in is not None:
        if not named:
            return "page", (), True
        hit = tuple(c for c in on_used if _among(c, sign_in or named))
        return ("component", hit, True) if hit else ("sign_in", sign_in or named, True)
    if wanted == "callback" or not named or fc.CREDENTIALS_EXPIRED in local.failure_classes:
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
    if page is not None and _foreign(local, page):
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


def _foreign(local: LocalWindow, page: Page) -> bool:
    """Whether the failing call went to another vendor's host than the page's.

    Every imported line carries the one ``--source`` given: 503s from
    api.stripe.com say nothing of GitHub's "API Requests". A host is the
    vendor's when its domain shares a name with the page (its source name,
    its address, the hosts its components name); an address, localhost or a
    bare word cannot be told and is not foreign.
    """
    words = _vendor_words(page)
    if not words or not local.target:
        return False
    host = host_of(local.target).casefold()
    labels = host.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or ":" in host:
        return False
    domain = labels[-2]
    return not any(word in domain or domain in word for word in words)


_NOT_A_NAME = frozenset({"status", "https", "http", "page", "summary", "json", "history"})


@lru_cache(maxsize=256)
def _vendor_words(page: Page) -> frozenset[str]:
    """What the vendor is called: words of the source's name, its page's name and
    address, and the domains of hosts its components name ("anthropic")."""
    hosts = re.findall(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", " ".join(page.components).casefold())
    found = {host.split(".")[-2] for host in hosts}
    for name in page.names:
        found |= set(re.findall(r"[a-z0-9]{4,}", name.casefold()))
    return frozenset(word for word in found if len(word) >= 4 and word not in _NOT_A_NAME)


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


def _host_named(host: str, component: str) -> bool:
    """Whether ``component`` names ``host`` whole: "api.anthropic.com", not "api"."""
    if "." not in host:
        return False
    pattern = rf"(?<![\w.-]){re.escape(host)}(?![\w-]|\.\w)"
    return re.search(pattern, component.casefold()) is not None


def _word_in(word: str, component: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w.-])", component.casefold()) is not None


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
