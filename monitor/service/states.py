"""One log line per change of state of a check, a source or a job: not one per failing run.

During an outage a check fails every run, five times a minute with the
shipped config; a line for each would bury the news. So a line is logged
when something starts failing (its failure class and detail), when it fails
differently (another class), and when it recovers (after how long); nothing
while the same failure repeats, nothing while all is well. Each line also
carries its facts as fields (``subject``, ``change``, ``failure_class``,
...), which ``--log-format json`` writes as keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.times import format_duration, isoformat_z

log = logging.getLogger("monitor.service")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Failure:
    """What is failing now: its failure class, and since when it has failed at all."""

    state: str
    since: datetime


@dataclass
class StateLog:
    """Tells changes of state apart from repeats, and logs the changes.

    ``ok`` to ``not_modified`` is not news: only entering, changing and
    leaving a failure are. A failure that changes class keeps its start, so
    the recovery says how long the thing failed in all.
    """

    clock: Clock = utcnow
    failing: dict[str, Failure] = field(default_factory=dict)
    notes: dict[str, frozenset[str]] = field(default_factory=dict)

    def forget(self, subjects: set[str]) -> None:
        """Drop ``subjects`` (``check api``) a reload removed: they are not failing any more."""
        for what in subjects:
            self.failing.pop(what, None)
            self.notes.pop(what, None)

    def noted(self, what: str, notes: tuple[str, ...]) -> None:
        """Log each note ``what`` carries (a typo in the allow-list) once, when it first appears.

        A note repeats every poll until the config changes; said once, it is
        not buried, and a reload that brings it back says it again.
        """
        before = self.notes.get(what, frozenset())
        for note in notes:
            if note not in before:
                _log(f"{what}: {note}", subject=what, change="note", detail=note)
        self.notes[what] = frozenset(notes)

    def report(self, what: str, ok: bool, state: str, detail: str) -> None:
        """``what`` (``check api``) ran: ``ok`` or not, its ``state`` (failure class) and detail."""
        now = self.clock()
        before = self.failing.get(what)
        if not ok and before is None:
            self.failing[what] = Failure(state, now)
            _log(
                f"{what} failing: {state}: {detail}",
                subject=what,
                change="failing",
                failure_class=state,
                detail=detail,
                failing_since=isoformat_z(now),
            )
        elif not ok and before is not None and before.state != state:
            self.failing[what] = Failure(state, before.since)
            _log(
                f"{what} failing differently: {state} (was {before.state}, failing for "
                f"{_duration(now - before.since)}): {detail}",
                subject=what,
                change="changed",
                failure_class=state,
                previous_class=before.state,
                detail=detail,
                failing_since=isoformat_z(before.since),
            )
        elif ok and before is not None:
            del self.failing[what]
            _log(
                f"{what} recovered after {_duration(now - before.since)} (was {before.state})",
                subject=what,
                change="recovered",
                previous_class=before.state,
                failing_since=isoformat_z(before.since),
                failed_for_s=round((now - before.since).total_seconds()),
            )


def _log(message: str, **fields: Any) -> None:
    log.warning("[service.state] %s", message, extra={"fields": fields})


def _duration(value: timedelta) -> str:
    """``47m``, ``1h2m``, ``40s``: seconds only while it is under a minute."""
    seconds = max(int(value.total_seconds()), 0)
    shown = seconds if seconds < 60 else seconds - seconds % 60
    return format_duration(timedelta(seconds=shown))
