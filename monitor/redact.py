"""Keep secrets out of what monitor stores, logs and prints.

Status pages are public, but a URL can still carry a token in its query
string; whatever is written down gets the redacted form.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
_SECRET_KEY = re.compile(r"key|token|secret|pass|auth|sig|credential|session", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``https://h/p?api_key=abc&page=2`` -> ``https://h/p?api_key=REDACTED&page=2``.

    User info (``user:pass@``) is replaced too. Unparseable input comes back
    unchanged only if it has neither.
    """
    if "://" not in url and "@" in url:
        # Proxy variables may omit the scheme (user:pass@proxy:8080); httpx adds one.
        return redact_url("http://" + url).removeprefix("http://")
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, REDACTED if _SECRET_KEY.search(k) else v) for k, v in pairs], safe=REDACTED
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_TEXT_SECRETS = (
    # "Bearer abc.def" in echoed headers or error text
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # Anthropic-style keys and OAuth tokens: sk-ant-api03-…, sk-ant-oat01-…
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), "sk-" + REDACTED),
    # JSON or form values of token-like fields
    (
        re.compile(
            r"""(?i)(["']?(?:access_token|refresh_token|id_token|api_key|client_secret|password)["']?\s*[:=]\s*["']?)[^"'&\s,}]+"""
        ),
        r"\1" + REDACTED,
    ),
)


def redact_text(text: str, *, limit: int = 300) -> str:
    """A short, secret-free excerpt of a body or message, safe to store and print.

    Truncated first to bound the work, then scrubbed of bearer tokens,
    ``sk-…`` keys and token-valued fields; whitespace is collapsed to one line.
    """
    excerpt = " ".join(text[: limit * 4].split())
    for pattern, replacement in _TEXT_SECRETS:
        excerpt = pattern.sub(replacement, excerpt)
    return excerpt if len(excerpt) <= limit else excerpt[: limit - 1] + "…"
