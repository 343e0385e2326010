"""A channel's URL: filled in from the environment to send, masked to show, checked by Apprise.

The URL as written may name ``${VARIABLES}``; the filled-in URL exists only
in memory while a message is sent. Wherever a URL is shown (a log line, an
error, ``monitor notify list``) it is ``masked``: the scheme and the host
when the host is a server's name or address, nothing else, since many
services carry their secret in the URL's host or path (a Telegram bot
token, a Discord webhook, an ntfy topic anyone could read).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from monitor.envvars import VARIABLE, MissingVariable, expand
from monitor.errors import ConfigError
from monitor.redact import REDACTED, redact_text

if TYPE_CHECKING:
    from monitor.notify.settings import NotifySettings

APPRISE_URLS = "https://github.com/caronc/apprise/wiki (each service's URL form)"
_HOSTNAME = re.compile(
    r"^(?:localhost|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::\d{1,5})?$"
)


def masked(url: str) -> str:
    """The URL fit to show: ``json://u:p@127.0.0.1:8080/hook?t=x`` is ``json://127.0.0.1:8080/…``.

    Only a host that reads as a server's name or address (a dotted name, an
    IP address, ``localhost``, an optional numeric port) is shown; anything
    else in the URL is replaced by ``…``.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "…"
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = netloc.rsplit("@", 1)[-1]
    shown = host if host and _HOSTNAME.match(host) else "…"
    tail = "/…" if shown != "…" and len(rest) > len(netloc) else ""
    return f"{scheme}://{shown}{tail}"


def expand_url(url: str, env: Mapping[str, str] | None = None) -> str:
    """The URL with each ``${NAME}`` filled in; MissingVariable names one unset."""
    return expand(url, os.environ if env is None else env)


def url_secrets(url: str, env: Mapping[str, str] | None = None) -> set[str]:
    """The values ``${NAME}`` fills into the URL: scrubbed from anything Apprise says."""
    values = os.environ if env is None else env
    return {values[name] for name in VARIABLE.findall(url) if values.get(name)}


def scrub(text: str, url: str, secrets: Collection[str], *, limit: int = 300) -> str:
    """Outside text about a delivery (Apprise's error) with the URL and its secrets taken out."""
    text = text.replace(url, masked(url)) if url else text
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return redact_text(text, limit=limit, known=secrets)


def load_apprise() -> ModuleType:
    """Import Apprise (on first use only: it costs more than a whole ``monitor why``).

    Its own log lines can quote a URL with its token; they are kept out of
    the service's log (``deliver`` reads them through Apprise's capture and
    scrubs them before saying anything). Its plugins are loaded here, once:
    the e-mail one imports a module the standard library deprecates, and
    that warning is Apprise's, not ours to raise.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise
        from apprise.manager_plugins import NotificationManager

        NotificationManager().load_modules()  # type: ignore[no-untyped-call]
    logging.getLogger("apprise").propagate = False
    return apprise


def can_read(url: str) -> bool:
    """Whether Apprise knows the scheme and finds what that service needs in the URL."""
    apprise = load_apprise()
    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


def channel_problems(
    channels: Collection[NotifySettings], env: Mapping[str, str] | None = None
) -> list[str]:
    """Each ``[[notify]]`` whose URL cannot be used: a variable unset, or Apprise cannot read it."""
    problems = []
    for index, channel in enumerate(channels):
        key = f'notify[{index}] ("{channel.name}").url'
        try:
            url = expand_url(channel.url, env)
        except MissingVariable as missing:
            problems.append(
                f"{key}: ${{{missing}}} is not set in the environment; set it where "
                "`monitor run` starts (e.g. the service unit's Environment=)"
            )
            continue
        if not can_read(url):
            problems.append(
                f"{key}: Apprise cannot read {masked(channel.url)!r}: check the scheme and the "
                f"parts that service needs, see {APPRISE_URLS}"
            )
    return problems


def check_channels(
    channels: Sequence[NotifySettings],
    config_path: Path,
    env: Mapping[str, str] | None = None,
) -> None:
    """Raise ConfigError, naming the file and each key, when a channel's URL cannot be used."""
    problems = channel_problems(channels, env)
    if problems:
        raise ConfigError.listing(config_path, problems)
