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
