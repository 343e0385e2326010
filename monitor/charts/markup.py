"""The page's few HTML helpers, shared by every section of ``index.html``.

Apart from ``page`` so that a section in its own module (declared versus
seen) escapes, links and writes times exactly as the rest of the page does,
without importing the page that includes it.
"""

from __future__ import annotations

import html
from datetime import datetime
from urllib.parse import quote, urlsplit

from monitor.escape import for_xml


def escape(text: str) -> str:
    """``text`` for the page, in an element or a quoted attribute: HTML-escaped and XML-safe."""
    return html.escape(for_xml(text), quote=True)


def href(name: str) -> str:
    """A file name in the same folder as a relative link."""
    return escape(quote(name))


def titled(title: str, url: str | None) -> str:
    """A vendor's title, escaped, linked to its URL only when that is http(s).

    A vendor's ``javascript:`` or ``data:`` URL is no link: the page runs no
    script, and a click must not run one either.
    """
    text = escape(title)
    if url and urlsplit(url).scheme in ("http", "https"):
        return f'<a href="{escape(url)}" rel="noopener noreferrer">{text}</a>'
    return text


def time_text(at: datetime) -> str:
    """A time as every table on the page writes it (UTC, to the minute)."""
    return f"{at:%Y-%m-%d %H:%M}"
