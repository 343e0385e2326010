"""When does a local failure window line up with an upstream window, and how well.

Status pages declare late and resolve late, so an upstream window is
widened by ``lead`` before its start and ``lag`` after its end. A failure
*inside* the widened window is explained by it; one that merely overlaps it
(it began well before the vendor's trouble, or outlived it) is explained in
part, which is weaker evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from monitor.correlate.windows import LocalWindow


def host_of(target: str) -> str:
    """The host a check's target names ("POST https://h/x" -> "h", "h:443" -> "h")."""
    text = target.split()[-1] if target.strip() else target
    if "://" in text:
        return urlsplit(text).hostname or text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


Fit = Literal["inside", "overlap"]


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How loosely times line up (``[correlate]`` lead and lag)."""

    lead: timedelta = timedelta(minutes=30)
    lag: timedelta = timedelta(minutes=15)


def fit(
    local: LocalWindow, start: datetime, end: datetime | None, tolerance: Tolerance
) -> Fit | None:
    """``inside`` the widened span ``start``-``end``, ``overlap`` with it, or None.

    A failure window ends where it was last seen failing (``failing_until``):
    the run that ended it may come hours later.
    """
    lo = start - tolerance.lead
    hi = None if end is None else end + tolerance.lag
    until = local.failing_until
    if hi is not None and local.start > hi:
        return None
    if until is not None and until < lo:
        return None
    ends_in_time = hi is None or (until is not None and until <= hi)
    return "inside" if local.start >= lo and ends_in_time else "overlap"


def covers(start: datetime, end: datetime | None, at: datetime, tolerance: Tolerance) -> bool:
    """Whether the span ``start``-``end``, widened by lead and lag, holds the moment ``at``."""
    return start - tolerance.lead <= at and (end is None or at <= end + tolerance.lag)
