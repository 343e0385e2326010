"""A status page as ``why`` needs it: its components, its names, and whether it was read.

The store hands over what the poll log says (the last read before the
moment, the first after it, the first failure since); whether that makes
what the page declared then known is decided here, purely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A page last read this long before the moment asked about, with no failed
# poll since, still says what was declared then (pages are polled every few
# minutes, a slow one every half hour).
READ_STALE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Page:
    """A status source as ``why`` needs it: its components, and whether it was read.

    What a page declared at ``moment`` is known when a poll read it after
    then (a page lists its past incidents, so a later read covers earlier
    times), or when it was read shortly before with no failed poll since.
    Otherwise it is unknown, and ``last_read``, ``failing_since`` and
    ``reason`` say since when and why (``polled`` is False for a page never
    polled at all). Unknown is not quiet: "nothing declared" would be a guess.
    """

    source: str
    components: tuple[str, ...] = ()
    polled: bool = True
    moment: datetime | None = None
    names: tuple[str, ...] = ()  # what the vendor is called: the source, the page, its hosts
    read_after: datetime | None = None
    last_read: datetime | None = None
    failing_since: datetime | None = None
    reason: str | None = None

    @property
    def known(self) -> bool:
        if self.read_after is not None:
            return True
        if self.last_read is None or self.failing_since is not None:
            return False
        return self.moment is None or self.moment - self.last_read <= READ_STALE

    def unread(self) -> str:
        """ "the claude status page could not be read from 15:02 UTC (...: connection refused)"."""
        if not self.polled:
            return f"the {self.source} status page has never been read (run `monitor poll`)"
        why = f": {self.reason}" if self.reason else ""
        if self.last_read is None:
            since = f" since {self.failing_since:%Y-%m-%d %H:%M} UTC" if self.failing_since else ""
            return (
                f"the {self.source} status page has never been read (every poll failed{since}{why})"
            )
        last = f"{self.last_read:%Y-%m-%d %H:%M} UTC"
        if self.failing_since is None:
            return f"the {self.source} status page was not read after {last} (no poll since)"
        return (
            f"the {self.source} status page could not be read from "
            f"{self.failing_since:%Y-%m-%d %H:%M} UTC (last read {last}{why})"
        )
