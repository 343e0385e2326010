"""What a status page's window is about, and what credential a failing call carried.

Read from words: a title or a component named for signing in, prose that
says signing in fails (one sentence at a time, denials ignored), trouble
with names (DNS), and the credential an imported line's text names. Pure,
cached per window: prose runs long and every failure is weighed against
every window.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.correlate.classes import OAUTH_KINDS
from monitor.correlate.windows import LocalWindow, UpstreamWindow
from monitor.failures import Failure

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


def credential_of(window: LocalWindow) -> str:
    """``api_key``, ``oauth``, ``ssh_key`` or ``unknown``: the credential a failing call used.

    A check says it by its kind; an imported line only in its text ("invalid
    x-api-key" is a key, "OAuth token has expired" a login).
    """
    if window.kind == "check":
        return "oauth" if window.check_kind in OAUTH_KINDS else "api_key"
    if _SSH_TEXT.search(window.detail) or window.target.startswith("ssh://"):
        return "ssh_key"
    if Failure.INVALID_GRANT in window.failure_classes:
        return "oauth"
    # "Invalid API key · Please run /login" names the key it rejected.
    if _API_KEY_TEXT.search(window.detail):
        return "api_key"
    return "oauth" if _OAUTH_TEXT.search(window.detail) else "unknown"


_API_KEY_TEXT = re.compile(r"api[ _-]?key|x-api-key|bad credentials|personal access token", re.I)
_OAUTH_TEXT = re.compile(r"oauth|refresh[ _]token|invalid_grant|log ?in|session", re.I)
_SSH_TEXT = re.compile(r"\(publickey|ssh:|git@[\w.-]+:|host key", re.I)


def about_keys(window: UpstreamWindow, components: tuple[str, ...]) -> bool:
    """Whether the trouble is about API keys or tokens (its title, or these components)."""
    return bool(_KEYS.search(window.title) or any(_KEYS.search(c) for c in components))


@lru_cache(maxsize=1024)
def about_names(window: UpstreamWindow) -> bool:
    """Whether the trouble is with names (DNS): its title, components, or a sentence
    of its updates that does not deny it."""
    if _DNS.search(f"{window.title} {' '.join(window.components)}"):
        return True
    return any(
        _DNS.search(sentence) and not _DENIAL.search(sentence)
        for sentence in _SENTENCE.findall(window.about)
    )


# What says the trouble is with reaching the vendor at all: a refused connection is
# explained by it, not by a service answering errors.
_PATH = re.compile(
    r"\b(?:network\w*|connectivity|unreachable|refus\w+|connections?|routing|outages?"
    r"|down|unavailable|not reachable|timeouts?)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=1024)
def about_reaching(window: UpstreamWindow) -> bool:
    """Whether the trouble is with reaching the vendor (connections, an outage): its
    title, components, or a sentence of its updates that does not deny it."""
    if _PATH.search(f"{window.title} {' '.join(window.components)}"):
        return True
    return any(
        _PATH.search(sentence) and not _DENIAL.search(sentence)
        for sentence in _SENTENCE.findall(window.about)
    )
