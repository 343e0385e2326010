"""Who may ask: the bearer token, and the Host header that defends loopback against rebinding.

A web page in the user's browser can point a name it controls at 127.0.0.1
(DNS rebinding) and read the API as if it were the page's own site; the
browser still sends that name as ``Host``. So without a token only the
names of this machine are answered. With a token the token is the guard
(and the API may sit behind a name of the operator's choosing).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

from monitor.config import Config
from monitor.envvars import MissingVariable, expand
from monitor.errors import ConfigError
from monitor.listen import Listen

MIN_TOKEN_CHARS = 16
REALM = 'Bearer realm="monitor"'


def api_token(config: Config, env: Mapping[str, str] | None = None) -> str | None:
    """``[http] token`` from the environment; ConfigError when it is unset or guessable."""
    reference = config.http.token
    if reference is None:
        return None
    try:
        token = expand(reference, os.environ if env is None else env)
    except MissingVariable as missing:
        raise ConfigError.listing(
            config.path,
            [
                f"http.token: ${{{missing}}} is not set in the environment; export it before "
                "`monitor run` (or remove [http] token and listen on 127.0.0.1)"
            ],
        ) from None
    if len(token) < MIN_TOKEN_CHARS:
        raise ConfigError.listing(
            config.path,
            [
                f"http.token: the token in {reference} is shorter than {MIN_TOKEN_CHARS} "
                "characters, easy to guess; make a long one, e.g. "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            ],
        )
    return token


def bearer_matches(authorization: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def host_allowed(host: str | None, listen: Listen) -> bool:
    """Whether ``Host`` names this machine: localhost, a loopback address or the listen address.

    A request without a Host header (HTTP/1.0) comes from no browser, so it passes.
    """
    import ipaddress

    if host is None:
        return True
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    else:
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    name = name.rstrip(".")
    if name in ("localhost", listen.host.lower()):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cross_site(sec_fetch_site: str | None, origin: str | None, host: str | None) -> bool:
    """Whether a browser says the request comes from another site's page.

    ``Sec-Fetch-Site`` is set by the browser, not by the page; ``Origin``,
    when present, must be this service's own (``http://`` and the Host it
    was asked under, which the Host check or the token already vouches
    for). Tools that send neither (the CLI, curl, Prometheus) pass.
    """
    if (sec_fetch_site or "").strip().lower() in ("cross-site", "same-site"):
        return True
    if origin is None:
        return False
    own = f"http://{(host or '').strip().lower()}"
    return origin.strip().lower().rstrip("/") != own
