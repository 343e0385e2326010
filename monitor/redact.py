"""Keep secrets out of what monitor stores, logs and prints.

Status pages are public, but a URL can still carry a token in its query
string, and an error text a user's tool logged can quote a header, a JSON
body or a URL with a password in it; whatever is written down gets the
redacted form.

Which names hold a secret is one vocabulary of secret words (key, token,
secret, pass, pwd, auth, credential, session, sessid, cookie, sig, bearer)
read by two predicates that err in opposite directions:

- ``looks_secret_name`` (broad) is what redaction hides: a secret word
  anywhere in the name, in any compound (``passkey``, ``authcode``,
  ``password_hash``, ``api_key_id``, ``max_tokens``), unless the name ends
  by saying what it is about (``token_type``, ``auth_error``,
  ``WWW-Authenticate``). A hidden non-secret costs a little readability; a
  shown secret is the worst outcome.
- ``names_secret`` (narrow) is what the config check
  (``monitor.configsecrets``) refuses to see written into the file: the
  name's last word is a secret's (``x-api-key``, ``apiKey``,
  ``refresh_token``), less the pairs that are none (``Idempotency-Key``,
  ``next_page_token``), so ``max_tokens`` or ``password_hash = "..."`` is
  accepted. A false refusal blocks a legitimate config.

Every name ``names_secret`` accepts, ``looks_secret_name`` accepts too.

A value a check filled into a request from the environment (``${NAME}``)
is known, and redacted in each form it may be quoted back in
(``sent_forms``: raw, percent-encoded as the query was sent, JSON- or
HTML-escaped).
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit, urlunsplit

from monitor.envvars import VARIABLE, encode_query_value

REDACTED = "REDACTED"

# --- which names name a secret ------------------------------------------------------------
#
# Two rules, one vocabulary (see the module's docstring). Each secret word
# (found anywhere in a name by the broad rule), and
# the last words built on it that the narrow rule takes for a secret.
_SECRET_WORDS: tuple[tuple[str, str], ...] = (
    ("key", r"(?:api|access|secret|private|auth|app|master|session|signing|license)?key"),
    ("token", r"[a-z]*token"),
    ("secret", r"[a-z]*secret"),
    ("pass", r"pass|[a-z]*passw(?:or)?d|[a-z]*passphrase"),  # password, passwd, passphrase
    ("pwd", r"pwd"),
    ("auth", r"auth|authori[sz]ation"),  # authorization, x-auth-token, oauth_...
    ("credential", r"[a-z]*credentials?"),
    ("session", r"session|sessionid"),
    ("sessid", r"[a-z]*sessid"),  # PHPSESSID
    ("cookie", r"[a-z]*cookie"),
    ("sig", r"sig|[a-z]*signature"),
    ("bearer", r"bearer"),
)
_SECRET_LAST_WORD = re.compile("|".join(last for _, last in _SECRET_WORDS))
_SECRET_WORD = re.compile("|".join(word for word, _ in _SECRET_WORDS), re.IGNORECASE)
# What a name ends with when it is about a secret, not the secret: broad rule only.
_ABOUT_A_SECRET = re.compile(
    r"(?:error|type|status|reason|message|description|authenticate)$", re.IGNORECASE
)
# Words after the secret's own that do not change what the value is: token_value, auth_header.
_SAME_VALUE = frozenset({"value", "header", "raw", "plain", "encoded", "b64", "base64", "hex"})
# "<word> key" and "<word> token" that are no secret: a request id, a WebSocket
# nonce (Idempotency-Key, Sec-WebSocket-Key), a public key, a database key, a
# page cursor (next_page_token). Read against the word just before the last.
_NOT_SECRET_BEFORE = {
    "key": frozenset(
        {
            "idempotency",
            "socket",
            "public",
            "primary",
            "foreign",
            "partition",
            "sort",
            "cache",
            "routing",
            "dedup",
            "dedupe",
            "object",
        }
    ),
    "token": frozenset({"page", "continuation", "pagination", "cursor", "sync"}),
}
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def names_secret(name: str) -> bool:
    """Narrow: must the config refuse a value written in the file for ``name``?

    Yes: ``Authorization``, ``Cookie``, ``x-api-key``, ``X-Auth-Token``,
    ``apiKey``, ``client_secret``, ``refresh_token``, ``pass``, ``pwd``,
    ``session``, ``sessionid``, ``PHPSESSID``, ``X-Amz-Signature``, ``sig``
    (digits are ignored: ``password2``). No: ``max_tokens``, ``token_type``,
    ``token_type_hint``, ``auth_error``, ``client_id``, ``key_id``,
    ``Idempotency-Key``, ``Sec-WebSocket-Key``, ``public_key``,
    ``next_page_token``, ``WWW-Authenticate``, ``anthropic-version``, and
    compounds whose last word is not a secret's (``passkey``,
    ``password_hash``, ``api_key_id``): redaction still hides all of those
    but the last two of the first line (``looks_secret_name``).
    """
    words = [w.lower() for w in _NAME_WORD.findall(name)]
    while len(words) > 1 and words[-1] in _SAME_VALUE:
        words.pop()
    if len(words) > 1 and words[-2] == "session" and words[-1] == "id":
        return True
    if not words or not _SECRET_LAST_WORD.fullmatch(words[-1]):
        return False
    return not (len(words) > 1 and words[-2] in _NOT_SECRET_BEFORE.get(words[-1], ()))


def looks_secret_name(name: str) -> bool:
    """Broad: must redaction hide the value of a header, field or parameter called ``name``?

    Yes when a secret word is anywhere in it: every name ``names_secret``
    accepts, and ``passkey``, ``passcode``, ``authcode``, ``hashkey``,
    ``sharedaccesskey``, ``password_hash``, ``token_hash``, ``api_key_id``,
    ``credential_id``, ``max_tokens``, ``Idempotency-Key``. No when none is
    (``client_id``, ``anthropic-version``) or the name ends by saying what
    it is about (``token_type``, ``auth_error``, ``WWW-Authenticate``), so
    an error's text stays readable.
    """
    return names_secret(name) or (
        _SECRET_WORD.search(name) is not None and _ABOUT_A_SECRET.search(name) is None
    )


# Where a name holding a secret can begin in free text: a secret word. A
# field found from here is kept when looks_secret_name says its whole name
# holds none.
_SECRET_NAME_WORDS = tuple(word for word, _ in _SECRET_WORDS)


def _shown_value(name: str, value: str) -> str:
    return REDACTED if looks_secret_name(name) else quote_plus(value)


def redact_url(url: str) -> str:
    """``https://h/p?api_key=abc&page=2`` -> ``https://h/p?api_key=REDACTED&page=2``.

    User info (``user:pass@``) is replaced too. A value that is a ``${NAME}``
    reference is kept: it says where the secret comes from, not what it is. Input that is no URL (a
    broken ``[`` host) is scrubbed as text instead, never returned as it is.
    """
    if "://" not in url and "@" in url:
        # Proxy variables may omit the scheme (user:pass@proxy:8080); httpx adds one.
        return redact_url("http://" + url).removeprefix("http://")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read for its check: a bad host or port raises here
    except ValueError:
        return redact_text(url, limit=min(2 * len(url) + 16, 2048))
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(
            f"{quote_plus(k)}={v if VARIABLE.fullmatch(v) else _shown_value(k, v)}"
            for k, v in pairs
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# --- free text ---------------------------------------------------------------------------
#
# Each rule is a name (or a known token prefix) followed by a tail whose group
# ``value`` is the secret; everything else the rule matched is kept. All rules
# are searched in one pass of one combined pattern: the leftmost match wins
# (the earlier rule, at a tie), so a header's value is consumed whole before a
# later rule could see part of it. Every alternative of the combined pattern
# begins with one literal character, which lets the engine skip, with a bitmap
# lookup, each position where no rule can begin, instead of trying every
# alternative of every rule there.
# The combined pattern has no groups (a name may occur once only); a match
# is handed to the first rule whose own pattern matches at the same place.


_QUOTE = r"""(?:\\?["'])"""  # a quote, or one escaped inside a JSON string
_SEP = r"\s*(?:=>|[:=])\s*"
_BARE = r"""[^\s"'`,;&<>(){}\[\]\\]+"""  # an unquoted value or token
_VALUE = (
    r'\\"(?:[^"\\]|\\[^"])*(?:\\")?'  # \"...\" inside a JSON string
    r'|"(?:[^"\\]|\\.)*"?'  # "...", or cut short before its closing quote
    r"|'(?:[^'\\]|\\.)*'?"
    "|" + _BARE
)
_SCHEMES = (
    "basic|bearer|digest|token|negotiate|ntlm|oauth|apikey|api-key|key|jwt|dpop|hoba|mutual"
    "|scram-sha-1|scram-sha-256|vapid|aws4-hmac-sha256|googlelogin|ssws|sso-key"
)
_PARAM = r"""[\w-]+=(?:"[^"]*"|[^\s,"'\\]*)"""  # Digest and AWS4 credentials: k=v, k="v"
# "Bearer token expired" is prose, not a credential.
_NOT_A_CREDENTIAL = (
    "tokens?|realm|error|auth\\w*|scheme|header|was|is|not|missing|invalid|required|expected"
)
_GROUP = re.compile(r"\(\?P<\w+>")
# A value that looks random, as keys and tokens do, unlike the words of a
# sentence ("token expired", "key not found", "token invalid_grant"): at least
# eight token characters with a letter and a digit, or twenty without.
_VALUE_CHAR = r"[A-Za-z0-9_\-./+=~]"
_RANDOM = (
    rf"(?=[A-Za-z_\-./+=~]*[0-9])(?=[0-9_\-./+=~]*[A-Za-z]){_VALUE_CHAR}{{8,}}"
    r"|[A-Za-z0-9_\-]{20,}"
)
_RANDOM_VALUE = (
    rf"""'(?:{_RANDOM})'|"(?:{_RANDOM})"|`(?:{_RANDOM})`|(?:{_RANDOM})(?!{_VALUE_CHAR})"""
)
# Words that name a secret in a sentence or on a command line.
_SECRET_NOUNS = ("key", "token", "secret", "password", "passwd", "credential", "apikey")


def _anycase(text: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in text)


@dataclass(frozen=True)
class _Rule:
    """``lead`` (one of ``leads``) then ``tail``; ``tail``'s group ``value`` is the secret.

    A lead is literal text matched in any case, or, with ``exact``, a
    pattern whose first character is literal. ``not_after`` is a character
    class the lead must not follow. ``whole`` replaces the whole match.
    """

    leads: tuple[str, ...]
    tail: str
    exact: bool = False
    not_after: str = ""
    whole: bool = False

    def _lead(self, lead: str) -> str:
        return lead if self.exact else _anycase(lead)

    def pattern(self) -> re.Pattern[str]:
        """The rule on its own, with its groups."""
        guard = f"(?<!{self.not_after})" if self.not_after else ""
        leads = "|".join(self._lead(lead) for lead in self.leads)
        return re.compile(f"{guard}(?:{leads}){self.tail}")

    def alternatives(self) -> list[str]:
        """The rule as alternatives that each begin with one literal character, no groups."""
        guard = f"(?<!{self.not_after}.)" if self.not_after else ""
        tail = _GROUP.sub("(?:", self.tail)
        found = []
        for lead in self.leads:
            first, rest = lead[0], self._lead(lead[1:])
            cases = (first,) if self.exact else tuple(dict.fromkeys((first.upper(), first.lower())))
            found += [f"{re.escape(c)}{guard}{rest}{tail}" for c in cases]
        return found


_FIELD = _Rule(
    # name=value, name: value, "name": "value", 'name': 'value' where the name
    # contains a secret word; matched from that word on (the part of the name
    # before it is kept as it is).
    _SECRET_NAME_WORDS,
    rf"[\w.-]{{0,64}}+(?P<name_quote>{_QUOTE})?(?P<sep>{_SEP})(?P<value>{_VALUE})",
)
# "invalid api key 'X'", "token X rejected", "credentials X": a secret's noun,
# then a value that looks random. A bare "key" names many things that are no
# secret ("cache key", "key us-east-1"): after it, only a value a key's length.
_LONG = (
    rf"(?=[A-Za-z_\-./+=~]*[0-9])(?=[0-9_\-./+=~]*[A-Za-z]){_VALUE_CHAR}{{16,}}"
    r"|[A-Za-z0-9_\-]{24,}"
)
_LONG_VALUE = rf"""'(?:{_LONG})'|"(?:{_LONG})"|`(?:{_LONG})`|(?:{_LONG})(?!{_VALUE_CHAR})"""
_NOUN = _Rule(
    ("api key", "api-key", *(n for n in _SECRET_NOUNS if n != "key")),
    rf"s?\s+(?P<value>{_RANDOM_VALUE})",
    not_after=r"\w",
)
_KEY_NOUN = _Rule(("key",), rf"s?\s+(?P<value>{_LONG_VALUE})", not_after=r"\w")
# Between an option and its value: a space, "=", or the quotes and comma of an
# argument list printed as Python or JSON ('--api-key', 'X').
_ARG_SEP = rf"(?:\s+|=|{_QUOTE}\s*,\s*{_QUOTE}?)"
_RULES = (
    # A private key in PEM or PGP armour, to its END line (or the end of what was kept).
    _Rule(
        ("-----BEGIN",),
        r"[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?P<value>.*?)"
        r"(?=-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)",
        exact=True,
    ),
    # --api-key X, --token=X, '--password', 'X': an option whose name ends in a
    # secret's noun (not --max-tokens, --token-file, --password-stdin, --no-auth).
    _Rule(
        ("--",),
        r"(?!no-)(?:[A-Za-z0-9]{1,30}[-_]){0,4}"
        r"(?i:api-?key|key|token|secret|password|passwd|pass|pwd|credentials?|auth)"
        rf"{_ARG_SEP}(?!-)(?P<value>{_VALUE})",
        exact=True,
        not_after=r"[\w-]",
    ),
    # curl -u user:password, -uuser:password, --user 'user:password'
    _Rule(
        ("-u", "--user"),
        rf"""(?:{_ARG_SEP})?{_QUOTE}?[^\s:"',]{{1,100}}:"""
        # a quoted pair's password may hold spaces: up to the closing quote
        r"""(?P<value>[^\s"']+(?:\s[^\s"']+){0,5}(?=["'])|[^\s"']+)""",
        exact=True,
        not_after=r"[\w-]",
    ),
    # Webhook URLs whose path is the credential.
    _Rule(
        ("hooks.slack.com/services/", "hooks.slack.com/triggers/", "hooks.slack.com/workflows/"),
        r"(?P<value>[A-Za-z0-9/_-]+)",
    ),
    _Rule(
        ("discord.com/api/", "discordapp.com/api/"),
        r"(?:v\d+/)?webhooks/(?P<value>[A-Za-z0-9/_-]+)",
    ),
    # https://user:password@host -> https://REDACTED@host
    _Rule(("://",), r"""(?P<value>[^\s/?#@"'<>\\]+)@""", exact=True),
    # Authorization: <scheme> <credentials>, whatever their length; no scheme: the value
    _Rule(
        ("authorization", "authorisation"),
        rf"{_QUOTE}?{_SEP}{_QUOTE}?(?:(?i:{_SCHEMES})\s+)?"
        rf"(?P<value>{_PARAM}(?:\s*,\s*{_PARAM})*|{_BARE})",
    ),
    # Cookie: a=1; b=2 -> every pair
    _Rule(("cookie",), rf"""{_QUOTE}?{_SEP}{_QUOTE}?(?P<value>[^\s;"'\\]+(?:;\s*[^\s;"'\\]+)*)"""),
    # Bearer <token>, whatever its length
    _Rule(("bearer",), rf"\s+(?!(?i:{_NOT_A_CREDENTIAL})\b)(?P<value>{_BARE})", not_after=r"\w"),
    _FIELD,
    _NOUN,
    _KEY_NOUN,
    # Known token shapes, anywhere: the prefix stays, to say what it was.
    _Rule(
        (
            "sk-",
            "sk_live_",
            "sk_test_",
            "rk_live_",
            "rk_test_",
            "gh[pousr]_",
            "github_pat_",
            "xox[abeprs]-",
            "glpat-",
        ),
        "(?P<value>[A-Za-z0-9_-]{6,})",
        exact=True,
        not_after="[A-Za-z0-9]",
    ),
    # Prefixes a word could also begin with ("hf_hub"): only with a token's length after them.
    _Rule(
        (
            "npm_",
            "hf_",
            "pypi-AgEIcHlwaS5vcmc",
            "shpat_",
            "shpss_",
            "shpca_",
            "dop_v1_",
            "doo_v1_",
            "glrt-",
            "gldt-",
            "lin_api_",
            "xapp-",
            "AIza",
        ),
        "(?P<value>[A-Za-z0-9_-]{20,})",
        exact=True,
        not_after="[A-Za-z0-9]",
    ),
    _Rule(("SG.",), r"(?P<value>[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,})", exact=True),
    _Rule(("AKIA", "ASIA"), "(?P<value>[0-9A-Z]{16,})", exact=True, not_after="[A-Z0-9]"),
    # JSON Web Tokens: header.payload.signature
    _Rule(
        ("eyJ",), r"[A-Za-z0-9_-]{2,}+\.[A-Za-z0-9_-]{2,}+\.[A-Za-z0-9_-]*", exact=True, whole=True
    ),
)


@functools.cache
def _compiled() -> tuple[tuple[tuple[_Rule, re.Pattern[str]], ...], re.Pattern[str]]:
    """The rules' patterns and the combined one, compiled on first use.

    Compiling them is work every command would pay at import
    (config validation imports this module) though most never redact.
    """
    patterns = tuple((rule, rule.pattern()) for rule in _RULES)
    combined = re.compile("|".join(alt for rule in _RULES for alt in rule.alternatives()))
    return patterns, combined


# "token: invalid_grant" in prose ("Failed to refresh token: invalid_grant")
# names no secret: after an unquoted plain word and ": ", an unquoted
# single-case word, an errno code or a status is kept so the classifier still
# reads it. Random keys and tokens mix case or carry digits; a password might
# not, so those names never qualify, nor do field-like names (x-api-key,
# api_key, apiKey).
_PROSE_NAME = re.compile(r"[A-Za-z][a-z]*")
_PROSE_VALUE = re.compile(
    r"(?:[A-Z]?[a-z]+(?:[_-][a-z]+)*|E[A-Z]{2,}(?:_[A-Z]+)*|[1-5]\d\d)[.:!?]?"
)
_NEVER_PROSE = re.compile("pass|pwd|secret|cookie", re.IGNORECASE)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _quoted(value: str) -> str:
    """``"abc"`` -> ``"REDACTED"``, ``\\"abc\\"`` -> ``\\"REDACTED\\"``, ``abc`` -> ``REDACTED``."""
    for mark in ('\\"', '"', "'"):
        if value.startswith(mark):
            closed = len(value) >= 2 * len(mark) and value.endswith(mark)
            return mark + REDACTED + (mark if closed else "")
    return REDACTED


def _keeps_field(match: re.Match[str]) -> bool:
    """A field match whose value is no secret: its whole name holds none, or it is prose.

    ``auth_error``, ``token_type`` and the WWW-Authenticate challenge are
    named for what went wrong, not for what they hold: their values are what
    the classifier reads (``looks_secret_name`` says no).
    """
    text, start = match.string, match.start()
    while start > 0 and text[start - 1] in _NAME_CHARS:
        start -= 1
    name = text[start : match.start("sep")].rstrip("\\\"'")
    if not looks_secret_name(name):
        return True
    sep = match["sep"]
    return (
        not match["name_quote"]
        and sep.startswith(":")
        and sep != ":"
        and not (start > 0 and text[start - 1] in "\"'")
        and bool(_PROSE_NAME.fullmatch(name))
        and not _NEVER_PROSE.search(name)
        and bool(_PROSE_VALUE.fullmatch(match["value"]))
    )


def _replace(found: re.Match[str]) -> str:
    text, at = found.string, found.start()
    patterns, combined = _compiled()
    for rule, pattern in patterns:
        match = pattern.match(text, at)
        if match is None:
            continue
        if match.end() != found.end() or rule.whole:  # the former cannot happen; be safe anyway
            return REDACTED
        value = match["value"]
        if rule is _FIELD and _keeps_field(match):
            # Kept, but what it says may still quote a token ("auth_error": "bad Bearer x").
            value = combined.sub(_replace, value)
        elif rule in (_NOUN, _KEY_NOUN) and REDACTED in (known := combined.sub(_replace, value)):
            value = known  # a known shape keeps its prefix, to say what it was
        else:
            value = _quoted(value)
        return text[at : match.start("value")] + value + text[match.end("value") : match.end()]
    return REDACTED


# An environment value shorter than this, or all digits, is no secret worth a search.
_SHORTEST_SECRET = 8
# A variable named for a secret: ANTHROPIC_API_KEY, GITHUB_TOKEN, DB_PASSWORD,
# OPENAI_APIKEY; not SSH_AUTH_SOCK, OAUTH_AUTHORITY or AUTH_MODE.
_SECRET_VARIABLE = re.compile(
    r"(?:^|_|API)(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?)$", re.IGNORECASE
)
# Values that name a place, not a secret: a path, a host name, a URL without user info.
_A_PLACE = re.compile(r"[/~.].*|[a-z0-9-]+(?:\.[a-z0-9-]+)+|https?://[^@\s]*")


def _secret_value(value: str) -> bool:
    return (
        len(value) >= _SHORTEST_SECRET
        and not value.isdigit()
        and not any(c.isspace() for c in value)
        and not _A_PLACE.fullmatch(value)
    )


_PERCENT = re.compile("%[0-9A-F]{2}")


def sent_forms(value: str) -> set[str]:
    """Every form in which ``value``, filled into a request, can be quoted back.

    A check sends a ``${NAME}`` value raw in a header or body and
    percent-encoded in a URL query (``monitor.envvars.expand_query``: as
    ``quote(v, safe="")``); a server's error page, a proxy or a log line may
    quote it in any of these, or re-encoded: ``quote(v)`` as a path, the
    ``quote_plus`` twins, lower-case hex (``%2f``), JSON-escaped (``\\"``,
    and ``\\/`` as PHP writes it) and HTML-escaped. A known secret is
    redacted in every one of them.
    """
    forms = {value, html.escape(value)}
    for encoded in (
        encode_query_value(value),  # as expand_query sends it
        quote(value),
        quote_plus(value),
        quote_plus(value, safe="/"),
    ):
        forms |= {encoded, _PERCENT.sub(lambda m: m[0].lower(), encoded)}
    for escaped in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
        forms |= {escaped, escaped.replace("/", "\\/")}
    return forms


def all_sent_forms(values: Iterable[str]) -> list[str]:
    """Each value's ``sent_forms``, longest first (so a longer form goes whole)."""
    forms = {form for value in values if value for form in sent_forms(value)}
    return sorted(forms, key=len, reverse=True)


@functools.cache
def _environment_secrets() -> tuple[re.Pattern[str], int] | None:
    """This process's secret environment values as one pattern, and the longest form's length.

    Whatever shape they have, the exact values a process holds in
    ``ANTHROPIC_API_KEY`` or ``GITHUB_TOKEN`` must never be written down:
    an error that quotes one (a proxy echoing the header, a tool printing
    its argv, a URL it was sent in) loses it here, in each of its
    ``sent_forms``. Read once: the environment is fixed for a run.
    """
    ordered = all_sent_forms(
        value.strip()
        for name, value in os.environ.items()
        if _SECRET_VARIABLE.search(name) and _secret_value(value.strip())
    )
    if not ordered:
        return None
    return re.compile("|".join(re.escape(v) for v in ordered)), len(ordered[0])


def forget_environment() -> None:
    """Read the environment's secrets again on next use (after a test sets one)."""
    _environment_secrets.cache_clear()


def redact_text(text: str, *, limit: int = 300, known: Collection[str] = ()) -> str:
    """A short, secret-free excerpt of a body or message, safe to store and print.

    Truncated first to bound the work, whitespace collapsed to one line, then
    scrubbed in one pass: URL user info; the credentials of an
    ``Authorization`` header (any scheme, any length) and of ``Bearer``;
    cookies; the value of any field or header whose name contains key,
    token, secret, pass, pwd, auth, credential, session, cookie, signature or
    bearer (``name=value``, ``name: value``, ``"name": "value"``, quoted or
    not); and ``sk-``, ``sk_live_``, ``ghp_``, ``github_pat_``, ``xoxb-``,
    ``AKIA…`` keys and JWTs anywhere. Kept: what a field named for an error
    says (``auth_error``, ``token_type``), and a plain word after a word and
    a colon in a sentence (``Failed to refresh token: invalid_grant``), so
    the failure can still be classified. Also scrubbed: a private key in
    PEM; a command line's ``--api-key X``, ``--token=X``, ``-u user:X``;
    Slack and Discord webhook paths; ``npm_``, ``hf_``, ``AIza``, ``SG.``
    and other known token shapes; a random-looking value after a secret's
    noun (``invalid api key 'X'``, ``token X rejected``); and the exact
    value of every environment variable named for a secret, and of each
    ``known`` value (what a check sent: it knows them), in each of its
    ``sent_forms`` (percent-encoded, JSON- or HTML-escaped). Idempotent:
    ``REDACTED`` stays.
    """
    environment = _environment_secrets()
    head = text[: limit * 4]
    values = all_sent_forms(known)
    if environment is not None or values:
        # Searched a little past the cut, so a value straddling it goes whole.
        pattern, longest = environment or (None, 0)
        head = text[: limit * 4 + max([longest, *map(len, values)])]
        for value in values:
            head = head.replace(value, REDACTED)
        if pattern is not None:
            head = pattern.sub(REDACTED, head)
        head = head[: limit * 4]
    excerpt = " ".join(head.split())
    excerpt = _compiled()[1].sub(_replace, excerpt)
    return excerpt if len(excerpt) <= limit else excerpt[: limit - 1] + "…"
