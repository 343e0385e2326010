"""``[[notify]]`` entries: where to say that the answer changed, and which answers to say.

The URL is an Apprise URL (``json://``, ``ntfy://``, ``mailto://``,
``slack://`` ...). A secret in it comes from the environment
(``json://hooks.example.com/${HOOK_TOKEN}``), filled in only when a message is
sent, so the file stays safe to share. Whether Apprise can read the URL is
asked where notifications are used (``monitor run``, ``monitor notify``):
importing Apprise costs more than a whole ``monitor why``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from monitor.configtypes import Duration, Name, Section

# The verdicts of monitor.correlate.verdict.VERDICTS (tests/test_notify_config.py
# holds the two together); a Literal here keeps the correlator out of config loading.
VerdictName = Literal["upstream", "local", "network", "inconclusive", "healthy", "no_data"]
VERDICT_NAMES: tuple[VerdictName, ...] = (
    "upstream",
    "local",
    "network",
    "inconclusive",
    "healthy",
    "no_data",
)
ConfidenceName = Literal["low", "medium", "high"]
DEFAULT_HOLD = timedelta(minutes=2)

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S")


def _apprise_url(value: str) -> str:
    if not _SCHEME.match(value) or any(c.isspace() for c in value):
        # Quoted short: what follows may be a secret written into the file.
        scheme, separator, _ = value.partition("://")
        shown = f"{scheme}://…" if separator else value[:12] + ("…" if len(value) > 12 else "")
        raise ValueError(
            "expected an Apprise URL such as 'ntfy://ntfy.sh/my-topic', "
            f"'json://host:port/path' or 'mailto://user:${{SMTP_PASSWORD}}@example.com', "
            f"got {shown!r}"
        )
    return value


def _a_string(value: object) -> object:
    # Said here, not by the generic "expected a string, got ..." that quotes the
    # value: a URL written as a list or table still holds its secret.
    if not isinstance(value, str):
        kind = "an array" if isinstance(value, list) else "a table"
        kind = kind if isinstance(value, list | dict) else type(value).__name__
        raise ValueError(
            f'expected an Apprise URL as a string ("ntfy://ntfy.sh/my-topic"), got {kind}'
        )
    return value


AppriseUrl = Annotated[str, BeforeValidator(_a_string), AfterValidator(_apprise_url)]


class NotifySettings(Section):
    """One ``[[notify]]``: a channel, the answers it is told, and how long an answer must hold.

    ``on`` lists the verdicts worth a message (default: all) and
    ``min_confidence`` leaves out weaker answers; both choose what starts a
    conversation, never what ends it: a channel told of a failure is told of
    every change away from it, and when it is over. ``hold`` is how long a new
    answer must stand before it is sent: an answer that flips back sooner
    sends nothing.
    """

    name: Name
    url: AppriseUrl
    on: list[VerdictName] = Field(default_factory=lambda: list(VERDICT_NAMES))
    min_confidence: ConfidenceName = "low"
    hold: Duration = DEFAULT_HOLD
