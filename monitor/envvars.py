"""``${NAME}`` in the config: values taken from the environment, never written in the file.

Check headers and bodies, an http check URL's query values and the
database URL use it, so a key or a password lives
in the environment (or the service manager's secret store) and the config
file stays safe to share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingVariable(LookupError):
    """A ``${NAME}`` in the config has no value in the environment."""


def expand(value: str, env: Mapping[str, str]) -> str:
    """Replace ``${NAME}`` with the environment's value; MissingVariable names what is unset."""

    def lookup(match: re.Match[str]) -> str:
        name = match[1]
        if not env.get(name):
            raise MissingVariable(name)
        return env[name]

    return VARIABLE.sub(lookup, value)


def encode_query_value(value: str) -> str:
    """How ``expand_query`` writes a value into a query: every reserved character encoded."""
    return quote(value, safe="")


def expand_query(url: str, env: Mapping[str, str]) -> str:
    """``url`` with each ``${NAME}`` in its query filled in, percent-encoded (``+``, ``&``).

    Only the query is read: a reference elsewhere in a check's URL is refused
    when the config is loaded (``monitor.checks.settings``).
    """
    base, mark, query = url.partition("?")
    query, hash_mark, fragment = query.partition("#")
    if not mark:
        return url
    filled = VARIABLE.sub(lambda m: encode_query_value(expand(m[0], env)), query)
    return f"{base}?{filled}{hash_mark}{fragment}"
