"""``${NAME}`` in the config: values taken from the environment, never written in the file.

Check headers and the database URL both use it, so a key or a password lives
in the environment (or the service manager's secret store) and the config
file stays safe to share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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
