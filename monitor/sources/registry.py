"""Which URLs a source kind polls, and which pure parser reads each one.

Adding a provider means a parser module and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.sources import feed, statusio, statuspage
from monitor.sources.records import Snapshot

Parser = Callable[[bytes], Snapshot]


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    parse: Parser


def _statuspage(url: str) -> tuple[Endpoint, ...]:
    root = statuspage.page_root(url)
    return (
        Endpoint(root + statuspage.SUMMARY_PATH, statuspage.parse_summary),
        Endpoint(root + statuspage.INCIDENTS_PATH, statuspage.parse_incidents),
        Endpoint(root + statuspage.MAINTENANCES_PATH, statuspage.parse_maintenances),
    )


def _single(parser: Parser) -> Callable[[str], tuple[Endpoint, ...]]:
    return lambda url: (Endpoint(url, parser),)


ENDPOINTS: dict[str, Callable[[str], tuple[Endpoint, ...]]] = {
    "statuspage": _statuspage,
    "feed": _single(feed.parse),
    "statusio": _single(statusio.parse),
}


def endpoints_for(kind: str, url: str) -> tuple[Endpoint, ...]:
    """The endpoints to poll for a source; config validation guarantees ``kind`` is known."""
    return ENDPOINTS[kind](url)
