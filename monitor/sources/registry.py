"""The source kinds: which URLs each polls, and which pure parser reads each one.

Adding a provider means a parser module, its name in ``SourceKind`` (the
config accepts exactly these) and one entry in ``ENDPOINTS``. Parsers are
imported on first use: loading the config never loads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Literal

from monitor.sources.records import Snapshot

SourceKind = Literal["statuspage", "feed", "statusio"]
Parser = Callable[[bytes], Snapshot]


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    parse: Parser


def _statuspage(url: str) -> tuple[Endpoint, ...]:
    from monitor.sources import statuspage

    root = statuspage.page_root(url)
    return (
        Endpoint(root + statuspage.SUMMARY_PATH, statuspage.parse_summary),
        Endpoint(root + statuspage.INCIDENTS_PATH, statuspage.parse_incidents),
        Endpoint(root + statuspage.MAINTENANCES_PATH, statuspage.parse_maintenances),
    )


def _single(module: str) -> Callable[[str], tuple[Endpoint, ...]]:
    """One URL, read by ``parse`` of ``monitor.sources.<module>``."""
    return lambda url: (Endpoint(url, import_module(f"monitor.sources.{module}").parse),)


ENDPOINTS: dict[SourceKind, Callable[[str], tuple[Endpoint, ...]]] = {
    "statuspage": _statuspage,
    "feed": _single("feed"),
    "statusio": _single("statusio"),
}


def endpoints_for(kind: SourceKind, url: str) -> tuple[Endpoint, ...]:
    """The endpoints to poll for a source; config validation guarantees ``kind`` is known."""
    return ENDPOINTS[kind](url)
