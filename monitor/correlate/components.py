"""Which component of a status page a failing call used, and whether it was the page's vendor.

Told from the check's configuration, else its host (named whole in a
component, a domain word, a first label), else its error's own words; a
word naming several components tells nothing. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from monitor.correlate.matching import host_of
from monitor.correlate.pages import Page
from monitor.correlate.windows import LocalWindow

# Host labels that name no component: "www.example.com" is the site, not a part of it.
_GENERIC_LABELS = frozenset(
    {"www", "status", "m", "the", "and", "for", "with", "http", "https", "com", "net", "org"}
    | {"code", "error", "errors", "type", "message", "failed", "request", "requests", "response"}
)


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
    host = _hostname(local)
    whole = tuple(n for n in names if host_named(host, n))
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


def foreign(local: LocalWindow, page: Page) -> bool:
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


def host_named(host: str, component: str) -> bool:
    """Whether ``component`` names ``host`` whole: "api.anthropic.com", not "api"."""
    if "." not in host:
        return False
    pattern = rf"(?<![\w.-]){re.escape(host)}(?![\w-]|\.\w)"
    return re.search(pattern, component.casefold()) is not None


def _word_in(word: str, component: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w.-])", component.casefold()) is not None


_NAME = re.compile(r"[a-z0-9-]*[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+")
_WORD = re.compile(r"[a-z][a-z0-9-]*")
_URL_HOST = re.compile(r"https?://([a-z0-9.-]+)", re.IGNORECASE)


def _hostname(local: LocalWindow) -> str:
    """The name a failing call went to: its target's, or (the target an address or a
    path) the host of the first URL its error names; a bare word stands as it is."""
    host = host_of(local.target).casefold() if local.target else ""
    if _NAME.fullmatch(host) or _WORD.fullmatch(host):
        return host
    found = _URL_HOST.search(local.detail)
    return found.group(1).casefold().rstrip(".") if found else ""
